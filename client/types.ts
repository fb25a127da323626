import type { Client } from '@temporalio/client';
import type { LifeboatConfig, VerifyLevel } from '../config/types';
import type { Repository, RecoveryPoint } from '../repository';
import type { BackupResult, RestoreResult, RestoreTargetOverride, WorkflowProgress } from '../workflows/types';
import type { VerifyResult } from '../workflows/verify';
import type { OperationKind } from './errors';
import type { DrillRecord } from '../lib/drill';
import type { ConsistencyReport } from '../lib/consistency';
import type { StatusReport } from './status';
import type { ComplianceReport, ReportPeriod } from './report/compute';
import type { TemporalConnectOptions } from './connection';
import type { PruneReport } from '../repository';
import type { ConfiguredRetentionPlan } from '../activities/retention';
import type { PruneResult, RetentionOverrides } from '../lib/prune';

export type { OperationKind } from './errors';

export interface BackupOptions {
  /** Source names from the config. @default every configured source */
  sources?: readonly string[];
  /** Free-form tags stored on the recovery point. @default [] */
  tags?: readonly string[];
  /** Who asked, for the audit trail ("cli", "pagerduty", "runbook-bot"). @default 'client' */
  trigger?: string;
  /** Verification after commit. @default the config's backup.verify */
  verify?: VerifyLevel;
}

export interface RestoreOptions {
  /** Sources to restore. @default every source in the recovery point */
  sources?: readonly string[];
  /** Restore the one selected Redis source into this instance (redis:// URL WITHOUT credentials; the source's configured password is used). */
  toRedis?: string;
  /** Restore the one selected Redis source into this db number. */
  toRedisDb?: number;
  /** Restore the one selected Qdrant source into this collection. */
  toCollection?: string;
  /** Restore the one selected FAISS source to this absolute path. */
  toPath?: string;
  /** Restore the one selected files source below this absolute folder. */
  toDir?: string;
  /** Per-source overrides for several sources at once; merged under the to* shortcuts. @default {} */
  targets?: Readonly<Record<string, RestoreTargetOverride>>;
  /** Back up each target's current state first, so a failed restore can roll back. @default true */
  safetyBackup?: boolean;
  /** @default 'client' */
  trigger?: string;
  /** After verifying, check the consistency links touching the restored sources; a disagreement rolls back. @default false */
  checkConsistency?: boolean;
}

export interface CheckOptions {
  /** Consistency link names. @default every configured link */
  links?: readonly string[];
  /** Check these targets instead of the configured locations (per source name). */
  targets?: Readonly<Record<string, RestoreTargetOverride>>;
  /** @default 'client' */
  trigger?: string;
}

export interface DrillOptions {
  /** Sources to drill. @default every configured source */
  sources?: readonly string[];
  /** Recovery point id, unique prefix or "latest". @default the newest point holding every drilled source */
  recoveryPointId?: string;
  /** @default 'client' */
  trigger?: string;
}

export interface PruneOptions {
  /** Rules over the config's retention policy. @default the config's */
  overrides?: RetentionOverrides;
  /** Unreferenced data younger than this is kept (artifacts written but not committed yet). @default 24 h */
  graceMs?: number;
  /** How long to wait for running writers to acknowledge the prune. @default 5 minutes */
  waitMs?: number;
  /** @default 'client' */
  trigger?: string;
}

/** What `prune --dry-run` finds: the retention plan, and what the data prune would then delete. */
export interface PrunePlan {
  retention: ConfiguredRetentionPlan;
  /** Counted as if the planned points were forgotten; nothing is deleted. */
  data: PruneReport;
}

/** `lifeboat stats`: what the repository holds. */
export interface RepositoryStatsReport {
  repository: string;
  /** Stored objects and bytes (everything: chunks, indexes, manifests, records, locks). */
  objects: number;
  bytes: number;
  /** Loose chunk objects. */
  chunks: number;
  /** Stored bytes of the data (loose chunks, packs, pack indexes). */
  chunkBytes: number;
  /** Pack objects (record streams: Redis). */
  packs: number;
  recoveryPoints: number;
  /** Restore safety points among them. */
  safetyPoints: number;
  /** Plain bytes the recovery points hold (each point counted whole). */
  logicalBytes: number;
  /** logicalBytes / chunkBytes: how many times over deduplication and compression store the data. */
  dedupRatio: number;
  /** Per source (restore safety points left out). */
  sources: {
    source: string;
    recoveryPoints: number;
    logicalBytes: number;
    oldest?: { id: string; time: string };
    newest?: { id: string; time: string };
  }[];
}

export interface VerifyOptions {
  /** Download, decrypt and re-hash the data, not just check that it exists. @default false (true when subsetPercent is set) */
  readData?: boolean;
  /** With readData: check this share of the data, 1-100. @default 100 */
  subsetPercent?: number;
}

/** Latest heartbeat of a running activity: how far a long step has got. */
export interface ActivityProgress {
  activityType: string;
  /** e.g. "SCHEDULED", "STARTED", "CANCEL_REQUESTED". */
  state: string;
  attempt: number;
  /** What the activity reported, e.g. "backup sessions". */
  label?: string;
  bytes?: number;
  items?: number;
  totalBytes?: number;
  totalItems?: number;
  /** Why the previous attempt failed, when retrying. */
  lastFailure?: string;
}

/** A snapshot of a running or finished operation. */
export interface OperationProgress {
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  startedAt: string;
  closedAt?: string;
  /** The workflow's own `progress` query; absent while no worker has picked the workflow up. */
  progress?: WorkflowProgress;
  activities: ActivityProgress[];
}

/** A started backup, restore or verification. */
export interface OperationHandle<T> {
  readonly kind: OperationKind;
  readonly workflowId: string;
  readonly runId: string;
  readonly startedAt: Date;
  /** The recovery point restored or verified (full id). */
  readonly recoveryPointId?: string;
  /** Sources involved. */
  readonly sources: readonly string[];
  /** Waits for the end. Failures come as typed errors: RestoreFailedError, RollbackFailedError, VerificationFailedError, OperationFailedError, OperationCancelledError. */
  result(): Promise<T>;
  progress(): Promise<OperationProgress>;
  /** Requests cancellation (a restore then rolls back). */
  cancel(): Promise<void>;
}

export type ScheduleName = 'backup' | 'verify' | 'drill' | 'prune';

export interface ScheduleApplyReport {
  created: string[];
  updated: string[];
  deleted: string[];
  /** Schedules in the config that this version cannot run, with why. */
  skipped: { name: ScheduleName; reason: string }[];
}

export interface ScheduleInfo {
  scheduleId: string;
  /** Config name (backup, verify...), or undefined for a stale lifeboat-* schedule no longer in the config. */
  name?: string;
  workflowType?: string;
  /** "cron 0 * * * *" or "every 3600000 ms". */
  spec: string;
  paused: boolean;
  note?: string;
  inConfig: boolean;
  /** Exists on the Temporal server (false: configured but `schedules apply` not run yet). */
  applied: boolean;
  nextRuns: string[];
  recentRuns: { scheduledAt: string; workflowId: string }[];
}

export interface ScheduleOperations {
  /** Creates or updates one Temporal Schedule per configured schedule and deletes managed schedules the config no longer has. Idempotent; resets `paused` to the config's value. */
  apply(): Promise<ScheduleApplyReport>;
  /** Managed schedules on the server, plus configured ones not yet applied (flagged). */
  list(): Promise<ScheduleInfo[]>;
  /** Pauses one schedule by config name (or id), or all managed ones. Returns the schedule ids paused. */
  pause(name?: string, note?: string): Promise<string[]>;
  unpause(name?: string, note?: string): Promise<string[]>;
}

export interface LifeboatClientOptions extends TemporalConnectOptions {
  /** Use this Temporal client instead of connecting from the config (it is not closed by close()). */
  temporalClient?: Client;
  /** Use this repository instead of opening the configured one (it is not closed by close()). */
  repository?: Repository;
  /** Prefix of managed schedule ids. @default 'lifeboat-' */
  scheduleIdPrefix?: string;
  /** Deadline for the progress query, so a workflow no worker is running does not block. @default 3000 */
  queryTimeoutMs?: number;
}

/** Typed client for incident tooling and scripts: the same operations as the CLI. */
export interface LifeboatClient {
  readonly config: LifeboatConfig;
  /** Starts a backup workflow. @throws BackupAlreadyRunningError when one of the same sources runs */
  backup(opts?: BackupOptions): Promise<OperationHandle<BackupResult>>;
  /** Starts a restore of a recovery point (full id, unique prefix, or "latest"). */
  restore(id: string, opts?: RestoreOptions): Promise<OperationHandle<RestoreResult>>;
  /** Starts a verification of one recovery point, or of the whole repository when id is absent. */
  verify(id?: string, opts?: VerifyOptions): Promise<OperationHandle<VerifyResult>>;
  /**
   * Starts a restore drill (drillWorkflow). Its result() resolves with the drill record
   * for a passed AND a failed drill (check `ok`); it rejects only when the drill could
   * not run to its verdict (cancelled, terminated, a failure without a record).
   */
  drill(opts?: DrillOptions): Promise<OperationHandle<DrillRecord>>;
  /** Starts pruneWorkflow (id lifeboat-prune, one at a time): retention policy, then unreferenced data. @throws PruneAlreadyRunningError */
  prune(opts?: PruneOptions): Promise<OperationHandle<PruneResult>>;
  /** What a prune would remove, computed from the repository alone; removes nothing. */
  prunePlan(opts?: Pick<PruneOptions, 'overrides' | 'graceMs'>): Promise<PrunePlan>;
  /** The retention plan of every point (keep/remove and why), from the repository alone. */
  retentionPlan(overrides?: RetentionOverrides): Promise<ConfiguredRetentionPlan>;
  /** Repository size, objects, logical bytes per source, dedup ratio, oldest/newest point per source. */
  stats(): Promise<RepositoryStatsReport>;
  /** Starts a cross-store consistency check (consistencyCheckWorkflow); its result is the report (`ok: false` names each disagreement). */
  check(opts?: CheckOptions): Promise<OperationHandle<ConsistencyReport>>;
  /** RPO/RTO state of every configured source, from the repository alone (no worker needed). */
  status(now?: Date): Promise<StatusReport>;
  /** The compliance report of every configured source over a period (RPO, drills, RTO, verify, holds), from the repository alone. */
  report(period: ReportPeriod): Promise<ComplianceReport>;
  /** Creates the configured repository, encrypted with the configured password. @throws the repository's RepositoryExistsError when one is there */
  init(): Promise<{ id: string; url: string }>;
  /** Recovery points, newest first. */
  list(): Promise<RecoveryPoint[]>;
  /** One recovery point by full id, unique prefix or "latest". */
  show(id: string): Promise<RecoveryPoint>;
  /** Deletes a recovery point's manifest (data goes at the next prune). @throws the repository's LegalHoldError when held */
  /** lockedUntil is set (and the point kept, listed and restorable) while its manifest is under S3 Object Lock. */
  forget(id: string): Promise<RecoveryPoint & { lockedUntil?: string }>;
  hold(id: string, reason: string): Promise<RecoveryPoint>;
  unhold(id: string): Promise<RecoveryPoint>;
  /** Progress of any Lifeboat workflow by id. */
  progress(workflowId: string): Promise<OperationProgress>;
  readonly schedules: ScheduleOperations;
  /** Closes the connections this client opened. */
  close(): Promise<void>;
}
