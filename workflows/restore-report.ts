import { ApplicationFailure, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { RestoreInput, RestoreResult } from './types';
import { reportOutcome } from './report';

/** The restore summary a failed restore carries as its failure's first detail (rollback outcome). */
function failedSummary(e: unknown): Partial<RestoreResult> | undefined {
  for (let c = e as { cause?: unknown } | undefined; c; c = c.cause as typeof c)
    if (c instanceof ApplicationFailure && c.details?.length) return c.details[0] as Partial<RestoreResult>;
  return undefined;
}

/**
 * Runs a restore and reports how it ended (lifeboat_operations_total{operation="restore"}, its
 * duration, restore.failed/succeeded notifications). A restore run by a drill or a DR incident
 * (a child workflow) is measured but not notified: its parent reports the outcome that matters.
 */
export async function reportedRestore(input: RestoreInput, run: () => Promise<RestoreResult>): Promise<RestoreResult> {
  const quiet = workflowInfo().parent !== undefined;
  try {
    const r = await run();
    await reportOutcome({
      operation: 'restore',
      quiet,
      sources: r.sources.map((s) => s.source),
      summary: `restore of ${r.recoveryPointId} into ${r.sources.map((s) => s.target).join(', ')} succeeded`,
      details: { recoveryPointId: r.recoveryPointId, safetyRecoveryPointId: r.safetyRecoveryPointId },
    });
    return r;
  } catch (e) {
    const s = failedSummary(e);
    const message = e instanceof Error ? e.message : String(e);
    await reportOutcome({
      operation: 'restore',
      error: e,
      quiet,
      sources: s?.sources?.map((x) => x.source) ?? input.sources,
      summary: isCancellation(e)
        ? `restore of ${input.recoveryPointId} was cancelled`
        : `restore of ${input.recoveryPointId} failed: ${message}`,
      details: {
        recoveryPointId: input.recoveryPointId,
        ...(s ? { rolledBack: s.rolledBack, rollbackFailures: s.rollbackFailures } : {}),
      },
    });
    throw e;
  }
}
