/**
 * The retention plan of the configured repository: the config's policy (per source, with
 * command-line overrides), the repository's points and holds, and what is known to be verified
 * (records `verifications` and passed drills). Shared by `lifeboat forget --policy`,
 * `lifeboat prune --dry-run` and the prune workflow's planning activity, so all three decide alike.
 */
import { RETENTION_SETTINGS_DEFAULTS } from '../config/parse-retention';
import type { LifeboatConfig, Retention } from '../config/types';
import { DRILL_RECORD_KIND, VERIFICATION_RECORD_KIND } from '../lib/drill';
import type { RetentionOverrides } from '../lib/prune';
import type { RecoveryPoint, Repository } from '../repository';
import { planRetention, type KeepRules, type PointDecision } from '../retention/policy';

export type RetentionDecision = Pick<PointDecision, 'id' | 'time' | 'keep' | 'reasons'> & { sources: string[] };

export interface ConfiguredRetentionPlan {
  timezone: string;
  /** Newest first. */
  points: RetentionDecision[];
  /** Ids the plan removes, newest first. */
  remove: string[];
  /** Points counted as verified (the newest of these per source is always kept). */
  verified: string[];
}

const RULE_KEYS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/** The effective rules of a source: its own `retention`, else the global one, then the overrides. */
export function rulesFor(config: LifeboatConfig, o: RetentionOverrides = {}): (source: string) => KeepRules {
  return (source) => {
    const base: Retention = config.sources.find((s) => s.name === source)?.retention ?? config.retention;
    const p: { -readonly [K in keyof KeepRules]: KeepRules[K] } = { ...base };
    for (const k of RULE_KEYS) if (o[k] !== undefined) p[k] = o[k];
    if (o.keepWithin !== undefined) p.keepWithin = o.keepWithin;
    if (o.keepTags?.length) p.keepTags = o.keepTags;
    return p;
  };
}

/**
 * Points proven good: a passing verification record, or a passed drill. A damaged or unreadable
 * record proves nothing (and hides nothing else).
 */
export async function verifiedPoints(repo: Repository): Promise<Set<string>> {
  const [verifications, drills] = await Promise.all([
    repo.records.list<{ recoveryPointId?: unknown; ok?: unknown }>(VERIFICATION_RECORD_KIND),
    repo.records.list<{ recoveryPointId?: unknown; ok?: unknown }>(DRILL_RECORD_KIND),
  ]);
  const out = new Set<string>();
  for (const r of [...verifications.records, ...drills.records])
    if (r.body?.ok === true && typeof r.body.recoveryPointId === 'string') out.add(r.body.recoveryPointId);
  return out;
}

/** Decides every point of the repository (newest first); damaged points are kept for inspection. */
export function decide(
  config: LifeboatConfig,
  points: readonly RecoveryPoint[],
  verified: ReadonlySet<string>,
  overrides: RetentionOverrides = {},
  now = Date.now(),
): ConfiguredRetentionPlan {
  const settings = config.retentionSettings ?? RETENTION_SETTINGS_DEFAULTS;
  const sourcesOf = (p: RecoveryPoint) => [...new Set(p.artifacts.map((a) => a.source))];
  const planned = planRetention({
    points: points
      .filter((p) => !p.damaged)
      .map((p) => ({ id: p.id, time: p.time, tags: p.tags, hold: p.hold, sources: sourcesOf(p) })),
    rulesFor: rulesFor(config, overrides),
    timezone: settings.timezone,
    safety: settings.safety,
    now,
    verified,
  });
  const decisions: RetentionDecision[] = [
    ...planned.points.map((d) => ({ id: d.id, time: d.time, keep: d.keep, reasons: d.reasons, sources: d.sources })),
    ...points
      .filter((p) => p.damaged)
      .map((p) => ({
        id: p.id,
        time: p.time,
        keep: true,
        reasons: [`damaged, kept for inspection: ${p.damaged}`],
        sources: [],
      })),
  ].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : a.id < b.id ? 1 : -1));
  return {
    timezone: settings.timezone,
    points: decisions,
    remove: decisions.filter((d) => !d.keep).map((d) => d.id),
    verified: [...verified].filter((id) => points.some((p) => p.id === id)).sort(),
  };
}

/** The plan for the repository as it is now. */
export async function planConfiguredRetention(
  repo: Repository,
  config: LifeboatConfig,
  overrides: RetentionOverrides = {},
  now = Date.now(),
): Promise<ConfiguredRetentionPlan> {
  const [points, verified] = await Promise.all([repo.listRecoveryPoints(), verifiedPoints(repo)]);
  return decide(config, points, verified, overrides, now);
}
