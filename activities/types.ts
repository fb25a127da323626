/**
 * Signatures of the activities the workflows call. Workflows import these
 * types only (never the implementations), so the workflow bundle stays free
 * of I/O.
 */
import type { ArtifactRef } from '../repository/types';
import type { RestoreTargetOverride, SourceBackupResult, SourceType, VerifyLevel } from '../lib/domain';
import type { DrillCheckResult, DrillCleanupResult, DrillPlan, DrillRecord, DrillTarget } from '../lib/drill';
import type { DrPlan, DrReport, DrSettings, SourceAssessment, SourceValidation } from '../lib/dr';
import type { NotificationEvent } from '../config/types';
import type { CheckConsistencyInput, ConsistencyReport } from '../lib/consistency';

export type { SourceType };

/** A source as the workflows see it: a name and what it needs to be ordered. */
export interface PlannedSource {
  name: string;
  type: SourceType;
  /** Lower restores first (Redis metadata before vector stores). */
  restoreOrder: number;
}

/** Small reference to an artifact stored in the repository (the chunk list stays in the repository). */
export type ArtifactHandle = ArtifactRef;

export interface SourceBackupOutput {
  artifacts: ArtifactHandle[];
  summary: SourceBackupResult;
}

export interface RestoreSourceInput {
  recoveryPointId: string;
  source: string;
  target?: RestoreTargetOverride;
  /** Unique per restore workflow run: names staged files and temp collections, so retries are idempotent. */
  restoreId: string;
}

/** What a restore changed, so a compensation can undo it, and what it checked. */
export interface RestoreSourceOutput {
  source: string;
  /** Human-readable target, e.g. "redis://10.0.0.5:6379/0" or "/data/index.faiss". */
  target: string;
  items: number;
  bytes: number;
  /**
   * What the verify step compares the target with, when it differs from what
   * the backup recorded (e.g. Redis keys that expired in the meantime are
   * left out). Small: counts and digests only.
   */
  check?: Record<string, unknown>;
}

export interface VerifyTargetInput extends RestoreSourceInput {
  /** From the restore step's output. */
  check?: Record<string, unknown>;
  /** Test hook to exercise rollback. */
  injectFailure?: boolean;
}

export interface SafetyBackupInput {
  sources: { source: string; target?: RestoreTargetOverride }[];
  restoreId: string;
  /** The restore's recovery point, recorded in the safety point's labels. */
  recoveryPointId: string;
}

export interface CompensateInput {
  source: string;
  /** The recovery point being restored (tells which files/collections the restore touched). */
  recoveryPointId: string;
  target?: RestoreTargetOverride;
  restoreId: string;
  /** Safety recovery point to put back; absent when no safety backup was taken. */
  safetyRecoveryPointId?: string;
  /** The restore step's output, when it finished (e.g. which alias it switched from where). */
  check?: Record<string, unknown>;
}

export interface CommitInput {
  artifacts: ArtifactHandle[];
  tags: string[];
  labels: Record<string, string>;
}

export interface BackupPlan {
  sources: PlannedSource[];
  /** Printable locations the backup reads (what it holds against a concurrent restore; see workflows/target-locks.ts). */
  targets?: string[];
  parallelism: number;
  verify: VerifyLevel;
}

export interface RestorePlan {
  /** The full id (the input may be a unique prefix, or "latest"). */
  recoveryPointId: string;
  /** In restore order, with a printable target each. */
  sources: (PlannedSource & { target: string })[];
}

/** Restore drills (activities/drill.ts). */
export interface DrillActivities {
  /** Chooses the recovery point and sets up a scratch target per source (refusing any that is a production source). */
  prepareDrill(input: { drillId: string; recoveryPointId?: string; sources?: string[] }): Promise<DrillPlan>;
  /** Compares a restored scratch target with what the backup recorded (counts, digests, probe queries). */
  validateDrillSource(input: {
    drillId: string;
    recoveryPointId: string;
    target: DrillTarget;
  }): Promise<{ ok: boolean; detail: string; items: number }>;
  /** Runs the configured drill.checks with the scratch targets' addresses in their environment. */
  runDrillChecks(input: {
    drillId: string;
    recoveryPointId: string;
    targets: DrillTarget[];
  }): Promise<DrillCheckResult[]>;
  /** Removes every scratch target of the drill (found from the drill id); reports what it could not remove. */
  cleanupDrill(input: { drillId: string; sources?: string[] }): Promise<DrillCleanupResult>;
  /** Writes the drill's record into the repository (records/drills/<id>). */
  recordDrill(record: DrillRecord): Promise<void>;
}

export type Severity = 'critical' | 'error' | 'warning' | 'info';

export interface NotifyInput {
  event: NotificationEvent;
  severity: Severity;
  /** One line, e.g. "backup of sessions failed: Redis unreachable". */
  summary: string;
  /** Small, secret-free facts (ids, names, counts). */
  details?: Record<string, unknown>;
  /** Groups a failure with its later success (PagerDuty dedup_key): e.g. "backup:sessions,docs". */
  subject?: string;
}

export interface NotifyResult {
  delivered: string[];
  failed: { destination: string; error: string }[];
  skipped: string[];
}

export interface OperationReport {
  operation: 'backup' | 'restore' | 'verify' | 'drill' | 'prune' | 'dr';
  outcome: 'success' | 'failure' | 'cancelled';
  durationMs: number;
  /** Sources concerned; @default every configured source (backup). */
  sources?: string[];
  summary: string;
  details?: Record<string, unknown>;
  /** Metrics only, no notification: the operation runs inside another (a drill's restore) that reports. */
  quiet?: boolean;
}

export interface NotifyActivities {
  /** Sends one event to every destination subscribed to it. Never fails. */
  notify(input: NotifyInput): Promise<NotifyResult>;
  /** Records a finished operation in the metrics, then notifies (failures always, successes where asked). Never fails. */
  reportOperation(input: OperationReport): Promise<NotifyResult>;
}

/** Cross-store consistency (activities/consistency.ts, docs/consistency.md). */
export interface ConsistencyActivities {
  /**
   * Checks the configured links (or those named, or those touching `sources`) against the live
   * stores — or against `targets` where given (drill scratch targets, restored copies) — and stores
   * the report as records/consistency/<id>. Disagreements are in the report (`ok: false`), not a
   * failure; an unknown link name fails, non-retryable.
   */
  checkConsistency(input: CheckConsistencyInput): Promise<ConsistencyReport>;
}

export interface LifeboatActivities extends DrillActivities, NotifyActivities, ConsistencyActivities {
  /** Resolves source names against the config; unknown names fail, non-retryable. */
  planBackup(input: { sources?: string[] }): Promise<BackupPlan>;
  /** Pre-flight: the recovery point exists and its structure verifies, targets are reachable, dimensions compatible. All problems in one non-retryable error. */
  planRestore(input: {
    recoveryPointId: string;
    sources?: string[];
    targets?: Record<string, RestoreTargetOverride>;
  }): Promise<RestorePlan>;
  backupSource(input: { source: string; backupId: string }): Promise<SourceBackupOutput>;
  commitRecoveryPoint(input: CommitInput): Promise<{ id: string }>;
  verifyRecoveryPoint(input: {
    id?: string;
    readData: boolean;
    subsetPercent?: number;
  }): Promise<{ ok: boolean; problems: string[]; checkedObjects: number }>;
  /** Reads, decrypts and hashes every artifact of `sources` in the point; a damaged one fails, non-retryable, naming it. */
  authenticateRestoreData(input: { recoveryPointId: string; sources: string[] }): Promise<{ bytes: number }>;
  safetyBackup(input: SafetyBackupInput): Promise<{ recoveryPointId?: string }>;
  restoreSource(input: RestoreSourceInput): Promise<RestoreSourceOutput>;
  verifyRestoredSource(input: VerifyTargetInput): Promise<{ ok: boolean; detail: string }>;
  confirmRestore(input: {
    source: string;
    target?: RestoreTargetOverride;
    restoreId: string;
    recoveryPointId: string;
  }): Promise<void>;
  compensateRestore(input: CompensateInput): Promise<void>;
}

/** Disaster-recovery activities (activities/dr.ts). */
export interface DrActivities {
  /** The config's `dr:` settings (approval timeout, what a timeout does, auto-approval). */
  drSettings(): Promise<DrSettings>;
  /** Reachable? live counts and digest vs the newest backup → healthy / degraded / lost, with the evidence. */
  assessSources(input: { sources?: string[] }): Promise<SourceAssessment[]>;
  /** Chooses the recovery point per source (newest verified, before `before`, one shared where possible). */
  planRecovery(input: {
    assessment: SourceAssessment[];
    /** Sources the declaration named: recovered even when healthy. */
    named?: string[];
    before?: string;
    declaredAt: string;
    version: number;
  }): Promise<DrPlan>;
  /** Every recovered target compared with its recovery point's fingerprint (counts and content digests). */
  validateRecovery(input: { recoveries: { source: string; recoveryPointId: string }[] }): Promise<SourceValidation[]>;
  /**
   * Puts a source recovered by an earlier (finished) group back as it was before the DR, from the
   * safety point its restore took; a target that did not exist then is removed again.
   */
  rollbackRecoveredSource(input: {
    source: string;
    restoredPointId: string;
    safetyRecoveryPointId: string;
    rollbackId: string;
  }): Promise<{ detail: string }>;
  /** Approval overdue: tells people (worker log, incident record `<id>-escalations`). */
  escalateApproval(input: {
    incidentId: string;
    workflowId: string;
    severity: string;
    waitedMs: number;
  }): Promise<void>;
  /** Stores the report as records/incidents/<incident id> (replacing a draft). */
  storeIncidentReport(report: DrReport): Promise<{ recordId: string }>;
}

/** Where a reindex builds (activities/reindex.ts): plain names, no credentials. */
export type ReindexTarget =
  | { kind: 'qdrant'; alias: string; live: string | null; build: string; distance: string }
  | { kind: 'faiss'; path: string; live: boolean; metric: 'L2' | 'IP' };

export interface ReindexPlan {
  /** Of the embedding model, checked against the live store's. */
  dimension: number;
  /** Records matching the key pattern when the reindex started (for the ETA). */
  total: number;
  target: ReindexTarget;
  batchesPerRun: number;
  recordsPerBatch: number;
}

export interface ReindexBatchOutput {
  /** The SCAN cursor to continue from ("0": done). */
  cursor: string;
  records: number;
  /** Keys without the text or id field. */
  skipped: number;
}

export interface ReindexRef {
  reindexId: string;
  from: string;
  to: string;
}

export interface ReindexActivities {
  /** Checks sources and dimension (nothing changed on a mismatch), creates the build target, counts records. */
  prepareReindex(input: ReindexRef): Promise<ReindexPlan>;
  /** Embeds one SCAN page of records (cached on the worker's disk) and writes them to the build target. */
  reindexBatch(
    input: ReindexRef & { cursor: string; batchNo: number; dimension: number; target: ReindexTarget },
  ): Promise<ReindexBatchOutput>;
  /** Validates the new index (count, dimension, probes), then switches it in atomically. */
  finishReindex(
    input: ReindexRef & { dimension: number; target: ReindexTarget },
  ): Promise<{ records: number; target: string; previous: string | null; probes: number }>;
  /** Removes the build target and cached batches; puts a replaced FAISS file back. Never touches what the alias serves. */
  abortReindex(input: ReindexRef & { target?: ReindexTarget }): Promise<void>;
  cleanupReindex(input: ReindexRef): Promise<void>;
}
