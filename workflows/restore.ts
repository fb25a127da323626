import { ErrorCode } from '../lib/error-codes';
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LifeboatActivities, RestorePlan } from '../activities/types';
import type { RestoreInput, RestoreResult, SourceRestoreResult } from './types';
import { trackProgress } from './progress';
import { SA } from './search-attributes';
import { surfaceFailure } from './failures';

const short = proxyActivities<LifeboatActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

const long = proxyActivities<LifeboatActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  // On cancellation, wait until the activity has stopped (or its worker is declared dead) before
  // going on: a compensation must never write a target while the cancelled restore still does.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

const errMsg = (e: unknown): string => {
  let cur: unknown = e;
  // Activity failures wrap the real cause; show the innermost message.
  while (cur && typeof cur === 'object' && 'cause' in cur && (cur as { cause?: unknown }).cause)
    cur = (cur as { cause: unknown }).cause;
  return cur instanceof Error ? cur.message : String(cur);
};

/**
 * Restore as a saga: pre-flight → safety backup of every target's current
 * state → restore each source in dependency order → verify each → confirm.
 * Any failure after the safety backup — or a cancellation — runs the
 * compensations in reverse, in a non-cancellable scope, so every target is
 * back as it was. A failed compensation is reported, never swallowed.
 */
export async function restoreWorkflow(input: RestoreInput): Promise<RestoreResult> {
  const t = trackProgress('pre-flight');
  upsertSearchAttributes([{ key: SA.kind, value: 'restore' }]);
  let plan: RestorePlan;
  try {
    plan = await short.planRestore({
      recoveryPointId: input.recoveryPointId,
      sources: input.sources,
      targets: input.targets,
    });
  } catch (e) {
    throw surfaceFailure(e); // nothing was changed yet
  }
  upsertSearchAttributes([
    { key: SA.recoveryPoint, value: plan.recoveryPointId },
    { key: SA.source, value: plan.sources.map((s) => s.name) },
  ]);
  // The random tail of the run id (UUIDv7 starts with a timestamp): unique per run, stable across retries.
  const restoreId = workflowInfo().runId.replace(/-/g, '').slice(-16);
  const results: SourceRestoreResult[] = plan.sources.map((s) => ({
    source: s.name,
    target: s.target,
    status: 'pending',
  }));
  const mark = (i: number, status: SourceRestoreResult['status'], error?: string) => {
    results[i].status = status;
    if (error) results[i].error = error;
    t.source(results[i].source, status, error ?? results[i].target);
  };
  results.forEach((_, i) => mark(i, 'pending'));
  const targetOf = (name: string) => input.targets?.[name];
  const result = (ok: boolean, extra: Partial<RestoreResult> = {}): RestoreResult => ({
    recoveryPointId: plan.recoveryPointId,
    ok,
    safetyRecoveryPointId,
    sources: results,
    rolledBack: [],
    rollbackFailures: [],
    durationMs: Date.now() - workflowInfo().startTime.getTime(),
    ...extra,
  });

  let safetyRecoveryPointId: string | undefined;
  if (!input.skipSafetyBackup) {
    t.phase('safety backup');
    setCurrentDetails(`Safety backup of ${plan.sources.map((s) => s.target).join(', ')}`);
    plan.sources.forEach((_, i) => mark(i, 'safety-backup'));
    try {
      ({ recoveryPointId: safetyRecoveryPointId } = await long.safetyBackup.executeWithOptions(
        { summary: 'Safety backup of the restore targets' },
        [
          {
            sources: plan.sources.map((s) => ({ source: s.name, target: targetOf(s.name) })),
            restoreId,
            recoveryPointId: plan.recoveryPointId,
          },
        ],
      ));
    } catch (e) {
      throw surfaceFailure(e); // no target was changed yet
    }
  }

  // Registered before each restore starts: a restore that fails half-way has changed its target too.
  const compensations: { index: number; run: () => Promise<void> }[] = [];
  try {
    t.phase('restoring');
    setCurrentDetails(`Restoring ${plan.recoveryPointId}`);
    const checks: (Record<string, unknown> | undefined)[] = [];
    for (const [i, s] of plan.sources.entries()) {
      // Cancelled while the previous source was finishing: stop here, so only targets a restore touched are rolled back.
      if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('restore was cancelled');
      const common = { source: s.name, target: targetOf(s.name), restoreId };
      compensations.unshift({
        index: i,
        run: () =>
          long.compensateRestore.executeWithOptions({ summary: `Roll back ${s.name}` }, [
            { ...common, recoveryPointId: plan.recoveryPointId, safetyRecoveryPointId, check: checks[i] },
          ]),
      });
      mark(i, 'restoring');
      const out = await long.restoreSource.executeWithOptions(
        { summary: `Restore ${s.type} ${s.name} → ${s.target}` },
        [{ ...common, recoveryPointId: plan.recoveryPointId }],
      );
      checks[i] = out.check;
      mark(i, 'restored');
    }
    t.phase('verifying');
    for (const [i, s] of plan.sources.entries()) {
      const v = await long.verifyRestoredSource.executeWithOptions({ summary: `Verify ${s.name}` }, [
        {
          source: s.name,
          target: targetOf(s.name),
          restoreId,
          recoveryPointId: plan.recoveryPointId,
          check: checks[i],
          injectFailure: input.injectVerifyFailure === s.name,
        },
      ]);
      if (!v.ok) {
        mark(i, 'failed', v.detail);
        throw ApplicationFailure.nonRetryable(
          `verification of ${s.name} failed: ${v.detail}`,
          ErrorCode.VERIFICATION_FAILED,
        );
      }
      mark(i, 'verified');
    }
    t.phase('confirming');
    for (const s of plan.sources)
      await short.confirmRestore({
        source: s.name,
        target: targetOf(s.name),
        restoreId,
        recoveryPointId: plan.recoveryPointId,
      });
  } catch (e) {
    const failure = isCancellation(e) ? 'restore was cancelled' : errMsg(e);
    for (const r of results) if (r.status === 'restoring') r.status = 'failed';
    t.phase('rolling back');
    setCurrentDetails(`Rolling back: ${failure}`);
    const rolledBack: string[] = [];
    const rollbackFailures: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const c of compensations) {
        const name = results[c.index].source;
        try {
          await c.run();
          rolledBack.push(name);
          mark(c.index, 'rolled-back');
        } catch (ce) {
          rollbackFailures.push(`${name}: ${errMsg(ce)}`);
          mark(c.index, 'rollback-failed', errMsg(ce));
        }
      }
    });
    const summary = result(false, { failure, rolledBack, rollbackFailures });
    t.phase(rollbackFailures.length ? 'rollback failed' : 'rolled back');
    if (isCancellation(e)) throw e;
    const how = rollbackFailures.length
      ? `rollback FAILED for ${rollbackFailures.join('; ')} — restore those targets from safety recovery point ${safetyRecoveryPointId ?? '(none)'}`
      : `rolled back ${rolledBack.join(', ') || 'nothing (no target had changed)'}`;
    throw ApplicationFailure.create({
      message: `restore of ${plan.recoveryPointId} failed: ${failure}; ${how}`,
      type: ErrorCode.RESTORE_FAILED,
      nonRetryable: true,
      details: [summary],
    });
  }

  t.phase('done');
  setCurrentDetails(`Restored ${plan.recoveryPointId} into ${plan.sources.map((s) => s.target).join(', ')}`);
  return result(true);
}
