import {
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorCode } from '../lib/error-codes';
import { pruneRecordId, type PruneActivities, type PruneInput, type PruneResult } from '../lib/prune';
import { ACTIVITY_PROFILES } from './activity-profiles';
import { surfaceFailure } from './failures';
import { trackProgress } from './progress';
import { reportOutcome } from './report';
import { SA } from './search-attributes';

const short = proxyActivities<PruneActivities>(ACTIVITY_PROFILES.short);
const { pruneData } = proxyActivities<PruneActivities>({
  ...ACTIVITY_PROFILES.streaming,
  // A retry after a worker crash waits (heartbeating) for the dead attempt's lock to be proven
  // dead; attempts are not limited, the heartbeat timeout notices a dead worker.
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { extendObjectLocks } = proxyActivities<PruneActivities>(ACTIVITY_PROFILES.streaming);

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/**
 * Retention and prune: plans the configured retention policy, forgets the points it removes
 * (holds always win), then deletes the data no point references, under the repository's lock
 * and grace-period protocol (safe while backups, restores and verifies run). Records the
 * outcome in `records/prune/<id>` and reports it (metrics, notifications).
 */
export async function pruneWorkflow(input: PruneInput = {}): Promise<PruneResult> {
  const t = trackProgress('planning retention');
  upsertSearchAttributes([{ key: SA.kind, value: 'prune' }]);
  const info = workflowInfo();
  const startedAt = info.startTime.toISOString();
  const recordId = pruneRecordId(info.startTime, info.firstExecutionRunId);
  try {
    const plan = await short.planRetentionStep.executeWithOptions({ summary: 'Plan the retention policy' }, [
      { overrides: input.overrides },
    ]);
    t.source('retention', 'planned', `${plan.remove.length} of ${plan.total} points to remove (${plan.timezone})`);
    t.phase(`forgetting ${plan.remove.length} recovery points`);
    const forget = plan.remove.length
      ? await short.forgetPoints.executeWithOptions({ summary: `Forget ${plan.remove.length} recovery points` }, [
          { ids: plan.remove },
        ])
      : { forgotten: [], skipped: [] };
    t.source(
      'retention',
      'forgotten',
      `${forget.forgotten.length} forgotten${forget.skipped.length ? `, ${forget.skipped.length} skipped (held or under Object Lock)` : ''}`,
    );
    t.phase('deleting unreferenced data');
    setCurrentDetails(`forgot ${forget.forgotten.length} points; deleting unreferenced data`);
    const data = await pruneData.executeWithOptions(
      { summary: 'Delete unreferenced data, stale locks and temp files' },
      [{ graceMs: input.graceMs, waitMs: input.waitMs }],
    );
    t.source(
      'data',
      data.deferred ? 'deferred' : 'done',
      data.deferred?.reason ?? `${data.deletedObjects} objects, ${mib(data.freedBytes)} freed`,
    );
    // S3 Object Lock: a chunk reused by a new point keeps its first upload's retain-until; renew it
    // for everything the kept points need. Nothing to do (one cheap call) without objectLock.
    const lockExtension = await extendObjectLocks.executeWithOptions(
      { summary: 'Renew the S3 Object Lock retention of live data' },
      [],
    );
    if (lockExtension.objects)
      t.source('object lock', 'renewed', `${lockExtension.objects} objects retained until ${lockExtension.until}`);
    const result: PruneResult = {
      ok: !data.deferred,
      recordId,
      workflowId: info.workflowId,
      runId: info.firstExecutionRunId,
      trigger: input.trigger ?? 'client',
      startedAt,
      finishedAt: new Date().toISOString(),
      pointsRemoved: forget.forgotten.length,
      forgotten: forget.forgotten,
      skipped: forget.skipped,
      pointsKept: plan.total - forget.forgotten.length,
      ...data,
      ...(lockExtension.objects ? { lockExtension } : {}),
      durationMs: Date.now() - info.startTime.getTime(),
    };
    await short.recordPrune.executeWithOptions({ summary: `Record prune ${recordId}` }, [{ recordId, body: result }]);
    const summary = `prune: ${result.pointsRemoved} points removed, ${result.deletedObjects} objects and ${mib(result.freedBytes)} freed, ${result.deletedLocks} stale locks and ${result.deletedTempFiles} temp files cleared${data.locked ? `; ${data.locked.message}` : ''}${result.lockExtension ? `; Object Lock of ${result.lockExtension.objects} objects renewed until ${result.lockExtension.until}` : ''}${data.deferred ? `; data deletion deferred: ${data.deferred.reason}` : ''}`;
    await reportOutcome({
      operation: 'prune',
      outcome: result.ok ? 'success' : 'failure',
      summary,
      details: {
        pointsRemoved: result.pointsRemoved,
        deletedObjects: result.deletedObjects,
        freedBytes: result.freedBytes,
        recordId,
      },
    });
    t.phase(result.ok ? 'done' : 'deferred');
    setCurrentDetails(summary);
    return result;
  } catch (e) {
    const failure = surfaceFailure(e);
    await reportOutcome({
      operation: 'prune',
      error: failure,
      summary: `prune failed: ${failure instanceof Error ? failure.message : String(failure)}`,
      details: { recordId },
    });
    t.phase('failed');
    if (isCancellation(failure) || failure instanceof ApplicationFailure) throw failure;
    throw ApplicationFailure.create({
      type: ErrorCode.OPERATION_FAILED,
      message: `prune failed: ${failure instanceof Error ? failure.message : String(failure)}`,
      nonRetryable: true,
      cause: failure instanceof Error ? failure : undefined,
    });
  }
}
