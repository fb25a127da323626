/**
 * createActivities: every activity of Lifeboat bound to one config (the worker registers the result).
 * Store-specific work is behind the StoreHandler of each store (activities/redis.ts, faiss.ts,
 * qdrant.ts); operation families (drills, DR, notifications) come from their own files.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { PlanError, RecoveryPointDamagedError } from './errors';
import type { LifeboatConfig, SourceConfig } from '../config';
import type { RecoveryPoint } from '../repository';
import { asActivity } from './failures';
import { withHeartbeat } from './heartbeat';
import { RepositoryProvider } from './repository';
import { artifactsOf, bindStore, type BoundStore, type StoreContext } from './store';
import { redisHandler } from './redis';
import { faissHandler } from './faiss';
import { qdrantHandler } from './qdrant';
import { filesHandler } from './files';
import { createDrillActivities, recordVerification } from './drill';
import type { ArtifactHandle, DrActivities, LifeboatActivities, PlannedSource, ReindexActivities } from './types';
import { createDrActivities } from './dr';
import { createNotifyActivities } from './notify';
import { createPruneActivities } from './prune';
import type { PruneActivities } from '../lib/prune';
import { createConsistencyActivities } from './consistency';
import { appendOperationAudit } from './audit';
import { createReindexActivities } from './reindex';
import { inSpan } from '../lib/spans';
import { POINT_TAGS } from '../lib/domain';

/** The store handler of a source, bound to it (typed per store; see activities/store.ts). */
function storeFor(s: SourceConfig): BoundStore {
  switch (s.type) {
    case 'redis':
      return bindStore(redisHandler, s);
    case 'faiss':
      return bindStore(faissHandler, s);
    case 'qdrant':
      return bindStore(qdrantHandler, s);
    case 'files':
      return bindStore(filesHandler, s);
  }
}

export interface ActivityDeps {
  config: LifeboatConfig;
  /** Override how the repository is opened (tests). @default from config.repository */
  repositories?: RepositoryProvider;
  /**
   * Test-only behaviour, off in every production worker (workers/main.ts never
   * sets it): with `injectedFailures`, RestoreInput.injectVerifyFailure fails
   * that source's verification to exercise the rollback. A production worker
   * refuses the hook instead (the restore then rolls back, saying why).
   */
  testHooks?: { injectedFailures?: boolean };
}

/**
 * All of Lifeboat's activities, bound to a config. Workflows pass only source
 * names and recovery point ids; connection details and secrets stay here, in
 * the worker.
 */
export function createActivities(
  deps: ActivityDeps,
): LifeboatActivities & DrActivities & PruneActivities & ReindexActivities & { closeActivities(): Promise<void> } {
  const { config } = deps;
  const repos = deps.repositories ?? new RepositoryProvider(config);
  const scratchDir = config.worker.scratchDir;
  mkdirSync(scratchDir, { recursive: true, mode: 0o700 });

  const sourceNamed = (name: string): SourceConfig => {
    const s = config.sources.find((x) => x.name === name);
    if (!s)
      throw new PlanError([
        `unknown source "${name}"; configured sources: ${config.sources.map((x) => x.name).join(', ')}`,
      ]);
    return s;
  };
  const planned = (s: SourceConfig): PlannedSource => ({
    name: s.name,
    type: s.type,
    restoreOrder: s.restoreOrder ?? storeFor(s).defaultRestoreOrder,
  });
  const ctxFor = async (hb: StoreContext['hb']): Promise<StoreContext> => ({ repo: await repos.get(), hb, scratchDir });
  const noHb: StoreContext['hb'] = { signal: new AbortController().signal, onProgress: () => {} };
  const resolvePoint = async (idOrPrefix: string): Promise<RecoveryPoint> => {
    const repo = await repos.get();
    if (idOrPrefix === 'latest') {
      const all = (await repo.listRecoveryPoints()).filter((rp) => !rp.tags.includes(POINT_TAGS.safety) && !rp.damaged);
      if (!all.length) throw new PlanError(['the repository has no recovery point yet: run a backup first']);
      return all[0];
    }
    return repo.getRecoveryPoint(idOrPrefix);
  };
  const findByLabel = async (key: string, value: string) =>
    (await (await repos.get()).listRecoveryPoints()).find((rp) => rp.labels[key] === value);

  return {
    ...createDrActivities({ config, repositories: repos, scratchDir }),
    ...createPruneActivities({ config, repositories: repos }),
    ...createConsistencyActivities({ config, repositories: repos }),
    ...createNotifyActivities({ config, audit: (r) => appendOperationAudit(repos, r) }),
    planBackup: (input) =>
      asActivity(async () => {
        const names = input.sources?.length ? input.sources : config.sources.map((s) => s.name);
        const problems = names
          .filter((n) => !config.sources.some((s) => s.name === n))
          .map((n) => `unknown source "${n}"; configured sources: ${config.sources.map((s) => s.name).join(', ')}`);
        if (problems.length) throw new PlanError(problems);
        return {
          sources: names.map((n) => planned(sourceNamed(n))),
          targets: names.map((n) => storeFor(sourceNamed(n)).describeTarget()),
          parallelism: config.backup.parallelism,
          verify: config.backup.verify,
        };
      }),

    backupSource: ({ source }) =>
      asActivity(() =>
        withHeartbeat(`backup ${source}`, async (hb) => {
          const s = sourceNamed(source);
          const started = Date.now();
          const ctx = await ctxFor(hb);
          const out = await inSpan('read source', { 'lifeboat.source': source, 'lifeboat.source_type': s.type }, () =>
            storeFor(s).backup(ctx),
          );
          const durationMs = Date.now() - started;
          return {
            // Kept in the manifest so the metrics (items, throughput) come from the repository.
            artifacts: out.artifacts.map((a) => ({
              ...a,
              metadata: { ...a.metadata, sourceItems: out.items, sourceDurationMs: durationMs },
            })),
            summary: {
              source,
              type: s.type,
              artifacts: out.artifacts.length,
              bytes: out.artifacts.reduce((a, x) => a + x.size, 0),
              newBytes: out.artifacts.reduce(
                (a, x) => a + Number((x.metadata?.newBytes as number | undefined) ?? 0),
                0,
              ),
              items: out.items,
              durationMs,
              ...(out.notes?.length ? { notes: out.notes } : {}),
            },
          };
        }),
      ),

    commitRecoveryPoint: (input) =>
      asActivity(async () => {
        // A retry after a commit whose reply was lost must not create a second point.
        const existing = input.labels.runId ? await findByLabel('runId', input.labels.runId) : undefined;
        if (existing) return { id: existing.id };
        const repo = await repos.get();
        const rp = await inSpan('commit', { 'lifeboat.artifacts': input.artifacts.length }, () =>
          repo.commitRecoveryPoint({
            artifacts: input.artifacts,
            tags: input.tags,
            labels: input.labels,
            host: os.hostname(),
          }),
        );
        return { id: rp.id };
      }),

    verifyRecoveryPoint: (input) =>
      asActivity(() =>
        withHeartbeat(`verify ${input.id ?? 'repository'}`, async (hb) => {
          const repo = await repos.get();
          const report = await repo.verify({
            recoveryPointId: input.id,
            readData: input.readData,
            subsetPercent: input.subsetPercent,
            signal: hb.signal,
            onProgress: (p: { bytes?: number; objects?: number }) =>
              hb.onProgress({ bytes: p.bytes ?? 0, items: p.objects }),
          });
          const result = {
            ok: report.ok,
            problems: report.problems.map((p: { message?: string; object?: string } | string) =>
              typeof p === 'string' ? p : `${p.object ?? ''}: ${p.message ?? ''}`,
            ),
            checkedObjects: report.checkedObjects ?? 0,
          };
          // Measured RPO counts only points that passed verification (or a drill): keep the outcome.
          if (input.id) await recordVerification(repo, input.id, input.readData, result);
          return result;
        }),
      ),

    planRestore: (input) =>
      asActivity(async () => {
        const rp = await resolvePoint(input.recoveryPointId);
        const inPoint = [...new Set(rp.artifacts.map((a) => a.source))];
        const names = input.sources?.length ? input.sources : inPoint;
        const problems: string[] = [];
        for (const n of names) {
          if (!inPoint.includes(n))
            problems.push(
              `source "${n}" is not in recovery point ${rp.id} (it holds: ${inPoint.join(', ') || 'nothing'})`,
            );
          else if (!config.sources.some((s) => s.name === n))
            problems.push(
              `source "${n}" is in recovery point ${rp.id} but not in the config: add it to sources so Lifeboat knows where to restore it`,
            );
        }
        for (const n of Object.keys(input.targets ?? {}))
          if (!names.includes(n)) problems.push(`a target override names "${n}", which is not being restored`);
        if (problems.length) throw new PlanError(problems);
        const ctx = await ctxFor(noHb);
        const structure = await ctx.repo.verify({ recoveryPointId: rp.id, readData: false });
        if (!structure.ok)
          problems.push(
            `recovery point ${rp.id} is damaged: ${structure.problems
              .slice(0, 3)
              .map((p: unknown) => (typeof p === 'string' ? p : JSON.stringify(p)))
              .join('; ')}`,
          );
        const sources = names.map((n) => sourceNamed(n));
        for (const s of sources) {
          const found = await storeFor(s).preflight(input.targets?.[s.name], artifactsOf(rp, s.name), ctx);
          problems.push(...found.map((p) => `${s.name}: ${p}`));
        }
        if (problems.length) throw new PlanError(problems);
        const ordered = sources.map((s) => ({
          ...planned(s),
          target: storeFor(s).describeTarget(input.targets?.[s.name]),
        }));
        ordered.sort((a, b) => a.restoreOrder - b.restoreOrder || a.name.localeCompare(b.name));
        return { recoveryPointId: rp.id, sources: ordered };
      }),

    authenticateRestoreData: (input) =>
      asActivity(() =>
        withHeartbeat(`authenticate ${input.recoveryPointId}`, async (hb) => {
          // Check before touching: every byte the restore will write is read, decrypted and
          // hashed here first, so a damaged point is refused while every target is still intact.
          const ctx = await ctxFor(hb);
          const rp = await ctx.repo.getRecoveryPoint(input.recoveryPointId);
          const problems: string[] = [];
          let bytes = 0;
          for (const name of input.sources)
            for (const a of artifactsOf(rp, name)) {
              try {
                for await (const piece of ctx.repo.readArtifact(a, { signal: hb.signal })) {
                  bytes += (piece as Buffer).length;
                  hb.onProgress({ bytes });
                }
              } catch (e) {
                hb.signal.throwIfAborted();
                problems.push(`${name} artifact ${a.name} (index ${a.indexId}): ${(e as Error).message}`);
              }
            }
          if (problems.length) throw new RecoveryPointDamagedError(rp.id, problems);
          return { bytes };
        }),
      ),

    safetyBackup: (input) =>
      asActivity(() =>
        withHeartbeat(`safety backup ${input.restoreId}`, async (hb) => {
          const existing = await findByLabel('safetyFor', input.restoreId);
          if (existing) return { recoveryPointId: existing.id };
          // The way back must not rest on an unchecked chunk: reused chunks are authenticated (and repaired).
          const ctx = { ...(await ctxFor(hb)), authenticateReused: true };
          // The stores are captured side by side: much of each capture waits on its server, and the
          // restore's downtime starts only after this. Every capture is waited for before a failure is
          // reported, so a retry never runs beside a capture still writing.
          const settled = await Promise.allSettled(
            input.sources.map((t) => storeFor(sourceNamed(t.source)).safetyBackup(t.target, ctx)),
          );
          const failed = settled.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
          const artifacts: ArtifactHandle[] = settled.flatMap((r) =>
            r.status === 'fulfilled' ? r.value.artifacts : [],
          );
          const rp = await ctx.repo.commitRecoveryPoint({
            artifacts,
            tags: [POINT_TAGS.safety],
            labels: {
              safetyFor: input.restoreId,
              restoring: input.recoveryPointId,
              sources: input.sources.map((x) => x.source).join(','),
            },
            host: os.hostname(),
          });
          return { recoveryPointId: rp.id };
        }),
      ),

    restoreSource: (input) =>
      asActivity(() =>
        withHeartbeat(`restore ${input.source}`, async (hb) => {
          const s = sourceNamed(input.source);
          const ctx = await ctxFor(hb);
          const rp = await ctx.repo.getRecoveryPoint(input.recoveryPointId);
          const out = await storeFor(s).restore(input.target, artifactsOf(rp, s.name), input.restoreId, ctx);
          return { source: s.name, target: storeFor(s).describeTarget(input.target), ...out };
        }),
      ),

    verifyRestoredSource: (input) =>
      asActivity(() =>
        withHeartbeat(`verify ${input.source}`, async (hb) => {
          const s = sourceNamed(input.source);
          const ctx = await ctxFor(hb);
          const rp = await ctx.repo.getRecoveryPoint(input.recoveryPointId);
          const v = await storeFor(s).verify(input.target, artifactsOf(rp, s.name), input.check, ctx);
          if (input.injectFailure && !deps.testHooks?.injectedFailures)
            throw new PlanError([
              'injectVerifyFailure is a test hook and this worker was not started with test hooks: leave it out of the restore input',
            ]);
          if (input.injectFailure)
            return { ok: false, detail: `injected verification failure (test hook); real check said: ${v.detail}` };
          return v;
        }),
      ),

    confirmRestore: (input) =>
      asActivity(async () => {
        const s = sourceNamed(input.source);
        const ctx = await ctxFor(noHb);
        await storeFor(s).confirm(
          input.target,
          artifactsOf(await ctx.repo.getRecoveryPoint(input.recoveryPointId), s.name),
          input.restoreId,
          ctx,
        );
      }),

    compensateRestore: (input) =>
      asActivity(() =>
        withHeartbeat(`roll back ${input.source}`, async (hb) => {
          const s = sourceNamed(input.source);
          const ctx = await ctxFor(hb);
          const safety = input.safetyRecoveryPointId
            ? artifactsOf(await ctx.repo.getRecoveryPoint(input.safetyRecoveryPointId), s.name)
            : undefined;
          const restoring = artifactsOf(await ctx.repo.getRecoveryPoint(input.recoveryPointId), s.name);
          await storeFor(s).compensate(input.target, restoring, input.restoreId, safety, input.check, ctx);
        }),
      ),

    ...createDrillActivities({ config, repositories: repos }),
    ...createReindexActivities({ config }),

    closeActivities: () => repos.close(),
  };
}

export const defaultScratchDir = () => path.join(os.tmpdir(), 'lifeboat');
