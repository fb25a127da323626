import { ErrorCode } from '../lib/error-codes';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LifeboatActivities, RestorePlan, RestoreSourceOutput } from '../activities/types';
import type { RestoreInput, RestoreResult, SourceRestoreResult } from './types';
import { trackProgress } from './progress';
import { SA } from './search-attributes';
import { surfaceFailure } from './failures';
import { ACTIVITY_PROFILES } from './activity-profiles';
import { holdTargets } from './target-locks';
import { reportedRestore } from './restore-report';

const short = proxyActivities<LifeboatActivities>(ACTIVITY_PROFILES.short);
const streaming = proxyActivities<LifeboatActivities>(ACTIVITY_PROFILES.streaming);
const writing = proxyActivities<LifeboatActivities>(ACTIVITY_PROFILES.targetWriting);

/**
 * The message a person needs: the activity's own (Lifeboat) message, which
 * names the object and the way forward, rather than the innermost cause
 * (often a bare crypto or socket message).
 */
const errMsg = (e: unknown): string => {
  if (e instanceof ActivityFailure && e.cause) return e.cause.message;
  if (e instanceof ApplicationFailure) return e.message;
  return e instanceof Error ? e.message : String(e);
};

/** A registered undo step of the saga, and the source it belongs to. */
interface Compensation {
  index: number;
  run: () => Promise<void>;
}

/**
 * Restore as a saga, in named phases:
 *   pre-flight      plan, hold the targets, authenticate every byte to write
 *   safety backup   the targets' current state, whatever it is (absent, empty, damaged)
 *   restoring       each source in dependency order
 *   verifying       each target against what the backup recorded
 *   confirming      drop what was kept for a rollback
 * Nothing changes a target before the safety backup ends. Any failure after
 * that — or a cancellation — runs compensate(): the registered undo steps in
 * reverse, non-cancellable, each checked exact; a failed one is reported as a
 * rollback failure, never swallowed and never called "rolled back".
 */
export async function restoreWorkflow(input: RestoreInput): Promise<RestoreResult> {
  return reportedRestore(input, () => restore(input));
}

async function restore(input: RestoreInput): Promise<RestoreResult> {
  const t = trackProgress('pre-flight');
  upsertSearchAttributes([{ key: SA.kind, value: 'restore' }]);
  // The random tail of the run id (UUIDv7 starts with a timestamp): unique per run, stable across retries.
  const restoreId = workflowInfo().runId.replace(/-/g, '').slice(-16);
  const targetOf = (name: string) => input.targets?.[name];

  // ---- pre-flight: nothing is changed yet, so a failure here just fails.
  const plan = await preflight(input);
  const release = await holdTargets(
    plan.sources.map((s) => s.target),
    `restore of ${plan.recoveryPointId}`,
  ).catch((e: unknown) => {
    const failed = `Restore refused before touching anything: ${errMsg(e)}`;
    setCurrentDetails(failed);
    throw e;
  });
  try {
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
    let safetyRecoveryPointId: string | undefined;
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
    const refuse = (e: unknown) => {
      const failure = surfaceFailure(e);
      t.phase('failed');
      setCurrentDetails(`Restore of ${plan.recoveryPointId} failed; no target was changed: ${errMsg(e)}`);
      return failure;
    };

    t.phase('pre-flight: authenticating');
    setCurrentDetails(`Checking every chunk of ${plan.recoveryPointId} before touching a target`);
    try {
      await streaming.authenticateRestoreData.executeWithOptions(
        { summary: `Authenticate ${plan.recoveryPointId} (${plan.sources.map((s) => s.name).join(', ')})` },
        [{ recoveryPointId: plan.recoveryPointId, sources: plan.sources.map((s) => s.name) }],
      );
    } catch (e) {
      throw refuse(e);
    }

    // ---- safety backup
    if (!input.skipSafetyBackup) {
      t.phase('safety backup');
      setCurrentDetails(`Safety backup of ${plan.sources.map((s) => s.target).join(', ')}`);
      plan.sources.forEach((_, i) => mark(i, 'safety-backup'));
      try {
        ({ recoveryPointId: safetyRecoveryPointId } = await streaming.safetyBackup.executeWithOptions(
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
        plan.sources.forEach((_, i) => mark(i, 'pending'));
        throw refuse(e);
      }
    }

    // Registered before each restore starts: a restore that fails half-way has changed its target too.
    const compensations: Compensation[] = [];
    try {
      // ---- restoring
      t.phase('restoring');
      setCurrentDetails(`Restoring ${plan.recoveryPointId}`);
      const checks: RestoreSourceOutput['check'][] = [];
      for (const [i, s] of plan.sources.entries()) {
        // Cancelled while the previous source was finishing: stop here, so only targets a restore touched are rolled back.
        if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('restore was cancelled');
        const common = { source: s.name, target: targetOf(s.name), restoreId };
        compensations.unshift({
          index: i,
          run: () =>
            writing.compensateRestore.executeWithOptions({ summary: `Roll back ${s.name}` }, [
              { ...common, recoveryPointId: plan.recoveryPointId, safetyRecoveryPointId, check: checks[i] },
            ]),
        });
        mark(i, 'restoring');
        const restoreStarted = Date.now();
        const out = await writing.restoreSource.executeWithOptions(
          { summary: `Restore ${s.type} ${s.name} → ${s.target}` },
          [{ ...common, recoveryPointId: plan.recoveryPointId }],
        );
        checks[i] = out.check;
        results[i].durationMs = Date.now() - restoreStarted;
        mark(i, 'restored');
      }
      // ---- verifying
      t.phase('verifying');
      for (const [i, s] of plan.sources.entries()) {
        const verifyStarted = Date.now();
        const v = await streaming.verifyRestoredSource.executeWithOptions({ summary: `Verify ${s.name}` }, [
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
            `verification of ${s.name} failed (${s.target}): ${v.detail}`,
            ErrorCode.VERIFICATION_FAILED,
          );
        }
        // Per source: restore + verify, what a drill reports as this source's measured RTO.
        results[i].durationMs = (results[i].durationMs ?? 0) + (Date.now() - verifyStarted);
        results[i].detail = v.detail;
        mark(i, 'verified');
      }
      // ---- consistency gate (optional): restored stores must agree with the others, or the restore is undone.
      if (input.checkConsistency) {
        t.phase('checking consistency');
        const sources = plan.sources.map((s) => s.name);
        const c = await streaming.checkConsistency.executeWithOptions(
          { summary: 'Check consistency of the restored stores' },
          [
            {
              sources,
              ...(input.targets ? { targets: input.targets } : {}),
              operation: { kind: 'restore', id: restoreId },
            },
          ],
        );
        if (!c.ok)
          throw ApplicationFailure.nonRetryable(
            `consistency check failed (report ${c.id}): ${c.problems.slice(0, 5).join('; ')}`,
            ErrorCode.CONSISTENCY_FAILED,
          );
      }
      // ---- confirming
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
      const { rolledBack, rollbackFailures } = await compensate(compensations, failure, {
        ok: (i) => mark(i, 'rolled-back'),
        failed: (i, why) => mark(i, 'rollback-failed', why),
        name: (i) => results[i].source,
        phase: (p) => t.phase(p),
      });
      const summary = result(false, { failure, rolledBack, rollbackFailures });
      const how = rollbackFailures.length
        ? `rollback FAILED for ${rollbackFailures.join('; ')} — restore those targets from safety recovery point ${safetyRecoveryPointId ?? '(none: --no-safety-backup)'}`
        : `rolled back ${rolledBack.join(', ') || 'nothing (no target had changed)'}`;
      setCurrentDetails(`Restore of ${plan.recoveryPointId} failed: ${failure}; ${how}`);
      if (isCancellation(e)) throw e;
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
  } finally {
    await CancellationScope.nonCancellable(release);
  }
}

/** Pre-flight plan: the point exists and its structure verifies, targets are reachable, dimensions fit. */
async function preflight(input: RestoreInput): Promise<RestorePlan> {
  let plan: RestorePlan;
  try {
    plan = await short.planRestore({
      recoveryPointId: input.recoveryPointId,
      sources: input.sources,
      targets: input.targets,
    });
  } catch (e) {
    setCurrentDetails(`Restore refused at pre-flight; no target was changed: ${errMsg(e)}`);
    throw surfaceFailure(e);
  }
  upsertSearchAttributes([
    { key: SA.recoveryPoint, value: plan.recoveryPointId },
    { key: SA.source, value: plan.sources.map((s) => s.name) },
  ]);
  return plan;
}

/**
 * Runs the undo steps (already in reverse order) in a non-cancellable scope,
 * every one even when an earlier one failed. A failure is recorded with its
 * message; none is swallowed.
 */
async function compensate(
  steps: Compensation[],
  failure: string,
  on: {
    ok: (index: number) => void;
    failed: (index: number, why: string) => void;
    name: (index: number) => string;
    phase: (p: string) => void;
  },
): Promise<{ rolledBack: string[]; rollbackFailures: string[] }> {
  on.phase('rolling back');
  setCurrentDetails(`Rolling back: ${failure}`);
  const rolledBack: string[] = [];
  const rollbackFailures: string[] = [];
  await CancellationScope.nonCancellable(async () => {
    for (const c of steps) {
      try {
        await c.run();
        rolledBack.push(on.name(c.index));
        on.ok(c.index);
      } catch (ce) {
        rollbackFailures.push(`${on.name(c.index)}: ${errMsg(ce)}`);
        on.failed(c.index, errMsg(ce));
      }
    }
  });
  on.phase(rollbackFailures.length ? 'rollback failed' : 'rolled back');
  return { rolledBack, rollbackFailures };
}
