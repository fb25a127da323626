/**
 * Prune: the shapes shared by the prune workflow, its activities, the `prune` records in the
 * repository and the CLI. Pure (the workflow bundle imports it): no Node APIs.
 */

/** Record kind of prune results in the repository (`records/prune/<id>`); the metrics read it too. */
export const PRUNE_RECORD_KIND = 'prune';
/** The readable id of the (one at a time) prune workflow started by `lifeboat prune` and the client. */
export const PRUNE_WORKFLOW_ID = 'lifeboat-prune';

/** Retention rules given on the command line or in a workflow input, over the config's. */
export interface RetentionOverrides {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** ms */
  keepWithin?: number;
  keepTags?: string[];
}

export interface PruneInput {
  /** Who started it: "cli", "schedule", "client". @default 'client' */
  trigger?: string;
  /** Rules over the config's retention policy. @default the config's */
  overrides?: RetentionOverrides;
  /**
   * Unreferenced data younger than this is kept (artifacts written but not committed yet).
   * Lower it only when no backup can be between writing and committing. @default 24 h
   */
  graceMs?: number;
  /** How long to wait for running writers to acknowledge the prune. @default 5 minutes */
  waitMs?: number;
}

export interface RetentionStepResult {
  timezone: string;
  /** Points in the repository when the plan was made. */
  total: number;
  /** Ids the plan removes (newest first). */
  remove: string[];
}

export interface ForgetStepResult {
  forgotten: string[];
  /** Planned but not forgotten (held since the plan, already gone), with why. */
  skipped: { id: string; reason: string }[];
}

export interface PruneDataResult {
  /** Chunks and artifact indexes deleted. */
  deletedObjects: number;
  /** Stored bytes freed. */
  freedBytes: number;
  keptChunks: number;
  /** Dead locks and leftover condemned lists removed. */
  deletedLocks: number;
  /** `.tmp-*` files of interrupted writes removed. */
  deletedTempFiles: number;
  /** Running writers kept the prune from deleting (nothing deleted): why, and which locks. */
  deferred?: { reason: string; locks: string[] };
  /** Garbage under S3 Object Lock, kept until its retention ends (a later prune removes it). */
  locked?: { objects: number; bytes: number; until: string; message: string };
  /** Attempts of the activity (more than 1 after a worker crash). */
  attempts: number;
  durationMs: number;
}

/** The result of pruneWorkflow, and the body of its record (`records/prune/<recordId>`). */
export interface PruneResult extends PruneDataResult {
  ok: boolean;
  recordId: string;
  workflowId: string;
  runId: string;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  /** Recovery points forgotten by the retention policy. */
  pointsRemoved: number;
  forgotten: string[];
  skipped: { id: string; reason: string }[];
  /** Points left. */
  pointsKept: number;
  /** S3 Object Lock: every object a kept point needs now retained until `until` (absent without objectLock). */
  lockExtension?: { objects: number; until: string };
  /** The whole workflow (plan, forget, delete, record). */
  durationMs: number;
}

/** Prune activities (activities/prune.ts). */
export interface PruneActivities {
  /** The retention plan of the repository as it is now (the config's policy, the overrides, holds, verified points). */
  planRetentionStep(input: { overrides?: RetentionOverrides }): Promise<RetentionStepResult>;
  /** Forgets the planned points; idempotent (a point already gone is skipped), a held one is never forgotten. */
  forgetPoints(input: { ids: string[] }): Promise<ForgetStepResult>;
  /** Deletes unreferenced data under the repository's prune protocol; heartbeats {objects, bytes}; resumable. */
  pruneData(input: { graceMs?: number; waitMs?: number }): Promise<PruneDataResult>;
  /**
   * S3 Object Lock: renews the retention of everything the kept points need (a reused chunk keeps the
   * retain-until of its first upload otherwise). Idempotent; `objects: 0` without objectLock.
   */
  extendObjectLocks(): Promise<{ objects: number; until: string }>;
  /** Writes the prune's record (records/prune/<id>); idempotent. */
  recordPrune(input: { recordId: string; body: PruneResult }): Promise<void>;
}

/** A prune record id: the start time (sortable) and the tail of the run id, e.g. `20261202T030000Z-3f9a1c2b`. */
export function pruneRecordId(start: Date, runId: string): string {
  const t = start
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${runId.replace(/-/g, '').slice(-8)}`;
}
