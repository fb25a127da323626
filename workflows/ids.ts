/**
 * Workflow ids shared by the client and by workflows (pure: no Node APIs, so
 * the workflow bundle may import it).
 *
 * A backup's id is derived from its sources only, so Temporal itself refuses
 * a second backup of the same sources while the first runs (conflict policy
 * FAIL), whoever starts it: the CLI, the client, or a schedule (whose run
 * starts the backup as a child under this same id).
 */
export function backupWorkflowId(sources?: readonly string[]): string {
  if (!sources?.length) return 'lifeboat-backup-all';
  return `lifeboat-backup-${[...new Set(sources)].sort().join('+')}`;
}
