import { LifeboatError } from '../lib/errors';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { UnknownSourceError } from '../config/errors';
import type { LifeboatConfig } from '../config/types';
import type { RecoveryPoint, Repository } from '../repository';
import { SA, SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import {
  WORKFLOW_TYPES,
  type BackupInput,
  type BackupResult,
  type RestoreInput,
  type RestoreResult,
  type WorkflowProgress,
} from '../workflows/types';
import type { VerifyInput, VerifyResult } from '../workflows/verify';
import { connectTemporal, type TemporalHandle } from './connection';
import { innermostApplicationFailure, operationError } from './workflow-failures';
import { ErrorCode } from '../lib/error-codes';
import { DRILL_RECORD_KIND, VERIFICATION_RECORD_KIND, type DrillInput, type DrillRecord } from '../lib/drill';
import { computeStatus, type VerificationRecordBody } from './status';
import { computeReport, type VerificationRecordInput } from './report/compute';
import {
  BackupAlreadyRunningError,
  NoRecoveryPointError,
  OperationNotFoundError,
  SearchAttributesMissingError,
  SourceNotInRecoveryPointError,
  TemporalUnreachableError,
  UsageError,
  PruneAlreadyRunningError,
  type OperationKind,
} from './errors';
import { POINT_TAGS } from '../lib/domain';
import { initConfiguredRepository, openConfiguredRepository } from '../runtime/configured-repository';
import { checkTargetFlags, resolveRestoreTargets } from './restore-targets';
import { scheduleOperations } from './schedules';
import { setupTracing, type Tracing } from '../observability/tracing';
import { audited } from './audit-trail';
import type {
  ActivityProgress,
  BackupOptions,
  LifeboatClient,
  LifeboatClientOptions,
  OperationHandle,
  OperationProgress,
  RestoreOptions,
  ScheduleOperations,
  VerifyOptions,
  DrillOptions,
  CheckOptions,
} from './types';
import { planConfiguredRetention } from '../activities/retention';
import { PRUNE_WORKFLOW_ID, type PruneInput, type PruneResult } from '../lib/prune';
import { computeStats } from './stats';
import {
  backupWorkflowId,
  checkWorkflowId,
  drillWorkflowId,
  restoreWorkflowId,
  verifyWorkflowId,
} from './workflow-ids';
import type { ConsistencyCheckInput, ConsistencyReport } from '../lib/consistency';

/** Recovery points Lifeboat takes of restore targets before overwriting them; never what "latest" means. */
const SAFETY_TAG = POINT_TAGS.safety;

const unique = (xs: readonly string[]) => [...new Set(xs)];

/** Source names a recovery point holds, in manifest order. */
export function sourcesOf(rp: RecoveryPoint): string[] {
  return unique(rp.artifacts.map((a) => a.source));
}

function checkSourceNames(config: LifeboatConfig, names: readonly string[]): void {
  const known = config.sources.map((s) => s.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw new UnknownSourceError(unknown, known);
}

const PENDING_ACTIVITY_STATES: Record<number, string> = {
  1: 'SCHEDULED',
  2: 'STARTED',
  3: 'CANCEL_REQUESTED',
  4: 'PAUSED',
  5: 'PAUSE_REQUESTED',
};

/**
 * The typed Lifeboat client: the CLI's operations as functions, for incident
 * tooling and scripts. Nothing connects until used: list/show/forget/hold
 * open the repository directly (no worker needed); backup/restore/verify
 * start workflows on the config's task queue and return handles.
 *
 * @example
 * const lb = createLifeboatClient(await loadConfig());
 * const op = await lb.backup({ sources: ['sessions'], trigger: 'pagerduty' });
 * console.log((await op.result()).recoveryPointId);
 * await lb.close();
 */
export function createLifeboatClient(config: LifeboatConfig, opts: LifeboatClientOptions = {}): LifeboatClient {
  const { temporal: tcfg } = config;
  const queryTimeoutMs = opts.queryTimeoutMs ?? 3000;
  let temporal: Promise<TemporalHandle> | undefined;
  let repository: Promise<Repository> | undefined;
  let tracing: Tracing | undefined;

  const getClient = async (): Promise<Client> => {
    if (opts.temporalClient) return opts.temporalClient;
    tracing ??= setupTracing(config.observability.tracing);
    temporal ??= connectTemporal(tcfg, {
      workflowInterceptors: tracing?.clientInterceptors,
      ...opts,
    });
    // A failed connect is not cached: the next call tries again.
    temporal.catch(() => (temporal = undefined));
    return (await temporal).client;
  };
  const getRepository = async (): Promise<Repository> => {
    if (opts.repository) return opts.repository;
    repository ??= openConfiguredRepository(config);
    repository.catch(() => (repository = undefined));
    return repository;
  };

  /** Temporal errors that mean "go fix your setup" get Lifeboat's own names. */
  const translate = (e: unknown): unknown => {
    if (!(e instanceof Error)) return e;
    if (/search attribute/i.test(e.message) && Object.keys(SEARCH_ATTRIBUTES).some((a) => e.message.includes(a))) {
      return new SearchAttributesMissingError(
        tcfg.namespace,
        Object.entries(SEARCH_ATTRIBUTES).map(([n, t]) => `${n}=${t}`),
        e,
      );
    }
    const code = (e.cause as { code?: unknown } | undefined)?.code;
    if (e.name === 'ServiceError' && code === 14) return new TemporalUnreachableError(tcfg.address, tcfg.namespace, e);
    return e;
  };

  const resolvePoint = async (id: string): Promise<RecoveryPoint> => {
    if (!id) throw new UsageError('a recovery point id is required (a full id, a unique prefix, or "latest")', 'ID');
    const repo = await getRepository();
    if (id === 'latest') {
      const rp = (await repo.listRecoveryPoints()).find((p) => !p.tags.includes(SAFETY_TAG) && !p.damaged);
      if (!rp) throw new NoRecoveryPointError(repo.url);
      return rp;
    }
    return repo.getRecoveryPoint(id);
  };

  // The direct operations, audited below (client/audit-trail.ts).
  const forgetPoint = async (id: string): Promise<RecoveryPoint & { lockedUntil?: string }> => {
    // A point whose manifest is damaged cannot be opened, but it can be forgotten (by its listed id).
    const rp = await resolvePoint(id).catch(async (e: unknown) => {
      if (!(e instanceof LifeboatError && e.code === 'REPOSITORY_OBJECT_CORRUPT')) throw e;
      const listed = (await (await getRepository()).listRecoveryPoints()).filter(
        (p) => p.damaged && p.id.startsWith(id),
      );
      if (listed.length !== 1) throw e;
      return listed[0];
    });
    const done = await (await getRepository()).forget(rp.id);
    return done.forgotten ? rp : { ...rp, lockedUntil: done.lockedUntil ?? 'its legal hold is removed' };
  };
  const holdPoint = async (id: string, reason: string): Promise<RecoveryPoint> => {
    if (!reason?.trim())
      throw new UsageError(
        'a legal hold needs a reason (--reason TEXT), kept with the recovery point for the audit trail',
        '--reason',
      );
    const rp = await resolvePoint(id);
    const repo = await getRepository();
    await repo.hold(rp.id, reason.trim());
    return repo.getRecoveryPoint(rp.id);
  };
  const unholdPoint = async (id: string): Promise<RecoveryPoint> => {
    const rp = await resolvePoint(id);
    const repo = await getRepository();
    await repo.unhold(rp.id);
    return repo.getRecoveryPoint(rp.id);
  };
  /** Schedule changes are audited; listing is not. */
  const auditedSchedules = (ops: ScheduleOperations): ScheduleOperations => ({
    ...ops,
    apply: () =>
      audited(
        getRepository,
        { operation: 'schedules.apply' },
        () => ops.apply(),
        (r) => ({
          summary: `schedules applied: ${r.created.length} created, ${r.updated.length} updated, ${r.deleted.length} deleted`,
          details: { created: r.created, updated: r.updated, deleted: r.deleted },
        }),
      ),
    pause: (name, note) =>
      audited(
        getRepository,
        { operation: 'schedules.pause', details: { name, note } },
        () => ops.pause(name, note),
        (ids) => ({
          summary: `paused ${ids.join(', ') || 'nothing'}`,
        }),
      ),
    unpause: (name, note) =>
      audited(
        getRepository,
        { operation: 'schedules.unpause', details: { name, note } },
        () => ops.unpause(name, note),
        (ids) => ({
          summary: `unpaused ${ids.join(', ') || 'nothing'}`,
        }),
      ),
  });

  const progressOf = async (workflowId: string, runId?: string): Promise<OperationProgress> => {
    const client = await getClient();
    const handle = client.workflow.getHandle(workflowId, runId);
    let desc;
    try {
      desc = await handle.describe();
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw new OperationNotFoundError(workflowId);
      throw translate(e);
    }
    let progress: WorkflowProgress | undefined;
    try {
      // Without a worker a query waits for one; the deadline keeps progress polling live.
      progress = await client.connection.withDeadline(Date.now() + queryTimeoutMs, () =>
        handle.query<WorkflowProgress>('progress'),
      );
    } catch {
      progress = undefined;
    }
    const converter = client.options.loadedDataConverter;
    const activities: ActivityProgress[] = [];
    for (const a of desc.raw.pendingActivities ?? []) {
      const details = a.heartbeatDetails?.payloads?.length
        ? await decodeArrayFromPayloads(converter, a.heartbeatDetails.payloads).catch(() => [])
        : [];
      const hb = (details[0] ?? {}) as Partial<
        Pick<ActivityProgress, 'label' | 'bytes' | 'items' | 'totalBytes' | 'totalItems'>
      >;
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      const entry: ActivityProgress = {
        activityType: a.activityType?.name ?? 'activity',
        state: PENDING_ACTIVITY_STATES[Number(a.state ?? 0)] ?? 'UNKNOWN',
        attempt: a.attempt ?? 1,
      };
      if (typeof hb.label === 'string') entry.label = hb.label;
      for (const k of ['bytes', 'items', 'totalBytes', 'totalItems'] as const) {
        const v = num(hb[k]);
        if (v !== undefined) entry[k] = v;
      }
      if (a.lastFailure?.message) entry.lastFailure = a.lastFailure.message;
      activities.push(entry);
    }
    return {
      workflowId,
      runId: desc.runId,
      status: desc.status.name,
      startedAt: desc.startTime.toISOString(),
      ...(desc.closeTime ? { closedAt: desc.closeTime.toISOString() } : {}),
      ...(progress ? { progress } : {}),
      activities,
    };
  };

  function wrap<T>(
    kind: OperationKind,
    h: WorkflowHandleWithFirstExecutionRunId,
    startedAt: Date,
    sources: readonly string[],
    recoveryPointId?: string,
  ): OperationHandle<T> {
    const runId = h.firstExecutionRunId;
    return {
      kind,
      workflowId: h.workflowId,
      runId,
      startedAt,
      sources,
      ...(recoveryPointId ? { recoveryPointId } : {}),
      async result() {
        try {
          return (await h.result()) as T;
        } catch (e) {
          throw operationError(kind, h.workflowId, translate(e));
        }
      },
      progress: () => progressOf(h.workflowId, runId),
      cancel: () => h.cancel().then(() => undefined),
    };
  }

  const start = async (
    workflowType: string,
    options: Parameters<Client['workflow']['start']>[1],
  ): Promise<{ handle: WorkflowHandleWithFirstExecutionRunId; startedAt: Date }> => {
    const client = await getClient();
    const startedAt = new Date();
    try {
      const handle = await client.workflow.start(workflowType, options);
      return { handle, startedAt };
    } catch (e) {
      throw translate(e);
    }
  };

  const bullet = (k: string, v: string) => `- **${k}:** ${v}`;

  return {
    config,

    async backup(o: BackupOptions = {}) {
      const all = config.sources.map((s) => s.name);
      const requested = o.sources?.length ? unique(o.sources) : undefined;
      if (requested) checkSourceNames(config, requested);
      const everything = !requested || (requested.length === all.length && all.every((n) => requested.includes(n)));
      const sources = everything ? all : [...requested].sort();
      const workflowId = backupWorkflowId(everything ? undefined : sources);
      const input: BackupInput = {
        ...(everything ? {} : { sources }),
        ...(o.tags?.length ? { tags: [...o.tags] } : {}),
        trigger: o.trigger ?? 'client',
        ...(o.verify ? { verify: o.verify } : {}),
      };
      try {
        const { handle, startedAt } = await start(WORKFLOW_TYPES.backup, {
          taskQueue: tcfg.taskQueue,
          workflowId,
          args: [input],
          // Two backups of the same sources never run at once; a new one may start once the last has closed.
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: [
            { key: SA.kind, value: 'backup' },
            { key: SA.source, value: sources },
          ],
          staticSummary: `Backup of ${sources.join(', ')}`,
          staticDetails: [
            bullet('sources', sources.join(', ')),
            bullet('trigger', input.trigger ?? 'client'),
            ...(input.tags ? [bullet('tags', input.tags.join(', '))] : []),
            bullet('repository', config.repository.url),
          ].join('\n'),
        });
        return wrap<BackupResult>('backup', handle, startedAt, sources);
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        const running = await (
          await getClient()
        ).workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => undefined);
        throw new BackupAlreadyRunningError(workflowId, running?.runId, running?.startTime, sources);
      }
    },

    async restore(id: string, o: RestoreOptions = {}) {
      checkTargetFlags(o);
      const requested = o.sources?.length ? unique(o.sources) : undefined;
      if (requested) checkSourceNames(config, requested);
      const rp = await resolvePoint(id);
      const available = sourcesOf(rp);
      const selected = requested ?? available;
      const missing = selected.filter((n) => !available.includes(n));
      if (missing.length) throw new SourceNotInRecoveryPointError(rp.id, missing, available);
      if (!requested) {
        const known = config.sources.map((s) => s.name);
        const gone = selected.filter((n) => !known.includes(n));
        if (gone.length)
          throw new UnknownSourceError(
            gone,
            known,
            ` (recovery point ${rp.id} holds it but the config no longer declares it; restore the others with --source)`,
          );
      }
      if (o.checkConsistency && !config.consistency?.links.length)
        throw new UsageError(
          '--check-consistency needs consistency links in the config (consistency.links, docs/consistency.md)',
          '--check-consistency',
        );
      const targets = resolveRestoreTargets(config, selected, o);
      const input: RestoreInput = {
        recoveryPointId: rp.id,
        ...(requested ? { sources: [...selected] } : {}),
        ...(Object.keys(targets).length ? { targets } : {}),
        ...(o.safetyBackup === false ? { skipSafetyBackup: true } : {}),
        trigger: o.trigger ?? 'client',
        ...(o.checkConsistency ? { checkConsistency: true } : {}),
      };
      const where = selected.map((n) => {
        const t = targets[n];
        const to = t
          ? [t.redisUrl, t.redisDb !== undefined ? `db ${t.redisDb}` : undefined, t.collection, t.path]
              .filter(Boolean)
              .join(' ')
          : 'its configured location';
        return `${n} → ${to}`;
      });
      const { handle, startedAt } = await start(WORKFLOW_TYPES.restore, {
        taskQueue: tcfg.taskQueue,
        workflowId: restoreWorkflowId(rp.id),
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [
          { key: SA.kind, value: 'restore' },
          { key: SA.source, value: [...selected] },
          { key: SA.recoveryPoint, value: rp.id },
        ],
        staticSummary: `Restore ${rp.id} (${selected.join(', ')})`,
        staticDetails: [
          bullet('recovery point', `${rp.id} (${rp.time}, ${rp.host})`),
          bullet('targets', where.join('; ')),
          bullet('safety backup', o.safetyBackup === false ? 'no (no rollback data)' : 'yes'),
          ...(o.checkConsistency ? [bullet('consistency gate', 'yes (a disagreement rolls back)')] : []),
          bullet('trigger', input.trigger ?? 'client'),
        ].join('\n'),
      });
      return wrap<RestoreResult>('restore', handle, startedAt, selected, rp.id);
    },

    async verify(id?: string, o: VerifyOptions = {}) {
      if (o.subsetPercent !== undefined) {
        if (!(Number.isFinite(o.subsetPercent) && o.subsetPercent > 0 && o.subsetPercent <= 100)) {
          throw new UsageError(
            `--subset ${o.subsetPercent} is not a percentage; use a number above 0 and at most 100`,
            '--subset',
          );
        }
        if (o.readData === false)
          throw new UsageError('--subset reads a share of the data, so it needs --read-data', '--subset');
      }
      const readData = o.readData ?? o.subsetPercent !== undefined;
      const rp = id ? await resolvePoint(id) : undefined;
      const input: VerifyInput = {
        ...(rp ? { recoveryPointId: rp.id } : {}),
        readData,
        ...(readData && o.subsetPercent !== undefined ? { subsetPercent: o.subsetPercent } : {}),
      };
      const what = rp ? `recovery point ${rp.id}` : 'the whole repository';
      const { handle, startedAt } = await start(WORKFLOW_TYPES.verify, {
        taskQueue: tcfg.taskQueue,
        workflowId: verifyWorkflowId(rp?.id),
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [
          { key: SA.kind, value: 'verify' },
          ...(rp ? [{ key: SA.recoveryPoint, value: rp.id }] : []),
        ],
        staticSummary: `Verify ${what}${readData ? ` (read ${input.subsetPercent ?? 100}% of the data)` : ' (structure)'}`,
        staticDetails: [
          bullet('what', what),
          bullet('read data', readData ? `${input.subsetPercent ?? 100}%` : 'no, structure only'),
          bullet('repository', config.repository.url),
        ].join('\n'),
      });
      return wrap<VerifyResult>('verify', handle, startedAt, rp ? sourcesOf(rp) : [], rp?.id);
    },

    async drill(o: DrillOptions = {}) {
      const requested = o.sources?.length ? unique(o.sources) : undefined;
      if (requested) checkSourceNames(config, requested);
      const sources = requested ? [...requested].sort() : config.sources.map((s) => s.name);
      // Resolved here so a bad id is a usage error before anything starts.
      const rp = o.recoveryPointId ? await resolvePoint(o.recoveryPointId) : undefined;
      const input: DrillInput = {
        ...(requested ? { sources } : {}),
        ...(rp ? { recoveryPointId: rp.id } : {}),
        trigger: o.trigger ?? 'client',
      };
      const { handle, startedAt } = await start(WORKFLOW_TYPES.drill, {
        taskQueue: tcfg.taskQueue,
        workflowId: drillWorkflowId(),
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [
          { key: SA.kind, value: 'drill' },
          { key: SA.source, value: sources },
          ...(rp ? [{ key: SA.recoveryPoint, value: rp.id }] : []),
        ],
        staticSummary: `Restore drill of ${sources.join(', ')}${rp ? ` from ${rp.id}` : ''}`,
        staticDetails: [
          bullet('sources', sources.join(', ')),
          bullet('recovery point', rp ? `${rp.id} (${rp.time})` : 'the newest holding every drilled source'),
          bullet('trigger', input.trigger ?? 'client'),
        ].join('\n'),
      });
      const op = wrap<DrillRecord>('drill', handle, startedAt, sources, rp?.id);
      return {
        ...op,
        async result() {
          try {
            return (await handle.result()) as DrillRecord;
          } catch (e) {
            // A drill that ran to a verdict carries its record in the failure: a failed drill is a result, not an error.
            const app = e instanceof WorkflowFailedError ? innermostApplicationFailure(e) : undefined;
            const record = app?.details?.[0] as DrillRecord | undefined;
            if (
              (app?.type === ErrorCode.DRILL_FAILED || app?.type === ErrorCode.DRILL_CLEANUP_FAILED) &&
              record &&
              typeof record === 'object' &&
              typeof record.drillId === 'string'
            )
              return record;
            throw operationError('drill', handle.workflowId, translate(e));
          }
        },
      };
    },

    async prune(o = {}) {
      const input: PruneInput = {
        trigger: o.trigger ?? 'client',
        ...(o.overrides && Object.keys(o.overrides).length ? { overrides: o.overrides } : {}),
        ...(o.graceMs !== undefined ? { graceMs: o.graceMs } : {}),
        ...(o.waitMs !== undefined ? { waitMs: o.waitMs } : {}),
      };
      try {
        const { handle, startedAt } = await start(WORKFLOW_TYPES.prune, {
          taskQueue: tcfg.taskQueue,
          workflowId: PRUNE_WORKFLOW_ID,
          args: [input],
          // One prune at a time; the next may start once this one has closed.
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: [{ key: SA.kind, value: 'prune' }],
          staticSummary: 'Prune: apply the retention policy, then delete unreferenced data',
          staticDetails: [
            bullet('trigger', input.trigger ?? 'client'),
            bullet('repository', config.repository.url),
            ...(input.overrides ? [bullet('rules', JSON.stringify(input.overrides))] : []),
          ].join('\n'),
        });
        return wrap<PruneResult>('prune', handle, startedAt, []);
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        const running = await (
          await getClient()
        ).workflow
          .getHandle(PRUNE_WORKFLOW_ID)
          .describe()
          .catch(() => undefined);
        throw new PruneAlreadyRunningError(PRUNE_WORKFLOW_ID, running?.startTime);
      }
    },

    async prunePlan(o = {}) {
      const repo = await getRepository();
      const retention = await planConfiguredRetention(repo, config, o.overrides);
      const data = await repo.prune({ dryRun: true, graceMs: o.graceMs, assumeForgotten: retention.remove });
      return { retention, data };
    },

    retentionPlan: async (overrides) => planConfiguredRetention(await getRepository(), config, overrides),

    stats: async () => computeStats(await getRepository()),

    async check(o: CheckOptions = {}) {
      const known = (config.consistency?.links ?? []).map((l) => l.name);
      if (!known.length)
        throw new UsageError(
          'the config declares no consistency links; add consistency.links (docs/consistency.md)',
          '--link',
        );
      const links = o.links?.length ? unique(o.links) : undefined;
      const unknown = (links ?? []).filter((n) => !known.includes(n));
      if (unknown.length)
        throw new UsageError(
          `unknown consistency link ${unknown.map((n) => `"${n}"`).join(', ')}; configured links: ${known.join(', ')}`,
          '--link',
        );
      const input: ConsistencyCheckInput = {
        ...(links ? { links } : {}),
        ...(o.targets && Object.keys(o.targets).length ? { targets: { ...o.targets } } : {}),
        trigger: o.trigger ?? 'client',
      };
      const sources = unique(
        (config.consistency?.links ?? [])
          .filter((l) => !links || links.includes(l.name))
          .flatMap((l) => [l.redis?.source, l.faiss?.source, l.qdrant?.source].filter((x): x is string => !!x)),
      );
      const { handle, startedAt } = await start(WORKFLOW_TYPES.consistencyCheck, {
        taskQueue: tcfg.taskQueue,
        workflowId: checkWorkflowId(links),
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [
          { key: SA.kind, value: 'consistency' },
          { key: SA.source, value: sources },
        ],
        staticSummary: `Consistency check of ${links ? links.join(', ') : 'every link'}`,
        staticDetails: [
          bullet('links', (links ?? known).join(', ')),
          bullet('sources', sources.join(', ')),
          bullet('trigger', input.trigger ?? 'client'),
        ].join('\n'),
      });
      return wrap<ConsistencyReport>('check', handle, startedAt, sources);
    },

    async status(now?: Date) {
      const repo = await getRepository();
      const [points, drills, verifications] = await Promise.all([
        repo.listRecoveryPoints(),
        repo.records.list<DrillRecord>(DRILL_RECORD_KIND),
        repo.records.list<VerificationRecordBody>(VERIFICATION_RECORD_KIND),
      ]);
      return computeStatus(
        config.sources,
        points,
        drills.records.map((r) => r.body),
        verifications.records.map((r) => r.body),
        now ?? new Date(),
      );
    },

    async report(period) {
      const repo = await getRepository();
      const [points, drills, verifications] = await Promise.all([
        repo.listRecoveryPoints(),
        repo.records.list<DrillRecord>(DRILL_RECORD_KIND),
        repo.records.list<VerificationRecordInput>(VERIFICATION_RECORD_KIND),
      ]);
      return computeReport(
        config.sources,
        {
          points,
          drills: drills.records.map((r) => r.body),
          verifications: verifications.records.map((r) => r.body),
          damagedRecords: [...drills.damaged, ...verifications.damaged],
        },
        period,
        new Date(),
      );
    },

    async init() {
      const repo = await initConfiguredRepository(config);
      const out = { id: repo.id, url: repo.url };
      if (opts.repository) await repo.close();
      else repository ??= Promise.resolve(repo);
      return out;
    },
    list: async () => (await getRepository()).listRecoveryPoints(),
    show: (id) => resolvePoint(id),
    forget: (id) =>
      audited(
        getRepository,
        { operation: 'forget', points: [id], summary: `forget ${id}` },
        () => forgetPoint(id),
        (rp) => ({
          points: [rp.id],
          sources: sourcesOf(rp),
          summary: rp.lockedUntil
            ? `recovery point ${rp.id} kept: under S3 Object Lock until ${rp.lockedUntil}`
            : `forgot recovery point ${rp.id}`,
        }),
      ),
    hold: (id, reason) =>
      audited(
        getRepository,
        { operation: 'hold', points: [id], summary: `hold ${id}: ${reason}` },
        () => holdPoint(id, reason),
        (rp) => ({
          points: [rp.id],
          summary: `recovery point ${rp.id} held: ${reason}`,
        }),
      ),
    unhold: (id) =>
      audited(
        getRepository,
        { operation: 'unhold', points: [id], summary: `unhold ${id}` },
        () => unholdPoint(id),
        (rp) => ({
          points: [rp.id],
          summary: `recovery point ${rp.id} released from hold`,
        }),
      ),
    progress: (workflowId) => progressOf(workflowId),
    schedules: auditedSchedules(
      scheduleOperations(
        config,
        async () => {
          try {
            return await getClient();
          } catch (e) {
            throw translate(e);
          }
        },
        opts.scheduleIdPrefix,
      ),
    ),

    async close() {
      const t = temporal;
      const r = repository;
      temporal = undefined;
      repository = undefined;
      // A CLI process exits right after: send the client's spans (StartWorkflow, ...) before it does.
      await Promise.allSettled([
        t?.then((h) => h.connection.close()),
        r?.then((repo) => repo.close()),
        tracing?.shutdown(),
      ]);
    },
  };
}
