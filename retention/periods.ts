/**
 * Calendar periods of a point in time, in a given IANA time zone, for the
 * retention rules. Computed with Intl (the runtime's tz database), so DST
 * changes and month lengths are the zone's own. Keys sort like the periods
 * and are what a plan prints ("2026-11-30", "2026-W48").
 */

export const PERIOD_RULES = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type PeriodRule = (typeof PERIOD_RULES)[number];

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: the config checks zones at the edge (isTimeZone).
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows `tz` as an IANA time zone. */
export function isTimeZone(tz: string): boolean {
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock year, month (1-12), day and hour (0-23) of `ms` in `timeZone`. */
export function localTime(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO 8601 week-numbering year and week (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const dow = (new Date(date).getUTCDay() + 6) % 7; // Monday 0 ... Sunday 6
  const thursday = new Date(date + (3 - dow) * 86_400_000);
  const y = thursday.getUTCFullYear();
  const dayOfYear = Math.floor((thursday.getTime() - Date.UTC(y, 0, 1)) / 86_400_000);
  return { year: y, week: 1 + Math.floor(dayOfYear / 7) };
}

/**
 * The period of `ms` for a rule, as a readable, sortable key. Hours are wall
 * clock hours, as restic counts them: on the night the clocks go back, the
 * repeated hour is one period.
 */
export function periodKey(rule: PeriodRule, ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone);
  switch (rule) {
    case 'hourly':
      return `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}`;
    case 'daily':
      return `${t.year}-${pad(t.month)}-${pad(t.day)}`;
    case 'weekly': {
      const w = isoWeek(t.year, t.month, t.day);
      return `${w.year}-W${pad(w.week)}`;
    }
    case 'monthly':
      return `${t.year}-${pad(t.month)}`;
    case 'yearly':
      return `${t.year}`;
  }
}
