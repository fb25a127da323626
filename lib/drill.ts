/**
 * Restore drills: the shapes shared by the drill workflow, its activities, the
 * `drills` records in the repository and the status/report commands. Pure (the
 * workflow bundle imports it): no Node APIs.
 */
import type { RestoreTargetOverride, SourceType } from './domain';

/** Record kind of drill results in the repository (`records/drills/<id>`). */
export const DRILL_RECORD_KIND = 'drills';
/** Record kind of recovery point verification results (`records/verifications/<point id>`). */
export const VERIFICATION_RECORD_KIND = 'verifications';

/** Every temporary Qdrant collection of a drill starts with this; cleanup finds them by it. */
export const drillCollectionPrefix = (drillId: string) => `lifeboat-drill-${drillId.toLowerCase()}-`;
export const drillCollectionName = (drillId: string, collection: string) =>
  `${drillCollectionPrefix(drillId)}${collection}`;

/**
 * A drill id: the start time (sortable, like a recovery point id) and the tail of
 * the workflow run id, e.g. `20261201T214600Z-3f9a1c2b`.
 */
export function drillIdFor(start: Date, runId: string): string {
  const t = start
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${runId.replace(/-/g, '').slice(-8)}`;
}

export interface DrillInput {
  /** Recovery point id, unique prefix or "latest". @default the newest point holding every drilled source */
  recoveryPointId?: string;
  /** Source names. @default every configured source */
  sources?: string[];
  /** Who started it: "cli", "schedule", "client". @default 'cli' */
  trigger?: string;
  /** Test hook: keep the scratch targets alive this long after restoring (to observe or cancel mid-drill). */
  holdMs?: number;
}

/** Where one source is restored during a drill, and what has to be removed afterwards. */
export interface DrillTarget {
  source: string;
  type: SourceType;
  /** Passed to restoreWorkflow as this source's target override. */
  override: RestoreTargetOverride;
  /** Printable target, e.g. "redis://127.0.0.1:40211 (throw-away redis-server)". */
  description: string;
  /** The scratch target's address for user checks (URL, path or collection). */
  address: string;
  /** What the drill set up for it: a throw-away redis-server, a scratch folder, a temporary collection, or a spare. */
  scratch: 'redis-server' | 'directory' | 'collection' | 'spare-redis';
  /** The source's RTO target (from the config), to compare the measured RTO with. */
  rtoTargetMs: number;
}

export interface DrillPlan {
  drillId: string;
  recoveryPointId: string;
  /** ISO time of the recovery point. */
  recoveryPointTime: string;
  /** In restore order. */
  targets: DrillTarget[];
}

export interface DrillCheckResult {
  name: string;
  ok: boolean;
  exitCode: number | null;
  durationMs: number;
  /** Last part of stdout and stderr together. */
  output: string;
}

export interface DrillSourceResult {
  source: string;
  type: SourceType;
  target: string;
  ok: boolean;
  /** The restore step: restore workflow's status of this source. */
  restoreStatus: string;
  /** Restore of this source (from the child restore), validation included. */
  restoreMs?: number;
  validationMs?: number;
  /** Measured RTO of this source: its restore + verify + the drill's validation. */
  rtoMs?: number;
  rtoTargetMs: number;
  /** What the validation checked and found (counts, digests, probes). */
  validation?: string;
  /** Items (keys, vectors, points) found in the scratch target. */
  items?: number;
  error?: string;
}

export interface DrillCleanupResult {
  ok: boolean;
  removed: string[];
  failures: string[];
}

/** The durable result of one drill (`records/drills/<drillId>`). */
export interface DrillRecord {
  drillId: string;
  workflowId: string;
  runId: string;
  trigger: string;
  recoveryPointId?: string;
  recoveryPointTime?: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  /** 'passed' | 'failed' | 'cancelled'. */
  verdict: 'passed' | 'failed' | 'cancelled';
  /** Why it failed (every reason). */
  reasons: string[];
  sources: DrillSourceResult[];
  checks: DrillCheckResult[];
  /** Restore + validation of every source, the whole drill's RTO. */
  rtoMs?: number;
  /** The largest RTO target of the drilled sources (the drill as a whole is compared with it). */
  rtoTargetMs?: number;
  restoreWorkflowId?: string;
  safetyRecoveryPointId?: string;
  /** The cross-store consistency check of the scratch targets (links whose every store was drilled). */
  consistency?: { ok: boolean; reportId: string; links: string[]; problems: string[]; note?: string };
  cleanup: DrillCleanupResult;
  durationMs: number;
}

export type DrillResult = DrillRecord;
