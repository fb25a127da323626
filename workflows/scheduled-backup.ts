import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, setCurrentDetails, startChild } from '@temporalio/workflow';
import { backupWorkflow } from './backup';
import { backupWorkflowId } from './ids';
import { SA } from './search-attributes';
import { trackProgress } from './progress';
import type { BackupInput, ScheduledBackupResult } from './types';

/**
 * What a backup schedule starts. Temporal appends the scheduled time to a
 * scheduled workflow's id, so a scheduled run cannot itself carry the
 * sources-derived backup id; it starts the backup as a child under that id
 * instead. A manual backup of the same sources that is already running makes
 * the child's start fail: this run is then skipped (a recovery point is being
 * made anyway), like the schedule's own overlap policy skips its own runs.
 */
export async function scheduledBackupWorkflow(input: BackupInput = {}): Promise<ScheduledBackupResult> {
  const workflowId = backupWorkflowId(input.sources);
  const t = trackProgress(`starting backup ${workflowId}`);
  let child;
  try {
    child = await startChild(backupWorkflow, {
      workflowId,
      args: [{ ...input, trigger: input.trigger ?? 'schedule' }],
      // Cancelling the scheduled run cancels the backup cleanly rather than killing it.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: SA.kind, value: 'backup' },
        ...(input.sources ? [{ key: SA.source, value: input.sources }] : []),
      ],
      staticSummary: `Scheduled backup of ${input.sources?.join(', ') ?? 'every source'}`,
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const reason = `a backup of the same sources is already running as ${workflowId}; this scheduled run was skipped`;
    setCurrentDetails(`Skipped: ${reason}`);
    t.phase(`skipped: ${reason}`);
    return { status: 'skipped', workflowId, reason };
  }
  // The backup's own progress query has the detail; this one says where to look.
  setCurrentDetails(`Backup running as ${workflowId}`);
  t.phase(`backup running as ${workflowId}`);
  const result = await child.result();
  setCurrentDetails(`Recovery point ${result.recoveryPointId} (backup ${workflowId})`);
  t.phase('done');
  return { status: 'completed', workflowId, result };
}
