import { cronProblems } from './cron';
import { formatDuration } from './duration';
import { at, bool, type Checker, duration, int, isAbsent, list, mapping, str } from './check';
import { closest } from './suggest';
import type {
  ScheduleConfig,
  SchedulesConfig,
  SourceConfig,
  SourceScheduleConfig,
  VerifyScheduleConfig,
} from './types';

const KINDS = ['backup', 'verify', 'drill', 'prune'] as const;
type Kind = (typeof KINDS)[number];
const BASE_KEYS = ['cron', 'every', 'paused', 'timezone'] as const;
const EXTRA_KEYS: Record<Kind, readonly string[]> = {
  backup: ['sources'],
  drill: ['sources'],
  verify: ['readData', 'subsetPercent'],
  prune: [],
};
const DEFAULT_CATCHUP_WINDOW = 10 * 60_000;
/** Temporal refuses a shorter catch-up window. */
const MIN_CATCHUP_WINDOW = 10_000;

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function parseBase(c: Checker, o: Record<string, unknown>, p: string): ScheduleConfig | undefined {
  const before = c.problems.length;
  const hasCron = !isAbsent(o.cron);
  const hasEvery = !isAbsent(o.every);
  if (hasCron && hasEvery) c.add(p, 'gives both cron and every; use one, e.g. { every: 1h } or { cron: "0 * * * *" }');
  if (!hasCron && !hasEvery) c.add(p, 'needs cron or every, e.g. { every: 1h } or { cron: "0 * * * *" }');
  const cron = str(c, o.cron, at(p, 'cron'), { hint: 'e.g. "0 * * * *"' });
  if (cron !== undefined) for (const m of cronProblems(cron)) c.add(at(p, 'cron'), m, cron);
  const every = duration(c, o.every, at(p, 'every'), 1000);
  const paused = bool(c, o.paused, at(p, 'paused')) ?? false;
  const timezone = str(c, o.timezone, at(p, 'timezone'), { hint: 'an IANA time zone such as UTC or Europe/Paris' });
  if (timezone !== undefined && !validTimezone(timezone))
    c.add(
      at(p, 'timezone'),
      `"${timezone}" is not a time zone; use an IANA name such as UTC or Europe/Paris`,
      timezone,
    );
  if (timezone !== undefined && hasEvery && !hasCron)
    c.add(at(p, 'timezone'), 'applies to cron only; an every: interval has no time of day');
  if (c.problems.length > before) return undefined;
  const trigger = cron !== undefined ? { cron: cron.replace(/\s+/g, ' ') } : { every: every! };
  return { ...trigger, paused, timezone: timezone ?? 'UTC' };
}

function parseSourceNames(
  c: Checker,
  raw: unknown,
  p: string,
  sourceNames: readonly string[] | undefined,
): string[] | undefined {
  const items = list(c, raw, p, 'sources: [sessions, embeddings]');
  if (!items) return undefined;
  if (items.length === 0) {
    c.add(p, 'is empty; list source names, or remove sources: to cover every source');
    return undefined;
  }
  const out: string[] = [];
  items.forEach((v, i) => {
    const n = str(c, v, at(p, i));
    if (n === undefined) return;
    // Without a valid sources list the names cannot be checked; that list has its own problem.
    if (sourceNames && !sourceNames.includes(n)) {
      const guess = closest(n, sourceNames);
      c.add(
        at(p, i),
        `"${n}" is not a configured source; ${guess ? `did you mean "${guess}"? ` : ''}configured sources: ${sourceNames.join(', ') || 'none'}`,
        n,
      );
      return;
    }
    if (out.includes(n)) c.add(at(p, i), `"${n}" is listed twice`, n);
    else out.push(n);
  });
  return out;
}

/**
 * `schedules:`. `sourceNames` are the names declared in `sources:` (undefined
 * when that is not even a list); `sources` the parsed ones, for warnings.
 */
export function parseSchedules(
  c: Checker,
  raw: unknown,
  sourceNames: readonly string[] | undefined,
  sources: readonly SourceConfig[] | undefined,
): SchedulesConfig {
  const p = 'schedules';
  const catchupDefault = { catchupWindow: DEFAULT_CATCHUP_WINDOW };
  if (isAbsent(raw)) return catchupDefault;
  const o = mapping(c, raw, p, [...KINDS, 'catchupWindow'], { example: '{ backup: { every: 1h } }' });
  if (!o) return catchupDefault;
  const out: { -readonly [K in keyof SchedulesConfig]: SchedulesConfig[K] } = {
    catchupWindow: duration(c, o.catchupWindow, at(p, 'catchupWindow'), MIN_CATCHUP_WINDOW) ?? DEFAULT_CATCHUP_WINDOW,
  };
  for (const kind of KINDS) {
    if (isAbsent(o[kind])) continue;
    const kp = at(p, kind);
    const so = mapping(c, o[kind], kp, [...BASE_KEYS, ...EXTRA_KEYS[kind]], {
      example: '{ every: 1h } or { cron: "0 * * * *" }',
    });
    if (!so) continue;
    const base = parseBase(c, so, kp);
    if (kind === 'verify') {
      const readData = bool(c, so.readData, at(kp, 'readData')) ?? false;
      const subset = int(c, so.subsetPercent, at(kp, 'subsetPercent'), 1, 100);
      if (subset !== undefined && !readData)
        c.add(
          at(kp, 'subsetPercent'),
          'applies only when reading data; add readData: true or remove subsetPercent',
          subset,
        );
      if (base) out.verify = { ...base, readData, subsetPercent: subset ?? 100 } satisfies VerifyScheduleConfig;
    } else if (kind === 'backup' || kind === 'drill') {
      const names = isAbsent(so.sources) ? undefined : parseSourceNames(c, so.sources, at(kp, 'sources'), sourceNames);
      if (base) out[kind] = { ...base, ...(names ? { sources: names } : {}) } satisfies SourceScheduleConfig;
    } else if (base) out.prune = base;
  }
  if (out.backup?.every !== undefined && sources) {
    const covered = sources.filter((s) => !out.backup!.sources || out.backup!.sources.includes(s.name));
    for (const s of covered) {
      if (out.backup.every > s.targets.rpo) {
        c.warnings.push(
          `schedules.backup.every is ${formatDuration(out.backup.every)}, longer than the RPO target of source ${s.name} (${formatDuration(s.targets.rpo)}): backups this rare cannot meet it`,
        );
      }
    }
  }
  return out;
}
