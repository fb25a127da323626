import { ErrorCode } from '../lib/error-codes';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LifeboatActivities } from '../activities/types';
import {
  drillIdFor,
  type DrillCheckResult,
  type DrillCleanupResult,
  type DrillInput,
  type DrillPlan,
  type DrillRecord,
  type DrillResult,
  type DrillSourceResult,
} from '../lib/drill';
import { formatDuration } from '../lib/format';
import { ACTIVITY_PROFILES } from './activity-profiles';
import { trackProgress } from './progress';
import { reportOutcome } from './report';
import { restoreWorkflow } from './restore';
import { SA } from './search-attributes';
import type { RestoreResult } from './types';

const short = proxyActivities<LifeboatActivities>(ACTIVITY_PROFILES.short);
const streaming = proxyActivities<LifeboatActivities>(ACTIVITY_PROFILES.streaming);
/** Setting up starts processes and creates folders: heartbeated, and waited for on cancellation so cleanup sees all of it. */
const setup = proxyActivities<LifeboatActivities>(ACTIVITY_PROFILES.targetWriting);

/** The innermost Lifeboat message of a failure (child workflow → restore failure → activity → adapter). */
function reasonOf(e: unknown): string {
  let cur: unknown = e;
  while (cur instanceof ChildWorkflowFailure || cur instanceof ActivityFailure) {
    if (!cur.cause) break;
    cur = cur.cause;
  }
  return cur instanceof Error ? cur.message : String(cur);
}

/** The restore's own summary, carried in its RESTORE_FAILED failure. */
function restoreSummaryOf(e: unknown): RestoreResult | undefined {
  const inner = e instanceof ChildWorkflowFailure ? e.cause : undefined;
  if (inner instanceof ApplicationFailure && inner.details?.length) return inner.details[0] as RestoreResult;
  return undefined;
}

const fmtMs = (ms: number | undefined) => (ms === undefined ? '—' : formatDuration(Math.max(1, Math.round(ms))));

/**
 * A restore drill (Veeam SureBackup for Redis, FAISS and Qdrant):
 *   preparing   choose the recovery point, set up a scratch target per source
 *               (throw-away redis-server, scratch folder, temporary collection),
 *               refusing any that is a production source
 *   restoring   restoreWorkflow as a child — the same code path as a real
 *               restore, safety backup and verification included — into the
 *               scratch targets, in the sources' restore order
 *   validating  each scratch target against what the backup recorded (counts,
 *               digests, probe queries), then the user's drill.checks
 *   cleaning up always — after a failure or a cancellation too — non-cancellable;
 *               a failed cleanup fails the drill and is reported
 *   recording   the result into the repository (records/drills/<id>)
 * Measured RTO per source is its restore + verify + validation; the drill's RTO
 * is the whole restore (pre-flight and safety backup included) + validation.
 */
export async function drillWorkflow(input: DrillInput = {}): Promise<DrillResult> {
  const info = workflowInfo();
  const drillId = drillIdFor(info.startTime, info.runId);
  const progress = trackProgress('preparing');
  // The phase as a search attribute too: the UI lists drills by LifeboatPhase="failed" (the verdict, once known).
  const t = {
    ...progress,
    phase(p: string) {
      progress.phase(p);
      upsertSearchAttributes([{ key: SA.phase, value: p }]);
    },
  };
  upsertSearchAttributes([
    { key: SA.kind, value: 'drill' },
    { key: SA.phase, value: 'preparing' },
  ]);
  const startedAt = new Date();
  const reasons: string[] = [];
  const sources: DrillSourceResult[] = [];
  let checks: DrillCheckResult[] = [];
  let consistency: DrillRecord['consistency'];
  let plan: DrillPlan | undefined;
  let cancelled: unknown;
  let rtoMs: number | undefined;
  let restoreWorkflowId: string | undefined;
  let safetyRecoveryPointId: string | undefined;
  setCurrentDetails(`Drill ${drillId}: preparing scratch targets`);

  try {
    plan = await setup.prepareDrill.executeWithOptions({ summary: `Prepare scratch targets for drill ${drillId}` }, [
      { drillId, recoveryPointId: input.recoveryPointId, sources: input.sources },
    ]);
    const p = plan;
    upsertSearchAttributes([
      { key: SA.recoveryPoint, value: p.recoveryPointId },
      { key: SA.source, value: p.targets.map((x) => x.source) },
    ]);
    for (const x of p.targets) {
      sources.push({
        source: x.source,
        type: x.type,
        target: x.description,
        ok: false,
        restoreStatus: 'pending',
        rtoTargetMs: x.rtoTargetMs,
      });
      t.source(x.source, 'pending', x.description);
    }
    if (input.holdMs) {
      t.phase('holding (test hook)');
      await sleep(input.holdMs);
    }

    // ---- restoring: the real restore workflow, into the scratch targets.
    t.phase('restoring');
    setCurrentDetails(`Drill ${drillId}: restoring ${p.recoveryPointId} into scratch targets`);
    const restoreStarted = Date.now();
    restoreWorkflowId = `${info.workflowId}-restore`;
    let restore: RestoreResult | undefined;
    try {
      restore = await executeChild(restoreWorkflow, {
        workflowId: restoreWorkflowId,
        args: [
          {
            recoveryPointId: p.recoveryPointId,
            sources: p.targets.map((x) => x.source),
            targets: Object.fromEntries(p.targets.map((x) => [x.source, x.override])),
            // Kept although the scratch targets are fresh: a drill must cost what a real restore costs.
            trigger: `drill:${drillId}`,
          },
        ],
        staticSummary: `Drill ${drillId}: restore ${p.recoveryPointId} into scratch targets`,
      });
    } catch (e) {
      if (isCancellation(e)) throw e;
      restore = restoreSummaryOf(e);
      reasons.push(`restore failed: ${reasonOf(e)}`);
    }
    const restoreMs = Date.now() - restoreStarted;
    safetyRecoveryPointId = restore?.safetyRecoveryPointId;
    for (const s of sources) {
      const r = restore?.sources.find((x) => x.source === s.source);
      s.restoreStatus = r?.status ?? 'not started';
      if (r?.durationMs !== undefined) s.restoreMs = r.durationMs;
      if (r?.detail) s.validation = `restore verify: ${r.detail}`;
      if (r?.error) s.error = r.error;
      t.source(s.source, s.restoreStatus, r?.error ?? s.target);
    }

    // ---- validating: independent checks of each scratch target, then the user's checks.
    if (restore?.ok) {
      t.phase('validating');
      setCurrentDetails(`Drill ${drillId}: validating scratch targets`);
      let validationMs = 0;
      for (const [i, x] of p.targets.entries()) {
        const s = sources[i];
        const started = Date.now();
        try {
          const v = await streaming.validateDrillSource.executeWithOptions(
            { summary: `Validate ${x.source} in ${x.description}` },
            [{ drillId, recoveryPointId: p.recoveryPointId, target: x }],
          );
          s.ok = v.ok;
          s.items = v.items;
          s.validation = `${v.detail}${s.validation ? `; ${s.validation}` : ''}`;
          if (!v.ok) {
            s.error = v.detail;
            reasons.push(`${x.source}: validation failed: ${v.detail}`);
          }
        } catch (e) {
          if (isCancellation(e)) throw e;
          s.ok = false;
          s.error = reasonOf(e);
          reasons.push(`${x.source}: validation failed: ${s.error}`);
        }
        s.validationMs = Date.now() - started;
        validationMs += s.validationMs;
        s.rtoMs = (s.restoreMs ?? restoreMs) + s.validationMs;
        t.source(x.source, s.ok ? 'validated' : 'failed', s.ok ? `RTO ${fmtMs(s.rtoMs)}` : s.error);
      }
      // Cross-store consistency of the scratch targets: only links whose every store was drilled, so a
      // scratch copy is never compared with a live store (docs/consistency.md).
      const c = await streaming.checkConsistency.executeWithOptions(
        { summary: `Check consistency of the scratch targets of ${drillId}` },
        [
          {
            sources: p.targets.map((x) => x.source),
            sourcesMatch: 'all',
            targets: Object.fromEntries(p.targets.map((x) => [x.source, x.override])),
            operation: { kind: 'drill', id: drillId },
          },
        ],
      );
      consistency = {
        ok: c.ok,
        reportId: c.id,
        links: c.links.map((l) => l.link),
        problems: c.problems,
        ...(c.note ? { note: c.note } : {}),
      };
      if (!c.ok) reasons.push(`cross-store consistency failed (report ${c.id}): ${c.problems.slice(0, 5).join('; ')}`);
      checks = await streaming.runDrillChecks.executeWithOptions({ summary: `Drill checks for ${drillId}` }, [
        { drillId, recoveryPointId: p.recoveryPointId, targets: p.targets },
      ]);
      for (const c of checks)
        if (!c.ok)
          reasons.push(
            `check ${c.name} failed (exit ${c.exitCode ?? 'none'}): ${c.output.trim().split('\n').slice(-3).join(' | ')}`,
          );
      rtoMs = restoreMs + validationMs;
    }
  } catch (e) {
    if (isCancellation(e)) {
      cancelled = e;
      reasons.push('drill was cancelled');
    } else reasons.push(reasonOf(e));
  }

  // ---- cleaning up and recording: whatever happened, and even when cancelled.
  return CancellationScope.nonCancellable(async () => {
    t.phase('cleaning up');
    setCurrentDetails(`Drill ${drillId}: removing scratch targets`);
    let cleanup: DrillCleanupResult;
    try {
      cleanup = await short.cleanupDrill.executeWithOptions({ summary: `Remove the scratch targets of ${drillId}` }, [
        { drillId, sources: plan?.targets.map((x) => x.source) ?? input.sources },
      ]);
    } catch (e) {
      cleanup = { ok: false, removed: [], failures: [reasonOf(e)] };
    }
    if (!cleanup.ok) reasons.push(`cleanup failed, scratch targets left behind: ${cleanup.failures.join('; ')}`);

    const ok = reasons.length === 0 && sources.length > 0 && sources.every((s) => s.ok);
    const rtoTargets = sources.map((s) => s.rtoTargetMs);
    const record: DrillRecord = {
      drillId,
      workflowId: info.workflowId,
      runId: info.runId,
      trigger: input.trigger ?? 'cli',
      ...(plan ? { recoveryPointId: plan.recoveryPointId, recoveryPointTime: plan.recoveryPointTime } : {}),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ok,
      verdict: ok ? 'passed' : cancelled ? 'cancelled' : 'failed',
      reasons,
      sources,
      checks,
      ...(rtoMs !== undefined ? { rtoMs } : {}),
      // Every source must be back within its own target, so the drill as a whole is held to the strictest.
      ...(rtoTargets.length ? { rtoTargetMs: Math.min(...rtoTargets) } : {}),
      ...(restoreWorkflowId ? { restoreWorkflowId } : {}),
      ...(safetyRecoveryPointId ? { safetyRecoveryPointId } : {}),
      ...(consistency ? { consistency } : {}),
      cleanup,
      durationMs: Date.now() - startedAt.getTime(),
    };
    t.phase('recording');
    await short.recordDrill.executeWithOptions({ summary: `Record drill ${drillId}` }, [record]);

    const names = sources.map((s) => s.source).join(', ') || '(none)';
    const rto = rtoMs !== undefined ? `, RTO ${fmtMs(rtoMs)} (target ${fmtMs(record.rtoTargetMs)})` : '';
    const verdict = `${record.verdict.toUpperCase()}: drill ${drillId} of ${names} from ${plan?.recoveryPointId ?? '(no recovery point)'}${rto}`;
    t.phase(record.verdict);
    // What the UI shows for the finished drill: the verdict line, each source's RTO against its target, the reasons.
    const perSource = sources.map(
      (s) =>
        `- ${s.source}: ${s.ok ? 'ok' : 'FAILED'}, RTO ${fmtMs(s.rtoMs)} (target ${fmtMs(s.rtoTargetMs)}${s.rtoMs !== undefined && s.rtoMs > s.rtoTargetMs ? ', OVER' : ''})`,
    );
    setCurrentDetails([verdict, ...perSource, ...reasons.map((r) => `- ${r}`)].join('\n'));
    await reportOutcome({
      operation: 'drill',
      outcome: ok ? 'success' : cancelled ? 'cancelled' : 'failure',
      sources: sources.map((s) => s.source),
      summary: ok ? verdict : `${verdict}: ${reasons.join('; ')}`,
      details: {
        drillId,
        ...(plan ? { recoveryPointId: plan.recoveryPointId } : {}),
        ...(rtoMs !== undefined ? { rtoMs } : {}),
        verdict: record.verdict,
      },
    });
    if (cancelled) throw cancelled;
    if (!ok)
      throw ApplicationFailure.create({
        message: `${verdict}: ${reasons.join('; ')}`,
        type: cleanup.ok ? ErrorCode.DRILL_FAILED : ErrorCode.DRILL_CLEANUP_FAILED,
        nonRetryable: true,
        details: [record],
      });
    return record;
  });
}
