const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

const FORM =
  'five fields: minute hour day-of-month month day-of-week, e.g. "0 * * * *" (hourly) or "30 3 * * *" (03:30 daily)';

/**
 * Problems with a 5-field cron expression as Temporal Schedules read it
 * (`*`, lists, ranges, steps, JAN-DEC, SUN-SAT), or an empty list. Checked
 * here so a typo fails at config time, not when `schedules apply` talks to
 * the server.
 */
export function cronProblems(expr: string): string[] {
  const parts = expr.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 5)
    return [`"${expr}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron needs ${FORM}`];
  const problems: string[] = [];
  parts.forEach((part, i) => {
    const f = FIELDS[i];
    const names: readonly string[] = 'names' in f ? f.names : [];
    const value = (s: string): number | undefined => {
      if (/^\d+$/.test(s)) return Number(s);
      const k = names.indexOf(s.toUpperCase());
      if (k >= 0) return k + f.min;
      return undefined;
    };
    for (const item of part.split(',')) {
      const m = /^([^/]+)(?:\/(\d+))?$/.exec(item);
      const bad = () =>
        problems.push(
          `"${expr}": ${f.name} "${part}" is not valid; use a number ${f.min}-${f.max}${names.length ? ` or ${names[0]}-${names[names.length - 1]}` : ''}, a range a-b, a list a,b, "*" or a step "*/n"`,
        );
      if (!m) return bad();
      const [, range, step] = m;
      if (step !== undefined && (Number(step) < 1 || Number(step) > f.max)) return bad();
      if (range === '*') continue;
      const ends = range.split('-');
      if (ends.length > 2) return bad();
      const nums = ends.map(value);
      if (nums.some((n) => n === undefined)) return bad();
      if (nums.some((n) => n! < f.min || n! > f.max)) {
        problems.push(`"${expr}": ${f.name} "${part}" is out of range; use ${f.min}-${f.max}`);
        return;
      }
      if (nums.length === 2 && nums[0]! > nums[1]!) {
        problems.push(`"${expr}": ${f.name} range "${range}" goes backwards; write the smaller number first`);
        return;
      }
    }
  });
  return problems;
}
