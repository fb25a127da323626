import { CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LifeboatActivities, OperationReport } from '../activities/types';

const { reportOperation } = proxyActivities<LifeboatActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
});

/**
 * Tells the worker how an operation ended (metrics, notifications). Runs even when the workflow
 * is being cancelled, and never fails the operation: reporting is best effort by design, unlike
 * a compensation (the activity itself already retries deliveries and never throws).
 */
export async function reportOutcome(
  r: Omit<OperationReport, 'durationMs' | 'outcome'> & { outcome?: OperationReport['outcome']; error?: unknown },
): Promise<void> {
  const { error, ...rest } = r;
  const outcome = r.outcome ?? (error === undefined ? 'success' : isCancellation(error) ? 'cancelled' : 'failure');
  const message = error instanceof Error ? error.message : error === undefined ? undefined : String(error);
  try {
    await CancellationScope.nonCancellable(() =>
      reportOperation({
        ...rest,
        outcome,
        durationMs: Date.now() - workflowInfo().startTime.getTime(),
        details: { workflowId: workflowInfo().workflowId, ...(message ? { error: message } : {}), ...rest.details },
      }),
    );
  } catch {
    // Deliberately ignored: see above.
  }
}
