import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DrActivities, NotifyActivities, NotifyInput } from '../activities/types';
import type {
  DrApproval,
  DrDeclaration,
  DrDecision,
  DrInput,
  DrPhase,
  DrPlan,
  DrReport,
  DrSettings,
  DrStatus,
  GroupOutcome,
  Severity,
  SourceAssessment,
  SourceValidation,
} from '../lib/dr';
import { causeChain } from '../lib/errors';
import { ErrorCode } from '../lib/error-codes';
import { runConsistencyCheck, type ConsistencyOutcome } from './dr-consistency';
import { trackProgress } from './progress';
import { reportOutcome } from './report';
import { restoreWorkflow } from './restore';
import { SA } from './search-attributes';
import { surfaceFailure } from './failures';
import type { RestoreResult } from './types';

export const drStatusQuery = defineQuery<DrStatus>('drStatus');
/** A later declaration of the same incident (signal-with-start): more sources, higher severity. */
export const declareSignal = defineSignal<[DrDeclaration]>('declare');
/** Approve the current plan; the validator rejects a stale plan version before it enters history. */
export const approveUpdate = defineUpdate<{ approvedPlanVersion: number }, [DrApproval]>('approve');
export const rejectUpdate = defineUpdate<{ rejected: true }, [DrDecision]>('reject');
/** Abort at any phase: before recovery nothing changes; during or after it, every restored target is rolled back. */
export const abortUpdate = defineUpdate<{ aborting: true; phase: DrPhase }, [DrDecision]>('abort');
export const abortSignal = defineSignal<[DrDecision]>('abortSignal');

const short = proxyActivities<DrActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});
const long = proxyActivities<DrActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

// Notifications are best effort: a destination that is down must not hold up or fail the recovery.
const notifier = proxyActivities<NotifyActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
});

const RANK: Record<Severity, number> = { sev1: 1, sev2: 2, sev3: 3, sev4: 4 };
/** A refused Update (stale plan, wrong phase, missing reason): the client maps it to DR_REQUEST_REJECTED. */
const fail = (message: string) =>
  ApplicationFailure.create({ type: ErrorCode.DR_REQUEST_REJECTED, message, nonRetryable: true });

function innermost(e: unknown): string {
  const chain = [...causeChain(e)];
  const last = chain[chain.length - 1] ?? e;
  return last instanceof Error ? last.message : String(last);
}

/** The RestoreResult a failed restore child carries in its failure details. */
function restoreResultOf(e: unknown): RestoreResult | undefined {
  for (const cur of causeChain(e))
    if (cur instanceof ApplicationFailure && cur.type === ErrorCode.RESTORE_FAILED && cur.details?.[0])
      return cur.details[0] as RestoreResult;
  return undefined;
}

/**
 * Disaster recovery for one incident, modelled on a cloud recovery plan (ordered groups, a manual
 * approval step): declare → assess → plan (versioned) → approval (Update `approve`) → recover each
 * group in restore order as a restoreWorkflow child (each with its safety backup) → validate →
 * report (records/incidents/<id>). A later failure, a failed validation or an abort rolls every
 * restored group back, newest first, so the whole set is as it was before the recovery.
 */
export async function disasterRecoveryWorkflow(input: DrInput): Promise<DrReport> {
  const info = workflowInfo();
  const declaredAt = info.startTime.toISOString();
  const t = trackProgress('declared');
  const declarations: DrDeclaration[] = [];
  let severity: Severity = input.severity;
  let phase: DrPhase = 'declared';
  let detail = `Declared by ${input.declaredBy}: ${input.reason}`;
  let assessment: SourceAssessment[] = [];
  let plan: DrPlan | undefined;
  let approval: (DrApproval & { at: string }) | undefined;
  let rejection: DrDecision | undefined;
  let abort: DrDecision | undefined;
  let needsReplan = false;
  const groups: GroupOutcome[] = [];
  const escalations: string[] = [];
  let recovery: CancellationScope | undefined;

  const setPhase = (p: DrPhase, d: string) => {
    phase = p;
    detail = d;
    t.phase(p);
    upsertSearchAttributes([{ key: SA.phase, value: p }]);
    setCurrentDetails(`**${p}** — ${d}`);
  };
  /** A `dr.phase` notification (observability.notifications); never fails the DR. */
  const tell = async (summary: string, level: NotifyInput['severity'], details: Record<string, unknown> = {}) => {
    const sources = [...new Set(plan?.recoveries.map((r) => r.source) ?? input.sources ?? [])].sort();
    try {
      await CancellationScope.nonCancellable(() =>
        notifier.notify.executeWithOptions({ summary: `Notify: ${summary.slice(0, 80)}` }, [
          {
            event: 'dr.phase',
            severity: level,
            summary: `DR ${input.incidentId} (${severity}): ${summary}`,
            details: { incidentId: input.incidentId, workflowId: info.workflowId, phase, ...details },
            // The same subject as the outcome report (reportOperation): a PagerDuty alert is raised and resolved as one.
            subject: `dr:${sources.join(',')}`,
          },
        ]),
      );
    } catch {
      // Deliberately ignored: see above.
    }
  };
  /** Every source any declaration named; undefined when one of them meant "all". */
  const scope = (): string[] | undefined =>
    declarations.some((d) => !d.sources?.length)
      ? undefined
      : [...new Set(declarations.flatMap((d) => d.sources ?? []))].sort();
  const named = () => [...new Set(declarations.flatMap((d) => d.sources ?? []))].sort();
  const addDeclaration = (d: DrDeclaration): boolean => {
    if (d.key && declarations.some((x) => x.key === d.key)) return false; // a resend of the same alert
    const before = JSON.stringify(scope());
    declarations.push(d);
    if (RANK[d.severity] < RANK[severity]) {
      severity = d.severity;
      upsertSearchAttributes([{ key: SA.severity, value: severity }]);
    }
    return JSON.stringify(scope()) !== before;
  };
  addDeclaration(input);
  upsertSearchAttributes([
    { key: SA.kind, value: 'dr' },
    { key: SA.incident, value: input.incidentId },
    { key: SA.severity, value: severity },
    ...(input.sources?.length ? [{ key: SA.source, value: [...input.sources] }] : []),
  ]);

  setHandler(declareSignal, (d) => {
    const widened = addDeclaration(d);
    // Before approval a wider scope means a new plan (and a new version, so an approval of the old one is stale).
    if (widened && (phase === 'assessing' || phase === 'planning' || phase === 'awaiting-approval')) needsReplan = true;
  });
  setHandler(drStatusQuery, () => ({
    incidentId: input.incidentId,
    phase,
    severity,
    declarations,
    declaredAt,
    assessment,
    ...(plan ? { plan } : {}),
    ...(approval ? { approvedBy: approval.approver } : {}),
    groups,
    escalations,
    detail,
  }));
  setHandler(
    approveUpdate,
    (a) => {
      approval = { ...a, at: new Date().toISOString() };
      return { approvedPlanVersion: a.planVersion };
    },
    {
      validator: (a) => {
        if (!a?.approver?.trim()) throw fail('an approval needs the approver (--as NAME)');
        if (phase !== 'awaiting-approval' || !plan)
          throw fail(`incident ${input.incidentId} is not waiting for approval (phase: ${phase})`);
        if (approval) throw fail(`plan v${approval.planVersion} was already approved by ${approval.approver}`);
        if (needsReplan || a.planVersion !== plan.version)
          throw fail(
            `plan v${a.planVersion} is stale: the current plan is v${plan.version}${needsReplan ? ' and a new one is being made' : ''}; review it (lifeboat dr plan ${input.incidentId}) and approve that version`,
          );
      },
    },
  );
  setHandler(
    rejectUpdate,
    (r) => {
      rejection = r;
      return { rejected: true };
    },
    {
      validator: (r) => {
        if (!r?.reason?.trim()) throw fail('a rejection needs a reason');
        if (phase !== 'awaiting-approval' && phase !== 'assessing' && phase !== 'planning' && phase !== 'declared')
          throw fail(`the plan was already approved (phase: ${phase}); use abort to roll back`);
      },
    },
  );
  const requestAbort = (r: DrDecision) => {
    abort ??= r;
    recovery?.cancel();
  };
  setHandler(abortSignal, requestAbort);
  setHandler(
    abortUpdate,
    (r) => {
      requestAbort(r);
      return { aborting: true, phase };
    },
    {
      validator: (r) => {
        if (!r?.reason?.trim()) throw fail('an abort needs a reason');
        if (['reporting', 'completed', 'aborted', 'rejected', 'failed'].includes(phase))
          throw fail(`incident ${input.incidentId} is already ${phase}`);
      },
    },
  );

  // ---- Assess and plan (nothing is changed before approval) ----
  const settings: DrSettings = await short.drSettings.executeWithOptions({ summary: 'Read dr: settings' }, []);
  const assessAndPlan = async (version: number) => {
    needsReplan = false;
    setPhase('assessing', `Assessing ${scope()?.join(', ') ?? 'every source'}`);
    assessment = await long.assessSources.executeWithOptions(
      { summary: `Assess ${scope()?.join(', ') ?? 'all sources'}` },
      [{ sources: scope() }],
    );
    for (const a of assessment) t.source(a.source, a.health, a.evidence.join('; '));
    setPhase('planning', `Choosing recovery points${input.before ? ` before ${input.before}` : ''}`);
    plan = await short.planRecovery.executeWithOptions({ summary: `Plan v${version}` }, [
      { assessment, named: named(), before: input.before, declaredAt, version },
    ]);
  };
  /** Ends the incident: stores the report, reports the outcome (metrics, `dr.failed`/`dr.succeeded`), sets the final phase. */
  const finish = async (
    outcome: DrReport['outcome'],
    extra: Partial<DrReport> = {},
    opts: { unattended?: boolean } = {},
  ): Promise<DrReport> => {
    const report: DrReport = {
      incidentId: input.incidentId,
      workflowId: info.workflowId,
      severity,
      outcome,
      declarations,
      declaredAt,
      ...(approval
        ? { approvedAt: approval.at, approvedBy: approval.approver, approvedPlanVersion: approval.planVersion }
        : {}),
      finishedAt: '',
      assessment,
      ...(plan ? { plan } : {}),
      groups,
      validation: [],
      consistency: { status: 'not-run', detail: 'no cross-store consistency check is installed in this worker' },
      dataLoss: [],
      rolledBack: [],
      rollbackFailures: [],
      escalations,
      ...extra,
    };
    await CancellationScope.nonCancellable(async () => {
      report.finishedAt = new Date().toISOString();
      await short.storeIncidentReport.executeWithOptions({ summary: `Incident report ${input.incidentId}` }, [report]);
    });
    const final: DrPhase =
      outcome === 'recovered' || outcome === 'nothing-to-do' ? 'completed' : outcome === 'failed' ? 'failed' : outcome;
    setPhase(final, `${outcome}${report.reason ? `: ${report.reason}` : ''}`);
    // A person's abort or rejection is not a failure; an abort because nobody approved in time is.
    const failed = outcome === 'failed' || opts.unattended;
    if ((outcome === 'aborted' || outcome === 'rejected') && !opts.unattended)
      await tell(`${outcome}: ${report.reason ?? ''}`, 'warning');
    await reportOutcome({
      operation: 'dr',
      outcome: failed ? 'failure' : outcome === 'recovered' || outcome === 'nothing-to-do' ? 'success' : 'cancelled',
      sources: [...new Set([...(plan?.recoveries.map((r) => r.source) ?? []), ...named()])].sort(),
      summary: `DR ${input.incidentId} (${severity}) ${outcome}${report.reason ? `: ${report.reason}` : ''}${report.rtoMs !== undefined ? ` — RTO ${Math.round(report.rtoMs / 1000)} s` : ''}`,
      details: {
        incidentId: input.incidentId,
        outcome,
        ...(report.approvedBy ? { approvedBy: report.approvedBy } : {}),
        ...(report.rtoMs !== undefined ? { rtoMs: report.rtoMs } : {}),
        rolledBack: report.rolledBack,
        rollbackFailures: report.rollbackFailures,
        record: `incidents/${input.incidentId}`,
      },
    });
    return report;
  };

  let version = 1;
  let notifiedVersion = 0;
  await assessAndPlan(version);
  // ---- Approval ----
  for (;;) {
    if (abort)
      return finish('aborted', {
        reason: `aborted by ${abort.by} before recovery: ${abort.reason}; nothing was changed`,
      });
    if (rejection)
      return finish('rejected', { reason: `rejected by ${rejection.by}: ${rejection.reason}; nothing was changed` });
    if (needsReplan) {
      await assessAndPlan(++version);
      continue;
    }
    if (!plan!.recoveries.length)
      return finish(plan!.problems.some((p) => p.startsWith('nothing to recover')) ? 'nothing-to-do' : 'failed', {
        reason: plan!.problems.join('; '),
      });
    if (approval) break;
    if (settings.autoApprove.includes(severity) && !plan!.problems.length) {
      approval = {
        approver: `policy:auto-approve(${severity})`,
        planVersion: plan!.version,
        at: new Date().toISOString(),
      };
      break;
    }
    setPhase(
      'awaiting-approval',
      `Plan v${plan!.version}: ${plan!.groups.map((g) => `${g.index}. ${g.sources.join('+')} ← ${g.recoveryPointId}`).join(', ')}${plan!.problems.length ? `; problems: ${plan!.problems.join('; ')}` : ''}. Approve: lifeboat dr approve ${input.incidentId} --as NAME --plan-version ${plan!.version}`,
    );
    if (notifiedVersion !== plan!.version) {
      notifiedVersion = plan!.version;
      await tell(
        `plan v${plan!.version} waits for approval: lifeboat dr approve ${input.incidentId} --as NAME --plan-version ${plan!.version}`,
        'warning',
        {
          planVersion: plan!.version,
          groups: plan!.groups.map((g) => `${g.sources.join('+')} ← ${g.recoveryPointId}`),
        },
      );
    }
    const decided = await condition(
      () => Boolean(approval || rejection || abort || needsReplan),
      settings.approvalTimeoutMs,
    );
    if (decided) continue;
    if (settings.onApprovalTimeout === 'abort')
      return finish(
        'aborted',
        {
          reason: `no approval within ${Math.round(settings.approvalTimeoutMs / 1000)} s (dr.approval.onTimeout: abort); nothing was changed`,
        },
        { unattended: true },
      );
    escalations.push(`${new Date().toISOString()}: approval overdue, escalated`);
    await short.escalateApproval.executeWithOptions({ summary: 'Escalate: approval overdue' }, [
      {
        incidentId: input.incidentId,
        workflowId: info.workflowId,
        severity,
        waitedMs: settings.approvalTimeoutMs * escalations.length,
      },
    ]);
    // The escalation itself: through the configured notifications (PagerDuty, Slack, webhook).
    await tell(
      `approval overdue (waited ${Math.round((settings.approvalTimeoutMs * escalations.length) / 1000)} s, escalation ${escalations.length}): approve with lifeboat dr approve ${input.incidentId} --as NAME --plan-version ${plan!.version}, or reject/abort it`,
      'critical',
      { planVersion: plan!.version, escalation: escalations.length },
    );
  }
  const approved = plan!;

  // ---- Recover, group by group ----
  const runTail = info.runId.replace(/-/g, '').slice(-12);
  for (const g of approved.groups)
    groups.push({
      index: g.index,
      recoveryPointId: g.recoveryPointId,
      sources: g.sources,
      childWorkflowId: `${info.workflowId}-group-${g.index}`,
      status: 'pending',
    });
  const restoreStartedAt = new Date().toISOString();
  let failure: string | undefined;
  const childRollbackFailures: string[] = [];
  const childRolledBack: string[] = [];
  setPhase('recovering', `Recovering ${groups.length} group(s) in restore order`);
  await tell(
    `plan v${approved.version} approved by ${approval!.approver}: recovering ${groups.length} group(s)`,
    'info',
    {
      approvedBy: approval!.approver,
      planVersion: approved.version,
    },
  );
  recovery = new CancellationScope();
  try {
    await recovery.run(async () => {
      for (const g of groups) {
        if (abort) return;
        g.status = 'restoring';
        g.startedAt = new Date().toISOString();
        for (const s of g.sources) t.source(s, 'restoring', g.recoveryPointId);
        detail = `group ${g.index}/${groups.length}: ${g.sources.join(', ')} ← ${g.recoveryPointId}`;
        setCurrentDetails(`**recovering** — ${detail}`);
        const res = await executeChild(restoreWorkflow, {
          workflowId: g.childWorkflowId,
          args: [
            {
              recoveryPointId: g.recoveryPointId,
              sources: g.sources,
              trigger: `dr:${input.incidentId}`,
              ...(input.injectVerifyFailure && g.sources.includes(input.injectVerifyFailure)
                ? { injectVerifyFailure: input.injectVerifyFailure }
                : {}),
            },
          ],
          staticSummary: `DR ${input.incidentId} group ${g.index}: restore ${g.sources.join(', ')} from ${g.recoveryPointId}`,
        });
        g.status = 'restored';
        g.finishedAt = new Date().toISOString();
        g.safetyRecoveryPointId = res.safetyRecoveryPointId;
        for (const s of g.sources) t.source(s, 'restored', g.recoveryPointId);
        if (input.holdAfterGroup === g.index) await condition(() => Boolean(abort));
      }
    });
  } catch (e) {
    const running = groups.find((g) => g.status === 'restoring');
    if (running) {
      // The child rolled its own targets back (its saga), or reports what it could not.
      const r = restoreResultOf(e);
      const safety = r?.safetyRecoveryPointId ?? '(none was taken)';
      childRollbackFailures.push(
        ...(r?.rollbackFailures ?? []).map((f) => `${f} — restore it from safety point ${safety}`),
      );
      childRolledBack.push(...(r ? r.rolledBack : running.sources));
      running.status = r?.rollbackFailures.length ? 'rollback-failed' : 'rolled-back';
      running.error = innermost(e);
      running.finishedAt = new Date().toISOString();
    }
    failure = isCancellation(e) ? undefined : `group ${running?.index ?? '?'} failed: ${innermost(e)}`;
  }
  recovery = undefined;
  const restoreFinishedAt = new Date().toISOString();

  // ---- Validate ----
  let validation: SourceValidation[] = [];
  let validatedAt: string | undefined;
  let consistency: ConsistencyOutcome | undefined;
  if (!failure && !abort) {
    setPhase('validating', 'Comparing every recovered store with its recovery point');
    try {
      validation = await long.validateRecovery.executeWithOptions({ summary: 'Validate recovered stores' }, [
        { recoveries: approved.recoveries.map((r) => ({ source: r.source, recoveryPointId: r.recoveryPointId })) },
      ]);
    } catch (e) {
      failure = `validation could not run: ${innermost(surfaceFailure(e))}`;
    }
    const bad = validation.filter((v) => !v.ok);
    if (bad.length) failure = `validation failed: ${bad.map((v) => `${v.source}: ${v.detail}`).join('; ')}`;
    // HOOK (workflows/dr-consistency.ts): the cross-store consistency check, once every store matched its point.
    if (!failure) {
      consistency = await runConsistencyCheck(input.incidentId, approved.recoveries);
      if (consistency.status === 'failed') failure = `cross-store consistency check failed: ${consistency.detail}`;
    }
    if (!failure) validatedAt = new Date().toISOString();
    for (const v of validation) t.source(v.source, v.ok ? 'validated' : 'validation-failed', v.detail);
  }

  // ---- Roll back everything restored, newest group first ----
  // The group that failed (or was cancelled) was rolled back by its own restore child.
  const rolledBack: string[] = [...childRolledBack];
  const rollbackFailures: string[] = [...childRollbackFailures];
  if (failure || abort) {
    setPhase('rolling-back', failure ?? `aborted by ${abort!.by}: ${abort!.reason}`);
    await tell(`rolling back every restored group: ${failure ?? `aborted by ${abort!.by}: ${abort!.reason}`}`, 'error');
    await CancellationScope.nonCancellable(async () => {
      for (const g of [...groups].reverse()) {
        if (g.status !== 'restored') continue;
        let ok = true;
        for (const s of g.sources) {
          try {
            await long.rollbackRecoveredSource.executeWithOptions({ summary: `Roll back ${s} (group ${g.index})` }, [
              {
                source: s,
                restoredPointId: g.recoveryPointId,
                safetyRecoveryPointId: g.safetyRecoveryPointId!,
                rollbackId: `${runTail}rb${g.index}`,
              },
            ]);
            rolledBack.push(s);
            t.source(s, 'rolled-back', `from ${g.safetyRecoveryPointId}`);
          } catch (e) {
            ok = false;
            rollbackFailures.push(`${s}: ${innermost(e)} — restore it from safety point ${g.safetyRecoveryPointId}`);
            t.source(s, 'rollback-failed', innermost(e));
          }
        }
        g.status = ok ? 'rolled-back' : 'rollback-failed';
      }
    });
  }

  // ---- Report ----
  setPhase('reporting', 'Writing the incident report');
  const restoreMs = Date.parse(restoreFinishedAt) - Date.parse(restoreStartedAt);
  const common: Partial<DrReport> = {
    restoreStartedAt,
    restoreFinishedAt,
    restoreMs,
    validation,
    ...(consistency ? { consistency } : {}),
    rolledBack,
    rollbackFailures,
  };
  if (failure || abort) {
    const how = rollbackFailures.length
      ? `; ROLLBACK FAILED: ${rollbackFailures.join('; ')}`
      : `; rolled back: ${rolledBack.join(', ') || 'nothing had changed'}`;
    const report = await finish(abort && !failure ? 'aborted' : 'failed', {
      ...common,
      reason: `${failure ?? `aborted by ${abort!.by}: ${abort!.reason}`}${how}`,
    });
    if (report.outcome === 'failed')
      throw ApplicationFailure.create({
        // ROLLBACK_FAILED (exit 6): a store is not back as it was, a person must restore it from its safety point.
        type: rollbackFailures.length ? ErrorCode.ROLLBACK_FAILED : ErrorCode.OPERATION_FAILED,
        message: report.reason!,
        nonRetryable: true,
        details: [report],
      });
    return report;
  }
  const rtoMs = Date.parse(validatedAt!) - Date.parse(declaredAt);
  const rtoTargetMs = Math.min(...approved.recoveries.map((r) => r.rtoTargetMs));
  return finish('recovered', {
    ...common,
    validatedAt,
    rtoMs,
    rtoTargetMs,
    rtoWithinTarget: rtoMs <= rtoTargetMs,
    dataLoss: approved.recoveries.map((r) => {
      const windowMs = Date.parse(declaredAt) - Date.parse(r.pointTime);
      return {
        source: r.source,
        recoveryPointId: r.recoveryPointId,
        windowMs,
        rpoTargetMs: r.rpoTargetMs,
        withinTarget: windowMs <= r.rpoTargetMs,
      };
    }),
  });
}
