import { randomBytes } from 'node:crypto';

/** Workflow ids readable in the Temporal UI; the backup id lives with the workflows, which use it too. */
export { backupWorkflowId } from '../workflows/ids';

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

/** `lifeboat-check-<links | all>-<random>`. */
export function checkWorkflowId(links?: readonly string[]): string {
  const what = links?.length ? [...links].sort().join('-') : 'all';
  return `lifeboat-check-${what.length <= 64 ? what : what.slice(0, 64)}-${suffix()}`;
}

/** `lifeboat-drill-<time>-<random>`, e.g. `lifeboat-drill-20261201T234500Z-a1b2c3`. */
export function drillWorkflowId(now: Date = new Date()): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `lifeboat-drill-${t}-${suffix()}`;
}
