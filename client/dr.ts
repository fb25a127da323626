import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { UnknownSourceError } from '../config/errors';
import type { LifeboatConfig } from '../config/types';
import { LifeboatError } from '../lib/errors';
import { openConfiguredRepository } from '../runtime/configured-repository';
import type { Repository } from '../repository';
import { audited } from './audit-trail';
import { SA } from '../workflows/search-attributes';
import {
  DR_WORKFLOW_TYPE,
  INCIDENT_ID_RE,
  SEVERITIES,
  drWorkflowId,
  type DrDeclaration,
  type DrInput,
  type DrPlan,
  type DrReport,
  type DrStatus,
  type Severity,
} from '../lib/dr';
import { connectTemporal, type TemporalHandle } from './connection';
import { OperationNotFoundError, UsageError } from './errors';

/** The workflow refused an update (stale plan, not waiting for approval, too late to abort). */
export class DrRequestRejectedError extends LifeboatError {
  constructor(
    message: string,
    readonly reason: string,
    readonly incidentId: string,
  ) {
    super(message, 'DR_REQUEST_REJECTED');
  }
}

/** The incident was declared before and its workflow has closed: resends do not start it again. */
export class IncidentClosedError extends LifeboatError {
  constructor(
    readonly incidentId: string,
    readonly workflowId: string,
    readonly status: string,
  ) {
    super(
      `incident ${incidentId} was already handled (workflow ${workflowId} is ${status}); declare a new incident id to recover again`,
      'DR_INCIDENT_CLOSED',
    );
  }
}

export interface DeclareOptions {
  incidentId: string;
  severity: Severity | string;
  sources?: string[];
  declaredBy?: string;
  reason?: string;
  /** ISO time or anything Date.parse reads: recover to a point taken before it. */
  before?: string;
  via?: string;
  /** Deduplication key (alert fingerprint, event id): the same key declared twice counts once. */
  key?: string;
  /** Test hooks (never in production): fail the verification of a source; pause after a group until aborted. */
  injectVerifyFailure?: string;
  holdAfterGroup?: number;
}

export interface DeclareResult {
  incidentId: string;
  workflowId: string;
  runId: string;
  /** True when the incident's workflow was already running and this declaration joined it. */
  joined: boolean;
  uiUrl?: string;
}

export interface IncidentSummary {
  incidentId: string;
  workflowId: string;
  status: string;
  phase?: string;
  severity?: string;
  startedAt: string;
  closedAt?: string;
}

export interface DrClient {
  declare(o: DeclareOptions): Promise<DeclareResult>;
  status(incidentId: string): Promise<DrStatus & { workflowStatus: string; workflowId: string; uiUrl?: string }>;
  plan(incidentId: string): Promise<DrPlan | undefined>;
  /** Approves a plan version (default: the current one, read first — pass it explicitly to approve what you reviewed). */
  approve(
    incidentId: string,
    o: { as: string; planVersion?: number; comment?: string },
  ): Promise<{ approvedPlanVersion: number }>;
  reject(incidentId: string, o: { as: string; reason: string }): Promise<void>;
  abort(incidentId: string, o: { as: string; reason: string }): Promise<{ phase: string }>;
  /** Incidents known to Temporal (newest first). */
  list(): Promise<IncidentSummary[]>;
  /** Waits for the workflow and returns its report (a failed recovery throws, with the report in the details). */
  result(incidentId: string): Promise<DrReport>;
  /** The stored incident report (records/incidents/<id>), outliving Temporal's retention. */
  report(incidentId: string): Promise<DrReport | undefined>;
  uiUrl(workflowId: string): string | undefined;
  close(): Promise<void>;
}

function checkIncidentId(id: string): void {
  if (!INCIDENT_ID_RE.test(id ?? ''))
    throw new UsageError(
      `incident id ${JSON.stringify(id)} is not valid: use letters, digits, ".", "_" or "-" (up to 64), e.g. INC-1042`,
      '--incident',
    );
}

/** Validates a declaration; every problem names the option and the fix. Nothing is started on a problem. */
export function normalizeDeclaration(config: LifeboatConfig, o: DeclareOptions): DrInput {
  checkIncidentId(o.incidentId);
  if (!(SEVERITIES as readonly string[]).includes(o.severity))
    throw new UsageError(`severity ${JSON.stringify(o.severity)} is not one of ${SEVERITIES.join(', ')}`, '--severity');
  const sources = o.sources?.length ? [...new Set(o.sources)].sort() : undefined;
  if (sources) {
    const known = config.sources.map((s) => s.name);
    const unknown = sources.filter((n) => !known.includes(n));
    if (unknown.length) throw new UnknownSourceError(unknown, known);
  }
  let before: string | undefined;
  if (o.before !== undefined) {
    const t = Date.parse(o.before);
    if (!Number.isFinite(t))
      throw new UsageError(
        `--before ${JSON.stringify(o.before)} is not a time; use ISO 8601, e.g. 2026-12-01T10:42:00Z`,
        '--before',
      );
    before = new Date(t).toISOString();
  }
  return {
    incidentId: o.incidentId,
    severity: o.severity as Severity,
    ...(sources ? { sources } : {}),
    declaredBy: o.declaredBy?.trim() || 'unknown',
    reason: o.reason?.trim() || 'declared without a reason',
    ...(before ? { before } : {}),
    via: o.via ?? 'client',
    key: o.key ?? randomUUID(),
    ...(o.injectVerifyFailure ? { injectVerifyFailure: o.injectVerifyFailure } : {}),
    ...(o.holdAfterGroup ? { holdAfterGroup: o.holdAfterGroup } : {}),
  };
}

const rejectionReason = (e: unknown): string => {
  let cur: unknown = e;
  while (cur && typeof cur === 'object' && (cur as { cause?: unknown }).cause) cur = (cur as { cause: unknown }).cause;
  return cur instanceof Error ? cur.message : String(cur);
};

/**
 * Typed client for disaster recovery: declare (signal-with-start: a second declaration of the same
 * incident joins the running workflow), inspect, approve, reject, abort, list.
 */
export function createDrClient(config: LifeboatConfig, opts: { temporalClient?: Client } = {}): DrClient {
  let temporal: Promise<TemporalHandle> | undefined;
  const client = async (): Promise<Client> => {
    if (opts.temporalClient) return opts.temporalClient;
    temporal ??= connectTemporal(config.temporal);
    temporal.catch(() => (temporal = undefined));
    return (await temporal).client;
  };
  const uiUrl = (workflowId: string) =>
    config.dr.webhook.uiUrl
      ? `${config.dr.webhook.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`
      : undefined;
  const handleOf = async (incidentId: string) => {
    checkIncidentId(incidentId);
    return (await client()).workflow.getHandle(drWorkflowId(incidentId));
  };
  const describe = async (incidentId: string) => {
    const h = await handleOf(incidentId);
    try {
      return { h, desc: await h.describe() };
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw new OperationNotFoundError(drWorkflowId(incidentId));
      throw e;
    }
  };
  const update = async <R>(incidentId: string, name: string, arg: unknown): Promise<R> => {
    const { h, desc } = await describe(incidentId);
    // An Update cannot reach a closed workflow: say so plainly instead of Temporal's "not found".
    if (desc.status.name !== 'RUNNING') {
      const reason = `incident ${incidentId} is already closed (workflow ${h.workflowId} is ${desc.status.name}); read its report: lifeboat dr report ${incidentId}`;
      throw new DrRequestRejectedError(`${name} of incident ${incidentId} was refused: ${reason}`, reason, incidentId);
    }
    try {
      return await h.executeUpdate<R, [unknown]>(name, { args: [arg] });
    } catch (e) {
      if (e instanceof WorkflowUpdateFailedError || (e instanceof Error && /update/i.test(e.name))) {
        const reason = rejectionReason(e);
        throw new DrRequestRejectedError(
          `${name} of incident ${incidentId} was refused: ${reason}`,
          reason,
          incidentId,
        );
      }
      throw e;
    }
  };
  // DR requests are audited from the requesting process, with the approver they name (client/audit-trail.ts).
  const drAudited = <T>(
    operation: string,
    incidentId: string,
    approver: string | undefined,
    details: Record<string, unknown>,
    op: () => Promise<T>,
  ): Promise<T> => {
    let repo: Promise<Repository> | undefined;
    const get = () => (repo ??= openConfiguredRepository(config));
    return audited(
      get,
      {
        operation,
        summary: `${operation} of incident ${incidentId}`,
        who: { workflowId: drWorkflowId(incidentId), ...(approver?.trim() ? { approver: approver.trim() } : {}) },
        details: { incidentId, ...details },
      },
      op,
    ).finally(() => repo?.then((r) => r.close()).catch(() => undefined));
  };
  const status: DrClient['status'] = async (incidentId) => {
    const { h, desc } = await describe(incidentId);
    const s = await h.query<DrStatus>('drStatus');
    return { ...s, workflowStatus: desc.status.name, workflowId: h.workflowId, uiUrl: uiUrl(h.workflowId) };
  };

  const dr: DrClient = {
    async declare(o) {
      const input = normalizeDeclaration(config, o);
      const { injectVerifyFailure: _hook, holdAfterGroup: _hold, ...declaration } = input;
      const c = await client();
      const workflowId = drWorkflowId(input.incidentId);
      const running = await c.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined);
      if (running && running.status.name !== 'RUNNING')
        throw new IncidentClosedError(input.incidentId, workflowId, running.status.name);
      try {
        const h = await c.workflow.signalWithStart(DR_WORKFLOW_TYPE, {
          taskQueue: config.temporal.taskQueue,
          workflowId,
          args: [input],
          signal: 'declare',
          signalArgs: [declaration satisfies DrDeclaration],
          // A closed incident is not started again by a resend.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: SA.kind, value: 'dr' },
            { key: SA.incident, value: input.incidentId },
            { key: SA.severity, value: input.severity },
            { key: SA.phase, value: 'declared' },
            ...(input.sources ? [{ key: SA.source, value: input.sources }] : []),
          ],
          staticSummary: `Disaster recovery ${input.incidentId} (${input.severity}): ${input.sources?.join(', ') ?? 'all sources'}`,
          staticDetails: [
            `- **declared by:** ${input.declaredBy} via ${input.via}`,
            `- **reason:** ${input.reason}`,
            ...(input.before ? [`- **recover to before:** ${input.before}`] : []),
          ].join('\n'),
        });
        return {
          incidentId: input.incidentId,
          workflowId,
          runId: h.signaledRunId,
          joined: Boolean(running),
          ...(uiUrl(workflowId) ? { uiUrl: uiUrl(workflowId) } : {}),
        };
      } catch (e) {
        if (e instanceof WorkflowExecutionAlreadyStartedError)
          throw new IncidentClosedError(input.incidentId, workflowId, 'closed');
        throw e;
      }
    },
    status,
    plan: async (incidentId) => (await status(incidentId)).plan,
    async approve(incidentId, o) {
      if (!o.as?.trim()) throw new UsageError('an approval names the approver: --as NAME', '--as');
      const planVersion = o.planVersion ?? (await status(incidentId)).plan?.version ?? 0;
      return update(incidentId, 'approve', {
        approver: o.as.trim(),
        planVersion,
        ...(o.comment ? { comment: o.comment } : {}),
      });
    },
    async reject(incidentId, o) {
      if (!o.as?.trim()) throw new UsageError('a rejection names who rejects: --as NAME', '--as');
      if (!o.reason?.trim()) throw new UsageError('a rejection needs a reason: --reason TEXT', '--reason');
      await update(incidentId, 'reject', { by: o.as.trim(), reason: o.reason.trim() });
    },
    async abort(incidentId, o) {
      if (!o.as?.trim()) throw new UsageError('an abort names who aborts: --as NAME', '--as');
      if (!o.reason?.trim()) throw new UsageError('an abort needs a reason: --reason TEXT', '--reason');
      return update(incidentId, 'abort', { by: o.as.trim(), reason: o.reason.trim() });
    },
    async list() {
      const c = await client();
      const out: IncidentSummary[] = [];
      for await (const w of c.workflow.list({
        query: `LifeboatKind = 'dr' AND TaskQueue = '${config.temporal.taskQueue}'`,
      })) {
        const attr = (k: string) => (w.searchAttributes?.[k] as string[] | undefined)?.[0];
        out.push({
          incidentId: attr('LifeboatIncident') ?? w.workflowId.replace(/^lifeboat-dr-/, ''),
          workflowId: w.workflowId,
          status: w.status.name,
          ...(attr('LifeboatPhase') ? { phase: attr('LifeboatPhase') } : {}),
          ...(attr('LifeboatSeverity') ? { severity: attr('LifeboatSeverity') } : {}),
          startedAt: w.startTime.toISOString(),
          ...(w.closeTime ? { closedAt: w.closeTime.toISOString() } : {}),
        });
      }
      return out;
    },
    result: async (incidentId) => (await handleOf(incidentId)).result() as Promise<DrReport>,
    async report(incidentId) {
      checkIncidentId(incidentId);
      const repo = await openConfiguredRepository(config);
      try {
        return (await repo.records.get<DrReport>('incidents', incidentId))?.body;
      } finally {
        await repo.close();
      }
    },
    uiUrl,
    async close() {
      const t = temporal;
      temporal = undefined;
      await t?.then((h) => h.connection.close()).catch(() => undefined);
    },
  };
  return {
    ...dr,
    // Who declared it (a person, or an incident tool through the webhook) and with what: the first
    // entry of the incident's audit story; a resend that joins the running incident is recorded too.
    declare: (o) =>
      drAudited(
        'dr.declare',
        o.incidentId,
        undefined,
        { severity: o.severity, sources: o.sources ?? 'all', declaredBy: o.declaredBy, via: o.via },
        () => dr.declare(o),
      ),
    approve: (id, o) =>
      drAudited('dr.approve', id, o.as, { planVersion: o.planVersion, comment: o.comment }, () => dr.approve(id, o)),
    reject: (id, o) => drAudited('dr.reject', id, o.as, { reason: o.reason }, () => dr.reject(id, o)),
    abort: (id, o) => drAudited('dr.abort', id, o.as, { reason: o.reason }, () => dr.abort(id, o)),
  };
}
