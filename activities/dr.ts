import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { FaissSourceConfig, LifeboatConfig, QdrantSourceConfig, RedisSourceConfig, SourceConfig } from '../config';
import { resolveSecret } from '../config';
import { LifeboatError } from '../lib/errors';
import { POINT_TAGS } from '../lib/domain';
import type { RecoveryPoint } from '../repository';
import { fingerprintRedis, type RedisBackupInfo, type RedisConnectionOptions } from '../sources/redis';
import { faissFingerprintFromBackup, fingerprintFaiss, SINGLE_FILE_KEY, type FaissBackupInfo } from '../sources/faiss';
import { dropQdrantCollection, fingerprintQdrant, type QdrantBackupInfo } from '../sources/qdrant';
import type { SourceFingerprint } from '../sources/types';
import type { DrPlan, PlanGroup, PlannedRecovery, SourceAssessment } from '../lib/dr';
import type { DrActivities } from './types';
import { asActivity } from './failures';
import { withHeartbeat } from './heartbeat';
import { faissHandler } from './faiss';
import { filesHandler, filesRecordedFingerprint, liveFilesFingerprint } from './files';
import { FAISS_OPAQUE_KIND, putBackFaissBytes } from './faiss-put-back';
import { qdrantHandler } from './qdrant';
import { redisHandler } from './redis';
import type { RepositoryProvider } from './repository';
import type { ArtifactHandle } from './types';
import { bindStore, type BoundStore, type StoreContext } from './store';

/** A live count below this share of the newest backup's marks a source degraded. */
const DEGRADED_BELOW = 0.9;

export class DrPlanError extends LifeboatError {
  constructor(message: string) {
    super(message, 'DR_PLAN_INVALID');
  }
}

function storeFor(s: SourceConfig): BoundStore {
  if (s.type === 'redis') return bindStore(redisHandler, s);
  if (s.type === 'faiss') return bindStore(faissHandler, s);
  if (s.type === 'files') return bindStore(filesHandler, s);
  return bindStore(qdrantHandler, s);
}
const DEFAULT_ORDER: Record<string, number> = { redis: 10, qdrant: 20, faiss: 20, files: 5 };

async function redisConnection(s: RedisSourceConfig): Promise<RedisConnectionOptions> {
  const password = s.password ? await resolveSecret(s.password) : undefined;
  const base = { username: s.username, password, tls: s.tls, pattern: s.pattern };
  if (s.cluster) return { ...base, cluster: s.cluster.map((n) => ({ host: n.host, port: n.port })), db: s.db };
  return { ...base, url: s.url, db: s.db };
}
const qdrantConnection = async (s: QdrantSourceConfig) => ({
  url: s.url,
  apiKey: s.apiKey ? await resolveSecret(s.apiKey) : undefined,
});

/** The fingerprint a recovery point recorded for a source (same keys as the live one). */
function recordedFingerprint(s: SourceConfig, artifacts: ArtifactHandle[]): SourceFingerprint {
  if (s.type === 'redis') {
    const info = artifacts[0]?.metadata?.redis as RedisBackupInfo | undefined;
    return info?.fingerprint ?? { counts: {}, digests: {} };
  }
  if (s.type === 'files') return filesRecordedFingerprint(artifacts);
  if (s.type === 'faiss') {
    const entries = artifacts.map((a) => ({
      relativePath: String(a.metadata?.relativePath ?? SINGLE_FILE_KEY),
      info: a.metadata?.faiss as FaissBackupInfo,
    }));
    return entries.length === 1 && entries[0].relativePath === SINGLE_FILE_KEY
      ? faissFingerprintFromBackup(entries[0].info)
      : faissFingerprintFromBackup(entries);
  }
  const out: SourceFingerprint = { counts: {}, digests: {} };
  for (const a of artifacts) {
    const fp = (a.metadata?.qdrant as QdrantBackupInfo).fingerprint;
    Object.assign(out.counts, fp.counts);
    Object.assign(out.digests, fp.digests);
  }
  return out;
}

/** Live fingerprint of a source's configured location, keyed as the backup keys it. */
async function liveFingerprint(s: SourceConfig, signal: AbortSignal): Promise<SourceFingerprint> {
  if (s.type === 'redis') return fingerprintRedis(await redisConnection(s), { signal });
  if (s.type === 'files') return liveFilesFingerprint(s, undefined, signal);
  if (s.type === 'faiss') {
    const fp = await fingerprintFaiss(s.path, { signal });
    return { counts: fp.counts, digests: fp.digests };
  }
  const conn = await qdrantConnection(s);
  const out: SourceFingerprint = { counts: {}, digests: {} };
  for (const c of s.collections) {
    const fp = await fingerprintQdrant(conn, c, { signal });
    Object.assign(out.counts, fp.counts);
    Object.assign(out.digests, fp.digests);
  }
  return out;
}

const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

/** Differences between two fingerprints, readable; empty when equal. */
function fingerprintDiff(want: SourceFingerprint, got: SourceFingerprint): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(want.counts), ...Object.keys(got.counts)])) {
    if (want.counts[k] !== got.counts[k])
      out.push(`${k}: ${got.counts[k] ?? 'absent'} items, expected ${want.counts[k] ?? 'none'}`);
    else if (want.digests[k] !== got.digests[k]) out.push(`${k}: content digest differs (same count ${got.counts[k]})`);
  }
  return out;
}

/** Why a live read failed, classified: a missing target is "lost", anything else "unreachable". */
function failureKind(e: unknown): { missing: boolean; message: string } {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code ?? '';
  const missing = /NOT_FOUND|ENOENT/i.test(code) || /not found|does not exist|no such file/i.test(message);
  return { missing, message };
}

export function createDrActivities(deps: {
  config: LifeboatConfig;
  repositories: RepositoryProvider;
  scratchDir: string;
}): DrActivities {
  const { config, repositories } = deps;
  const sourceNamed = (name: string): SourceConfig => {
    const s = config.sources.find((x) => x.name === name);
    if (!s)
      throw new DrPlanError(
        `unknown source "${name}"; configured sources: ${config.sources.map((x) => x.name).join(', ')}`,
      );
    return s;
  };
  const points = async (): Promise<RecoveryPoint[]> =>
    (await (await repositories.get()).listRecoveryPoints()).filter((rp) => !rp.tags.includes(POINT_TAGS.safety));
  const artifactsOf = (rp: RecoveryPoint, source: string) => rp.artifacts.filter((a) => a.source === source);

  return {
    drSettings: () =>
      asActivity(async () => ({
        approvalTimeoutMs: config.dr.approval.timeout,
        onApprovalTimeout: config.dr.approval.onTimeout,
        autoApprove: [...config.dr.approval.autoApprove],
      })),

    assessSources: (input) =>
      asActivity(() =>
        withHeartbeat('assess sources', async (hb) => {
          const names = input.sources?.length ? input.sources : config.sources.map((s) => s.name);
          const sources = names.map(sourceNamed);
          const all = await points();
          const out: SourceAssessment[] = [];
          for (const s of sources) {
            const newest = all.find((rp) => rp.artifacts.some((a) => a.source === s.name));
            const recorded = newest ? recordedFingerprint(s, artifactsOf(newest, s.name)) : undefined;
            const base = {
              source: s.name,
              type: s.type,
              ...(newest ? { newestPointId: newest.id, newestCounts: recorded!.counts } : {}),
            };
            const evidence: string[] = [];
            if (!newest) evidence.push('no recovery point holds this source: it cannot be recovered');
            let live: SourceFingerprint;
            try {
              live = await liveFingerprint(s, hb.signal);
            } catch (e) {
              const f = failureKind(e);
              evidence.push(f.missing ? `target is gone: ${f.message}` : `unreachable: ${f.message}`);
              out.push({ ...base, reachable: !f.missing ? false : true, health: 'lost', evidence });
              continue;
            }
            const liveTotal = total(live.counts);
            evidence.push(`live: ${liveTotal} items (${JSON.stringify(live.counts)})`);
            let health: SourceAssessment['health'] = 'healthy';
            let unchanged: boolean | undefined;
            if (recorded) {
              const backedUp = total(recorded.counts);
              const diff = fingerprintDiff(recorded, live);
              unchanged = diff.length === 0;
              evidence.push(
                `newest backup ${newest!.id} (${newest!.time}): ${backedUp} items; ${unchanged ? 'content identical to it' : `differs: ${diff.slice(0, 3).join('; ')}`}`,
              );
              const missingUnits = Object.keys(recorded.counts).filter((k) => live.counts[k] === undefined);
              if (backedUp > 0 && liveTotal === 0) {
                health = 'lost';
                evidence.push('empty, while the backup holds data');
              } else if (missingUnits.length) {
                health = 'degraded';
                evidence.push(`missing: ${missingUnits.join(', ')}`);
              } else if (liveTotal < backedUp * DEGRADED_BELOW) {
                health = 'degraded';
                evidence.push(
                  `${backedUp - liveTotal} fewer items than the newest backup (below ${DEGRADED_BELOW * 100}%)`,
                );
              }
            }
            out.push({
              ...base,
              reachable: true,
              health,
              counts: live.counts,
              unchangedSinceBackup: unchanged,
              evidence,
            });
          }
          return out;
        }),
      ),

    planRecovery: (input) =>
      asActivity(async () => {
        const problems: string[] = [];
        const named = new Set(input.named ?? []);
        const toRecover = input.assessment.filter((a) => named.has(a.source) || a.health !== 'healthy');
        const leftAlone = input.assessment.filter((a) => !toRecover.includes(a)).map((a) => a.source);
        const before = input.before ? Date.parse(input.before) : undefined;
        const repo = await repositories.get();
        const candidates = (await points()).filter((rp) => before === undefined || Date.parse(rp.time) < before);
        const verified = new Map<string, boolean>();
        const passes = async (rp: RecoveryPoint) => {
          if (!verified.has(rp.id))
            verified.set(rp.id, (await repo.verify({ recoveryPointId: rp.id, readData: false })).ok);
          return verified.get(rp.id)!;
        };
        const names = toRecover.map((a) => a.source);
        const holdsAll = (rp: RecoveryPoint) => names.every((n) => rp.artifacts.some((a) => a.source === n));
        let shared: RecoveryPoint | undefined;
        for (const rp of candidates)
          if (holdsAll(rp) && (await passes(rp))) {
            shared = rp;
            break;
          }
        const declaredAt = Date.parse(input.declaredAt);
        const recoveries: PlannedRecovery[] = [];
        for (const a of toRecover) {
          const s = sourceNamed(a.source);
          let rp = shared;
          let why = shared ? `newest verified point holding all ${names.length} sources` : '';
          if (!rp) {
            for (const c of candidates)
              if (c.artifacts.some((x) => x.source === s.name) && (await passes(c))) {
                rp = c;
                why = 'newest verified point holding this source (no single point holds all of them)';
                break;
              }
          }
          if (!rp) {
            problems.push(
              `${s.name}: no verified recovery point${input.before ? ` before ${input.before}` : ''} holds it`,
            );
            continue;
          }
          if (input.before) why += `, taken before ${input.before}`;
          why += named.has(s.name) ? '; named in the declaration' : `; assessed ${a.health}`;
          recoveries.push({
            source: s.name,
            type: s.type,
            recoveryPointId: rp.id,
            pointTime: rp.time,
            expectedDataLossMs: Math.max(0, declaredAt - Date.parse(rp.time)),
            rpoTargetMs: s.targets.rpo,
            rtoTargetMs: s.targets.rto,
            restoreOrder: s.restoreOrder ?? DEFAULT_ORDER[s.type],
            why,
          });
        }
        recoveries.sort((x, y) => x.restoreOrder - y.restoreOrder || x.source.localeCompare(y.source));
        // One group per (restore order, recovery point): a group is one restore child, restored and verified together.
        const groups: PlanGroup[] = [];
        for (const r of recoveries) {
          const last = groups[groups.length - 1];
          const lastOrder = last && recoveries.find((x) => x.source === last.sources[0])!.restoreOrder;
          if (last && lastOrder === r.restoreOrder && last.recoveryPointId === r.recoveryPointId)
            last.sources.push(r.source);
          else groups.push({ index: groups.length + 1, recoveryPointId: r.recoveryPointId, sources: [r.source] });
        }
        // Expected RTO: from drill records (their measured restore time), when there are any.
        let expectedRtoMs: number | undefined;
        let expectedRtoBasis = 'no drill records yet: run `lifeboat drill` to learn the expected RTO';
        try {
          const { records } = await repo.records.list<Record<string, unknown>>('drills');
          const measured = records
            .map((r) => {
              const b = r.body as { rtoMs?: unknown; measured?: { rtoMs?: unknown }; durationMs?: unknown };
              return Number(b.rtoMs ?? b.measured?.rtoMs ?? b.durationMs);
            })
            .filter((n) => Number.isFinite(n) && n > 0);
          if (measured.length) {
            const recent = measured.slice(-5);
            expectedRtoMs = Math.max(...recent);
            expectedRtoBasis = `slowest of the last ${recent.length} drill(s)`;
          }
        } catch (e) {
          expectedRtoBasis = `drill records unreadable: ${(e as Error).message}`;
        }
        if (!recoveries.length && !problems.length)
          problems.push('nothing to recover: every assessed source is healthy');
        return {
          version: input.version,
          createdAt: new Date().toISOString(),
          ...(input.before ? { before: input.before } : {}),
          sharedPoint: new Set(recoveries.map((r) => r.recoveryPointId)).size <= 1 && recoveries.length > 0,
          recoveries,
          groups,
          leftAlone,
          ...(expectedRtoMs !== undefined ? { expectedRtoMs } : {}),
          expectedRtoBasis,
          problems,
        } satisfies DrPlan;
      }),

    validateRecovery: (input) =>
      asActivity(() =>
        withHeartbeat('validate recovery', async (hb) => {
          const repo = await repositories.get();
          const out = [];
          for (const r of input.recoveries) {
            const s = sourceNamed(r.source);
            const rp = await repo.getRecoveryPoint(r.recoveryPointId);
            const want = recordedFingerprint(s, artifactsOf(rp, s.name));
            try {
              const diff = fingerprintDiff(want, await liveFingerprint(s, hb.signal));
              out.push(
                diff.length
                  ? { source: s.name, ok: false, detail: `differs from ${rp.id}: ${diff.slice(0, 5).join('; ')}` }
                  : {
                      source: s.name,
                      ok: true,
                      detail: `${total(want.counts)} items; counts and content digests equal ${rp.id}`,
                    },
              );
            } catch (e) {
              out.push({ source: s.name, ok: false, detail: `cannot be read: ${(e as Error).message}` });
            }
          }
          return out;
        }),
      ),

    rollbackRecoveredSource: (input) =>
      asActivity(() =>
        withHeartbeat(`roll back ${input.source}`, async (hb) => {
          const s = sourceNamed(input.source);
          const repo = await repositories.get();
          const ctx: StoreContext = { repo, hb, scratchDir: deps.scratchDir };
          const safety = artifactsOf(await repo.getRecoveryPoint(input.safetyRecoveryPointId), s.name);
          const restored = artifactsOf(await repo.getRecoveryPoint(input.restoredPointId), s.name);
          const store = storeFor(s);
          if (s.type === 'qdrant' && s.alias)
            throw new DrPlanError(
              `${s.name} uses an alias; roll it back by pointing alias ${s.alias} at its previous collection (kept by the restore)`,
            );
          if (safety.length && s.type === 'faiss' && safety.every((a) => a.kind === FAISS_OPAQUE_KIND)) {
            // A FAISS safety backup is byte copies, which the regular restore refuses: put the bytes back.
            await putBackFaissBytes(s as FaissSourceConfig, safety, input.rollbackId, ctx);
          } else if (safety.length) {
            await store.restore(undefined, safety, input.rollbackId, ctx);
            await store.confirm(undefined, safety, input.rollbackId, ctx);
          }
          // What the DR restore created that did not exist before goes again.
          const removed: string[] = [];
          if (s.type === 'faiss') {
            const f = s as FaissSourceConfig;
            const rel = (a: ArtifactHandle) => String(a.metadata?.relativePath ?? SINGLE_FILE_KEY);
            const had = new Set(safety.map(rel));
            for (const a of restored)
              if (!had.has(rel(a))) {
                const file = rel(a) === SINGLE_FILE_KEY ? f.path : path.join(f.path, ...rel(a).split('/'));
                await rm(file, { force: true });
                removed.push(file);
              }
          } else if (s.type === 'qdrant') {
            const had = new Set(safety.map((a) => a.name));
            const conn = await qdrantConnection(s);
            for (const a of restored)
              if (!had.has(a.name)) {
                await dropQdrantCollection(conn, a.name);
                removed.push(`collection ${a.name}`);
              }
          }
          return {
            detail: `${safety.length ? `restored from safety point ${input.safetyRecoveryPointId}` : 'nothing saved (target was absent)'}${removed.length ? `; removed ${removed.join(', ')}` : ''}`,
          };
        }),
      ),

    escalateApproval: (input) =>
      asActivity(async () => {
        const line = `approval overdue for incident ${input.incidentId} (${input.severity}) after ${Math.round(input.waitedMs / 1000)} s: approve with \`lifeboat dr approve ${input.incidentId} --as NAME\` (workflow ${input.workflowId})`;
        // The worker log is watched by the on-call tooling; the record makes it visible in the repository too.
        console.warn(`lifeboat: ESCALATION: ${line}`);
        const repo = await repositories.get();
        const id = `${input.incidentId}-escalations`;
        const prev = await repo.records.get<{ lines: string[] }>('incidents', id);
        await repo.records.put(
          'incidents',
          id,
          { lines: [...(prev?.body.lines ?? []), `${new Date().toISOString()} ${line}`] },
          { overwrite: true },
        );
      }),

    storeIncidentReport: (report) =>
      asActivity(async () => {
        const repo = await repositories.get();
        await repo.records.put('incidents', report.incidentId, report, { overwrite: true });
        return { recordId: `incidents/${report.incidentId}` };
      }),
  };
}

export type { DrActivities };
