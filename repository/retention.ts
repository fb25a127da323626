/**
 * Retention planning: which recovery points a policy keeps, and why.
 *
 * Pure (no I/O): the same points, policy and clock always give the same plan,
 * so `forget --policy` can show a plan and `--confirm` can apply exactly it.
 * Semantics follow restic `forget`: each bucket rule keeps the newest point of
 * each of the last N periods that have a point (-1 = every period), keep-last
 * keeps the newest N, keep-within keeps points younger than a duration measured
 * from the newest point, keep-tag keeps tagged points; a point kept by any rule
 * is kept. Lifeboat adds: rules apply per source, safety points have their own
 * rule, held and damaged points are always kept, and the newest point of each
 * source is always kept.
 */
import { POINT_TAGS } from '../lib/domain';
import type { RecoveryPoint } from './types';

export interface RetentionPolicy {
  /** 0 = off, -1 = unlimited. */
  readonly keepLast: number;
  readonly keepHourly: number;
  readonly keepDaily: number;
  readonly keepWeekly: number;
  readonly keepMonthly: number;
  readonly keepYearly: number;
  /** Keep points younger than this (ms) relative to the newest point of the source. */
  readonly keepWithin?: number;
  /** Keep points carrying any of these tags. */
  readonly keepTags?: readonly string[];
  /** Safety points younger than this (ms, relative to `now`) are kept. @default 7 days */
  readonly keepSafetyWithin?: number;
}

export interface RetentionOptions {
  now: Date;
  /** IANA time zone for period boundaries. @default 'UTC' */
  timezone?: string;
  /** Plan only these sources; a point holding none of them is kept ("not in scope"). @default every source */
  sources?: readonly string[];
}

export interface RetentionDecision {
  id: string;
  time: string;
  keep: boolean;
  reasons: string[];
}

export const DEFAULT_KEEP_SAFETY_WITHIN = 7 * 24 * 3_600_000;

/** Sources a point holds (artifact order, deduplicated). */
export function pointSources(rp: RecoveryPoint): string[] {
  return [...new Set(rp.artifacts.map((a) => a.source))];
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Calendar fields of `t` in `timezone`; throws RangeError naming the zone when it is unknown. */
function localTimer(timezone: string): (t: Date) => LocalTime {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
    });
  } catch {
    throw new RangeError(`unknown time zone "${timezone}"; use an IANA name such as UTC or Europe/Berlin`);
  }
  return (t) => {
    const parts: Record<string, number> = {};
    for (const p of fmt.formatToParts(t)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour % 24 };
  };
}

/** ISO 8601 week of a calendar date: the week's Thursday decides the year. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
  d.setUTCDate(d.getUTCDate() - dow + 3); // Thursday of this week
  const wyear = d.getUTCFullYear();
  const week = 1 + Math.floor((d.getTime() - Date.UTC(wyear, 0, 1)) / (7 * 86_400_000));
  return { year: wyear, week };
}

type BucketRule = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
const BUCKET_RULES: readonly [BucketRule, keyof RetentionPolicy][] = [
  ['hourly', 'keepHourly'],
  ['daily', 'keepDaily'],
  ['weekly', 'keepWeekly'],
  ['monthly', 'keepMonthly'],
  ['yearly', 'keepYearly'],
];

function bucketKey(rule: BucketRule, l: LocalTime): string {
  switch (rule) {
    case 'hourly':
      return `${l.year}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}h`;
    case 'daily':
      return `${l.year}-${pad(l.month)}-${pad(l.day)}`;
    case 'weekly': {
      const w = isoWeek(l.year, l.month, l.day);
      return `${w.year}-W${pad(w.week)}`;
    }
    case 'monthly':
      return `${l.year}-${pad(l.month)}`;
    case 'yearly':
      return String(l.year);
  }
}

function formatMs(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [u, n] of units) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

/**
 * Decide, for every point, whether the policy keeps it and why. Returned newest first.
 * `policy` may be a function giving each source its own (effective) policy.
 */
export function planRetention(
  points: readonly RecoveryPoint[],
  policy: RetentionPolicy | ((source: string) => RetentionPolicy),
  opts: RetentionOptions,
): RetentionDecision[] {
  const local = localTimer(opts.timezone ?? 'UTC');
  const policyFor = typeof policy === 'function' ? policy : () => policy;
  const sorted = [...points].sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || (a.id < b.id ? 1 : -1));
  const reasons = new Map<string, string[]>(sorted.map((p) => [p.id, []]));
  const add = (id: string, why: string): void => void reasons.get(id)!.push(why);
  const inScope = (s: string): boolean => !opts.sources || opts.sources.includes(s);

  // Points that never enter per-source counting.
  const counted: RecoveryPoint[] = [];
  for (const rp of sorted) {
    if (rp.hold) add(rp.id, `legal hold: ${rp.hold.reason}`);
    if (rp.damaged) {
      add(rp.id, `damaged, kept for inspection: ${rp.damaged}`);
      continue;
    }
    if (rp.tags.includes(POINT_TAGS.safety)) {
      const within = policyFor(pointSources(rp)[0] ?? '').keepSafetyWithin ?? DEFAULT_KEEP_SAFETY_WITHIN;
      if (opts.now.getTime() - Date.parse(rp.time) < within) add(rp.id, `safety within ${formatMs(within)}`);
      continue;
    }
    const srcs = pointSources(rp);
    if (srcs.length === 0) add(rp.id, 'holds no source');
    else if (!srcs.some(inScope)) add(rp.id, 'not in scope');
    counted.push(rp);
  }

  const allSources = [...new Set(counted.flatMap(pointSources))].filter(inScope).sort();
  for (const source of allSources) {
    const pol = policyFor(source);
    const mine = counted.filter((rp) => pointSources(rp).includes(source));
    if (mine.length === 0) continue;
    const tag = ` (${source})`;
    add(mine[0].id, `newest of ${source}`);

    if (pol.keepLast !== 0) {
      const n = pol.keepLast < 0 ? mine.length : Math.min(pol.keepLast, mine.length);
      for (let i = 0; i < n; i++) add(mine[i].id, `last ${i + 1}${tag}`);
    }
    for (const [rule, key] of BUCKET_RULES) {
      let left = pol[key] as number;
      if (left === 0) continue;
      let last: string | undefined;
      for (const rp of mine) {
        if (left === 0) break;
        const k = bucketKey(rule, local(new Date(rp.time)));
        if (k === last) continue;
        last = k;
        add(rp.id, `${rule} ${k}${tag}`);
        if (left > 0) left--;
      }
    }
    if (pol.keepWithin !== undefined && pol.keepWithin > 0) {
      const newest = Date.parse(mine[0].time);
      for (const rp of mine) {
        if (newest - Date.parse(rp.time) < pol.keepWithin) add(rp.id, `within ${formatMs(pol.keepWithin)}${tag}`);
      }
    }
    for (const t of pol.keepTags ?? []) {
      for (const rp of mine) if (rp.tags.includes(t)) add(rp.id, `tag ${t}${tag}`);
    }
  }

  return sorted.map((rp) => {
    const why = reasons.get(rp.id)!;
    return { id: rp.id, time: rp.time, keep: why.length > 0, reasons: why };
  });
}
