import { POINT_TAGS } from '../lib/domain';
import { PERIOD_RULES, periodKey, type PeriodRule } from './periods';

/**
 * The retention policy as a pure function: which recovery points to keep and
 * why. No I/O, no clock (the caller passes `now`), so plans are reproducible
 * and the rules are tested against hand-computed tables
 * (test/retention/policy.test.ts). Semantics are restic's `forget`
 * (docs/retention.md), applied per source.
 */

/** The rules of one source. 0 (or absent) turns a rule off. */
export interface KeepRules {
  /** The newest N points. */
  readonly keepLast: number;
  /** The newest point of each of the last N hours that have one. */
  readonly keepHourly: number;
  readonly keepDaily: number;
  /** ISO weeks (Monday to Sunday). */
  readonly keepWeekly: number;
  readonly keepMonthly: number;
  readonly keepYearly: number;
  /** Every point newer than this many ms before the source's newest point. @default 0 */
  readonly keepWithin?: number;
  /** Every point carrying one of these tags. @default [] */
  readonly keepTags?: readonly string[];
}

/** Rules for restore safety backups (tag `safety`), which are no source's backups. */
export interface SafetyRules {
  /** Kept while younger than this (ms, measured from `now`). */
  readonly keepWithin: number;
  /** The newest N safety points whatever their age. */
  readonly keepLast: number;
}

export interface PolicyPoint {
  readonly id: string;
  /** ISO 8601. */
  readonly time: string;
  readonly tags: readonly string[];
  /** Sources the point holds (a manual backup may hold only some). */
  readonly sources: readonly string[];
  readonly hold?: { readonly reason: string };
}

export interface PolicyInput {
  readonly points: readonly PolicyPoint[];
  /** Effective rules of a source (its own, else the global ones). */
  readonly rulesFor: (source: string) => KeepRules;
  /** IANA zone in which hours, days, weeks, months and years begin. */
  readonly timezone: string;
  readonly safety: SafetyRules;
  /** Epoch ms; only the safety rule looks at it. */
  readonly now: number;
  /**
   * Points known to pass verification. The newest of these per source is
   * always kept. Absent: every point counts as verified.
   */
  readonly verified?: ReadonlySet<string>;
}

export interface PointDecision {
  id: string;
  time: string;
  sources: string[];
  safety: boolean;
  keep: boolean;
  /** Why it is kept, e.g. "hold: audit 2026-11", "sessions: daily 2026-11-30"; empty when removed. */
  reasons: string[];
}

export interface RetentionPlan {
  timezone: string;
  /** Newest first. */
  points: PointDecision[];
  keep: string[];
  remove: string[];
}

export const SAFETY_TAG = POINT_TAGS.safety;

const RULE_COUNT: Record<PeriodRule, keyof KeepRules> = {
  hourly: 'keepHourly',
  daily: 'keepDaily',
  weekly: 'keepWeekly',
  monthly: 'keepMonthly',
  yearly: 'keepYearly',
};

const newestFirst = (a: { ms: number; id: string }, b: { ms: number; id: string }) =>
  b.ms - a.ms || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** A short duration for reasons: "30d", "36h", "90m". */
export function shortDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [u, n] of units) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

interface Entry {
  p: PolicyPoint;
  ms: number;
  id: string;
  reasons: string[];
}

/**
 * restic's algorithm over one group, newest first: keep-last keeps the first
 * N; each period rule keeps a point when its period differs from the last
 * period that rule kept, while the rule has counts left, and also keeps the
 * group's oldest point if counts are left then (so a young repository keeps
 * its longest history); keep-within and keep-tag keep what matches.
 */
function applyRules(group: Entry[], rules: KeepRules, timezone: string, label: string): void {
  const counts = new Map<PeriodRule, number>(PERIOD_RULES.map((r) => [r, Number(rules[RULE_COUNT[r]]) || 0]));
  const lastKey = new Map<PeriodRule, string>();
  const newest = group[0]?.ms ?? 0;
  const within = rules.keepWithin ?? 0;
  const tags = rules.keepTags ?? [];
  group.forEach((e, i) => {
    const oldest = i === group.length - 1;
    if (i < rules.keepLast) e.reasons.push(`${label}: last ${i + 1}`);
    for (const rule of PERIOD_RULES) {
      const left = counts.get(rule)!;
      if (left <= 0) continue;
      const key = periodKey(rule, e.ms, timezone);
      if (key !== lastKey.get(rule)) {
        e.reasons.push(`${label}: ${rule} ${key}`);
      } else if (oldest) {
        e.reasons.push(`${label}: ${rule} ${key} (oldest)`);
      } else continue;
      lastKey.set(rule, key);
      counts.set(rule, left - 1);
    }
    if (within > 0 && e.ms > newest - within) e.reasons.push(`${label}: within ${shortDuration(within)}`);
    const tag = tags.find((t) => e.p.tags.includes(t));
    if (tag !== undefined) e.reasons.push(`${label}: tag ${tag}`);
  });
}

/**
 * Decides every point: per source, the source's rules over the (non-safety)
 * points that hold it; safety points by the safety rules; held points always
 * kept; the newest verified point of each source always kept. A point is
 * removed only when nothing keeps it.
 */
export function planRetention(input: PolicyInput): RetentionPlan {
  const entries: Entry[] = input.points.map((p) => {
    const ms = Date.parse(p.time);
    if (!Number.isFinite(ms)) throw new RangeError(`recovery point ${p.id} has no valid time (${p.time})`);
    return { p, ms, id: p.id, reasons: p.hold ? [`hold: ${p.hold.reason}`] : [] };
  });
  entries.sort(newestFirst);

  const safety = entries.filter((e) => e.p.tags.includes(SAFETY_TAG));
  safety.forEach((e, i) => {
    if (i < input.safety.keepLast) e.reasons.push(`safety: last ${i + 1}`);
    if (input.safety.keepWithin > 0 && e.ms > input.now - input.safety.keepWithin)
      e.reasons.push(`safety: within ${shortDuration(input.safety.keepWithin)}`);
  });

  const regular = entries.filter((e) => !e.p.tags.includes(SAFETY_TAG));
  const sources = [...new Set(regular.flatMap((e) => e.p.sources))].sort();
  for (const source of sources) {
    const group = regular.filter((e) => e.p.sources.includes(source));
    applyRules(group, input.rulesFor(source), input.timezone, source);
    const verified = input.verified;
    const newestVerified = verified ? group.find((e) => verified.has(e.id)) : group[0];
    if (newestVerified) newestVerified.reasons.push(`${source}: newest verified`);
    else group[0].reasons.push(`${source}: newest (none verified)`);
  }

  const points: PointDecision[] = entries.map((e) => ({
    id: e.id,
    time: e.p.time,
    sources: [...e.p.sources],
    safety: e.p.tags.includes(SAFETY_TAG),
    keep: e.reasons.length > 0,
    reasons: e.reasons,
  }));
  return {
    timezone: input.timezone,
    points,
    keep: points.filter((p) => p.keep).map((p) => p.id),
    remove: points.filter((p) => !p.keep).map((p) => p.id),
  };
}
