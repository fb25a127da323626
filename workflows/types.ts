/**
 * Inputs, results and progress of Lifeboat's workflows. Only references
 * travel here (source names, recovery point ids, paths, URLs without
 * credentials): never data, never secrets — workflow history is stored and
 * visible in the UI.
 */

import type { RestoreTargetOverride, SourceBackupResult, VerifyLevel } from '../lib/domain';
export type { RestoreTargetOverride, SourceBackupResult } from '../lib/domain';

/** Workflow type names, stable: schedules and tooling start workflows by them. */
export const WORKFLOW_TYPES = {
  backup: 'backupWorkflow',
  /** What the backup schedule starts: runs backupWorkflow as a child under the sources-derived id. */
  scheduledBackup: 'scheduledBackupWorkflow',
  restore: 'restoreWorkflow',
  verify: 'verifyWorkflow',
  drill: 'drillWorkflow',
  prune: 'pruneWorkflow',
  consistencyCheck: 'consistencyCheckWorkflow',
} as const;

export interface BackupInput {
  /** Source names from the config. @default every configured source */
  sources?: string[];
  tags?: string[];
  /** Who or what started it, for the audit trail: "cli", "schedule", "dr:<id>". @default 'cli' */
  trigger?: string;
  /** Verification after commit. @default the config's backup.verify */
  verify?: VerifyLevel;
}

export interface BackupResult {
  recoveryPointId: string;
  sources: SourceBackupResult[];
  bytes: number;
  newBytes: number;
  durationMs: number;
  verified: VerifyLevel;
}

/** Outcome of a scheduled backup run. */
export type ScheduledBackupResult =
  | {
      status: 'completed';
      /** The backup workflow (a child of the scheduled run). */ workflowId: string;
      result: BackupResult;
    }
  | {
      status: 'skipped';
      /** The backup of the same sources that was already running. */ workflowId: string;
      reason: string;
    };

export interface RestoreInput {
  recoveryPointId: string;
  /** @default every source in the recovery point */
  sources?: string[];
  /** Per-source target overrides, keyed by source name. */
  targets?: Record<string, RestoreTargetOverride>;
  /** Skip the safety backup of the targets' current state (faster, no rollback data). @default false */
  skipSafetyBackup?: boolean;
  trigger?: string;
  /**
   * Test hook: fail verification of this source to exercise rollback. Honoured only by a worker
   * created with `testHooks: { injectedFailures: true }` (tests); a production worker refuses it.
   * Kept here, optional, so existing callers stay compatible.
   */
  injectVerifyFailure?: string;
  /** After verifying, check the consistency links touching the restored sources; disagreement rolls the restore back. @default false */
  checkConsistency?: boolean;
}

export type SourceRestoreStatus =
  'pending' | 'safety-backup' | 'restoring' | 'restored' | 'verified' | 'failed' | 'rolled-back' | 'rollback-failed';

export interface SourceRestoreResult {
  source: string;
  target: string;
  status: SourceRestoreStatus;
  error?: string;
  /** Restore + verify of this source. */
  durationMs?: number;
  /** What the verify step compared and found. */
  detail?: string;
}

export interface RestoreResult {
  recoveryPointId: string;
  ok: boolean;
  /** The safety recovery point holding the targets' state before the restore. */
  safetyRecoveryPointId?: string;
  sources: SourceRestoreResult[];
  /** What failed, when ok is false. */
  failure?: string;
  rolledBack: string[];
  rollbackFailures: string[];
  durationMs: number;
}

/** Answer of the `progress` query on every Lifeboat workflow. */
export interface WorkflowProgress {
  phase: string;
  /** Per source: status and a short detail ("1.2 GB, 40k keys"). */
  sources: Record<string, { status: string; detail?: string }>;
  startedAt: string;
  updatedAt: string;
}
