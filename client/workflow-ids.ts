import { randomBytes } from 'node:crypto';

/**
 * Workflow ids readable in the Temporal UI. A backup's id is derived from its
 * sources only, so Temporal itself refuses a second backup of the same
 * sources while the first runs (conflict policy FAIL).
 */
export function backupWorkflowId(sources?: readonly string[]): string {
  if (!sources?.length) return 'lifeboat-backup-all';
  return `lifeboat-backup-${[...new Set(sources)].sort().join('+')}`;
}

/** A recovery point id as it appears in workflow ids: whole (`<time>-<random>`, 25 characters) unless unusually long. */
export function shortRecoveryPointId(id: string): string {
  return id.length <= 32 ? id : id.slice(0, 32);
}

const suffix = () => randomBytes(3).toString('hex');

/** `lifeboat-restore-<recovery point>-<random>`: restores of one point may run again, each with its own id. */
export function restoreWorkflowId(recoveryPointId: string): string {
  return `lifeboat-restore-${shortRecoveryPointId(recoveryPointId)}-${suffix()}`;
}

/** `lifeboat-verify-<recovery point | repository>-<random>`. */
export function verifyWorkflowId(recoveryPointId?: string): string {
  return `lifeboat-verify-${recoveryPointId ? shortRecoveryPointId(recoveryPointId) : 'repository'}-${suffix()}`;
}
