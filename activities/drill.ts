/**
 * Activities of restore drills (workflows/drill.ts): choose the recovery point,
 * set up scratch targets (a throw-away redis-server, a scratch folder, a
 * temporary Qdrant collection, or a configured spare), validate the restored
 * scratch targets against what the backup recorded, run the user's checks,
 * clean everything up and keep the drill's record in the repository.
 *
 * Every scratch target is named after the drill id, so cleanup finds all of
 * them from the id alone — also after a worker crashed half-way through
 * setting them up.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { QdrantClient } from '@qdrant/js-client-rest';
import {
  productionConflict,
  resolveSecret,
  type DrillTargetSpec,
  type FaissSourceConfig,
  type LifeboatConfig,
  type QdrantSourceConfig,
  type RedisSourceConfig,
  type SourceConfig,
} from '../config';
import { POINT_TAGS, type RestoreTargetOverride } from '../lib/domain';
import {
  DRILL_RECORD_KIND,
  VERIFICATION_RECORD_KIND,
  drillCollectionName,
  drillCollectionPrefix,
  type DrillCheckResult,
  type DrillCleanupResult,
  type DrillPlan,
  type DrillRecord,
  type DrillTarget,
} from '../lib/drill';
import { LifeboatError } from '../lib/errors';
import type { RecoveryPoint, Repository } from '../repository';
import { clearRedisScope, fingerprintRedis, type RedisBackupInfo, type RedisConnectionOptions } from '../sources/redis';
import {
  compareProbes,
  faissFingerprintFromBackup,
  fingerprintFaiss,
  runFaissProbes,
  SINGLE_FILE_KEY,
  type FaissBackupInfo,
} from '../sources/faiss';
import { verifyQdrantRestore, type QdrantBackupInfo } from '../sources/qdrant';
import { asActivity } from './failures';
import { withHeartbeat } from './heartbeat';
import { type RepositoryProvider } from './repository';
import { findRedisServer, startScratchRedis, stopScratchRedis } from './scratch-redis';
import { artifactsOf } from './store';
import { filesRecordedFingerprint, liveFilesFingerprint } from './files';
import type { ArtifactHandle, DrillActivities } from './types';

/** A drill target would write a production source: refused before anything is restored. */
export class DrillTargetUnsafeError extends LifeboatError {
  constructor(readonly problems: string[]) {
    super(`drill refused, nothing was restored: ${problems.join('; ')}`, 'DRILL_TARGET_UNSAFE');
  }
}

export class DrillPlanError extends LifeboatError {
  constructor(message: string) {
    super(message, 'PLAN_INVALID');
  }
}

const OUTPUT_TAIL = 4000;

export interface DrillActivityDeps {
  config: LifeboatConfig;
  repositories: RepositoryProvider;
}

/** The environment variable stem of a source: `LIFEBOAT_DRILL_SESSIONS_REDIS`. */
export const drillEnvStem = (source: string) => `LIFEBOAT_DRILL_${source.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

async function redisAuth(s: RedisSourceConfig) {
  return { username: s.username, password: s.password ? await resolveSecret(s.password) : undefined };
}

async function qdrantClient(s: QdrantSourceConfig) {
  const apiKey = s.apiKey ? await resolveSecret(s.apiKey) : undefined;
  return new QdrantClient({ url: s.url, ...(apiKey ? { apiKey } : {}), checkCompatibility: false });
}

/** Retries a cleanup step a few times: a busy server must not leave a scratch target behind. */
async function attempt<T>(fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 500 * i));
    }
  }
}

function specOf(s: SourceConfig, o: RestoreTargetOverride): DrillTargetSpec | undefined {
  if (s.type === 'redis' && o.redisUrl) return { type: 'redis', url: o.redisUrl, db: o.redisDb };
  if (s.type === 'faiss' && o.path) return { type: 'faiss', path: o.path };
  if (s.type === 'qdrant' && o.collection) return { type: 'qdrant', url: s.url, collection: o.collection };
  return undefined;
}

export function createDrillActivities(deps: DrillActivityDeps): DrillActivities {
  const { config, repositories: repos } = deps;
  const drillsDir = (drillId: string) => path.join(config.worker.scratchDir, 'drills', drillId);
  const sourceNamed = (name: string): SourceConfig => {
    const s = config.sources.find((x) => x.name === name);
    if (!s)
      throw new DrillPlanError(
        `unknown source "${name}"; configured sources: ${config.sources.map((x) => x.name).join(', ')}`,
      );
    return s;
  };
  /** Folder of a FAISS source's scratch copy: below drill.targets.<source>.path, else the worker's scratch folder. */
  const faissDir = (drillId: string, s: FaissSourceConfig) => {
    const root = config.drill.targets[s.name]?.path;
    return root
      ? path.join(root, `lifeboat-drill-${drillId}`, s.name)
      : path.join(drillsDir(drillId), `faiss-${s.name}`);
  };

  const choosePoint = async (idOrPrefix: string | undefined, names: string[]): Promise<RecoveryPoint> => {
    const repo = await repos.get();
    if (idOrPrefix && idOrPrefix !== 'latest') return repo.getRecoveryPoint(idOrPrefix);
    const points = (await repo.listRecoveryPoints()).filter((rp) => !rp.tags.includes(POINT_TAGS.safety));
    const holds = (rp: RecoveryPoint) => names.every((n) => rp.artifacts.some((a) => a.source === n));
    const hit = points.find(holds);
    if (!hit)
      throw new DrillPlanError(
        points.length
          ? `no recovery point holds every drilled source (${names.join(', ')}); back them up together, or drill fewer with --source`
          : 'the repository has no recovery point yet: run a backup first (lifeboat backup --wait)',
      );
    return hit;
  };

  async function setUp(drillId: string, s: SourceConfig, artifacts: ArtifactHandle[], signal: AbortSignal) {
    const configured = config.drill.targets[s.name];
    if (s.type === 'redis') {
      if (configured?.redisUrl) {
        const override: RestoreTargetOverride = {
          redisUrl: configured.redisUrl,
          ...(configured.redisDb !== undefined ? { redisDb: configured.redisDb } : {}),
        };
        const where = `${configured.redisUrl}${configured.redisDb !== undefined ? `/${configured.redisDb}` : ''}`;
        return { override, description: `${where} (spare)`, address: where, scratch: 'spare-redis' as const };
      }
      const binary = findRedisServer(config.drill.redisServer);
      if (!binary)
        throw new DrillPlanError(
          `${s.name}: no redis-server binary on this worker for a throw-away scratch server${config.drill.redisServer ? ` (drill.redisServer ${config.drill.redisServer} does not exist)` : ''}; install redis-server, set drill.redisServer, or give a spare instance in drill.targets.${s.name}.redisUrl`,
        );
      const server = await startScratchRedis(path.join(drillsDir(drillId), `redis-${s.name}`), {
        binary,
        ...(await redisAuth(s)),
        signal,
      });
      return {
        override: { redisUrl: server.url },
        description: `${server.url} (throw-away redis-server, pid ${server.pid})`,
        address: server.url,
        scratch: 'redis-server' as const,
      };
    }
    if (s.type === 'faiss') {
      const dir = faissDir(drillId, s);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const single = artifacts.length === 1 && String(artifacts[0].metadata?.relativePath ?? '.') === SINGLE_FILE_KEY;
      const target = single ? path.join(dir, path.basename(s.path)) : dir;
      return { override: { path: target }, description: target, address: target, scratch: 'directory' as const };
    }
    if (s.type === 'files') {
      const dir = path.join(drillsDir(drillId), `files-${s.name}`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return { override: { path: dir }, description: dir, address: dir, scratch: 'directory' as const };
    }
    if (artifacts.length !== 1)
      throw new DrillPlanError(
        `${s.name}: the recovery point holds ${artifacts.length} Qdrant collections (${artifacts.map((a) => a.name).join(', ')}); a drill restores one collection per source: configure one source per collection`,
      );
    const collection = drillCollectionName(drillId, artifacts[0].name);
    return {
      override: { collection },
      description: `${s.url} ${collection} (temporary collection)`,
      address: collection,
      scratch: 'collection' as const,
    };
  }

  async function validate(target: DrillTarget, rp: RecoveryPoint, signal: AbortSignal) {
    const s = sourceNamed(target.source);
    const artifacts = artifactsOf(rp, s.name);
    if (s.type === 'redis') {
      const info = artifacts[0]?.metadata?.redis as RedisBackupInfo | undefined;
      if (!info) return { ok: false, detail: 'the recovery point holds no Redis keyspace for this source', items: 0 };
      const opts: RedisConnectionOptions = {
        url: target.override.redisUrl,
        ...(await redisAuth(s)),
        pattern: s.pattern,
      };
      const dbs = target.override.redisDb !== undefined && info.dbs.length === 1 ? [target.override.redisDb] : info.dbs;
      let keys = 0;
      const diffs: string[] = [];
      let fewer = 0;
      for (const [i, db] of dbs.entries()) {
        const fp = await fingerprintRedis({ ...opts, db }, { signal });
        const got = Object.values(fp.counts).reduce((a, b) => a + b, 0);
        const wantKey = `db${info.dbs[i] ?? db}`;
        const want = info.fingerprint.counts[wantKey] ?? 0;
        keys += got;
        if (got === want && fp.digests[`db${db}`] === info.fingerprint.digests[wantKey]) continue;
        // Keys with a TTL that ran out since the backup are not restored (RESTORE … ABSTTL): fewer keys is
        // expected then, and the restore's own verify compared the rest; more or other keys never are.
        if (got < want) fewer += want - got;
        else
          diffs.push(
            `db${db}: ${got} keys, the backup recorded ${want}${got === want ? ' (content digest differs)' : ''}`,
          );
      }
      if (diffs.length) return { ok: false, detail: diffs.join('; '), items: keys };
      return {
        ok: true,
        detail: fewer
          ? `PING ok; ${keys} keys in ${dbs.map((d) => `db${d}`).join(', ')}; ${fewer} key(s) with an expired TTL since the backup are absent, as expected`
          : `PING ok; ${keys} keys in ${dbs.map((d) => `db${d}`).join(', ')}: count and content digest equal the backup's`,
        items: keys,
      };
    }
    if (s.type === 'faiss') {
      const root = target.override.path!;
      const problems: string[] = [];
      let vectors = 0;
      let probes = 0;
      for (const a of artifacts) {
        const info = a.metadata?.faiss as FaissBackupInfo;
        const rel = String(a.metadata?.relativePath ?? SINGLE_FILE_KEY);
        const file = rel === SINGLE_FILE_KEY ? root : path.join(root, ...rel.split('/'));
        const got = await fingerprintFaiss(file, { signal }).catch((e: Error) => e);
        const want = faissFingerprintFromBackup(info);
        if (got instanceof Error) {
          problems.push(`${file}: ${got.message}`);
          continue;
        }
        const g = got.files[SINGLE_FILE_KEY];
        const w = want.files[SINGLE_FILE_KEY];
        if (g.sha256 !== w.sha256 || g.ntotal !== w.ntotal || g.d !== w.d)
          problems.push(
            `${file}: sha256 ${g.sha256} ntotal ${g.ntotal} d ${g.d}, backup ${w.sha256} ${w.ntotal} ${w.d}`,
          );
        vectors += g.ntotal;
        // The backup's probe queries again, on the scratch copy, in a child process (faiss may abort on bad files).
        if (info.probes.status === 'ok') {
          const run = await runFaissProbes(file, {
            probeSeed: info.probes.seed,
            probeQueries: info.probes.queries,
            probeK: info.probes.k,
            signal,
          });
          const cmp = compareProbes(info.probes, run);
          if (cmp && !cmp.equal) problems.push(`${file}: probe queries differ: ${cmp.differences.join('; ')}`);
          if (cmp?.equal) probes += info.probes.queries;
        }
      }
      return problems.length
        ? { ok: false, detail: problems.join('; '), items: vectors }
        : {
            ok: true,
            detail: `${artifacts.length} index file(s), ${vectors} vectors: sha256 and header equal the backup's; ${probes} probe queries give the recorded neighbours`,
            items: vectors,
          };
    }
    if (s.type === 'files') {
      const want = filesRecordedFingerprint(artifacts);
      const got = await liveFilesFingerprint(s, target.override, signal);
      const ok = got.digests.files === want.digests.files && got.counts.files === want.counts.files;
      return ok
        ? {
            ok,
            detail: `${got.counts.files} entries: paths, modes, contents and links equal the backup's`,
            items: got.counts.files,
          }
        : {
            ok,
            detail: `${got.counts.files} entries, backup ${want.counts.files}: contents differ`,
            items: got.counts.files,
          };
    }
    const conn = { url: s.url, apiKey: s.apiKey ? await resolveSecret(s.apiKey) : undefined };
    const info = artifacts[0].metadata?.qdrant as QdrantBackupInfo;
    const report = await verifyQdrantRestore(conn, target.override.collection!, info, {
      throwOnMismatch: false,
      signal,
    });
    return report.ok
      ? {
          ok: true,
          detail: `${report.count.actual} points: count and digest equal the backup's; ${report.probes.checked} probe queries give the recorded results`,
          items: report.count.actual,
        }
      : { ok: false, detail: report.problems.join('; '), items: report.count.actual };
  }

  function runCheck(
    chk: LifeboatConfig['drill']['checks'][number],
    env: Record<string, string>,
    signal: AbortSignal,
  ): Promise<DrillCheckResult> {
    const started = Date.now();
    return new Promise((resolve) => {
      let output = '';
      const keep = (d: Buffer) => {
        output = (output + d.toString('utf8')).slice(-OUTPUT_TAIL);
      };
      const child = spawn(chk.command[0], chk.command.slice(1), {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      // Kill the whole process group: a shell's children must not outlive the check.
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        output += `\n[lifeboat: check timed out after ${Math.round(chk.timeout / 1000)} s and was killed]`;
        kill();
      }, chk.timeout);
      signal.addEventListener('abort', kill, { once: true });
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const done = (exitCode: number | null, extra = '') => {
        clearTimeout(timer);
        signal.removeEventListener('abort', kill);
        resolve({
          name: chk.name,
          ok: exitCode === 0,
          exitCode,
          durationMs: Date.now() - started,
          output: (output + extra).slice(-OUTPUT_TAIL),
        });
      };
      child.once('error', (e) => done(null, `\n[lifeboat: could not run ${chk.command[0]}: ${e.message}]`));
      child.once('close', (code) => done(code));
    });
  }

  return {
    prepareDrill: (input) =>
      asActivity(() =>
        withHeartbeat(`prepare drill ${input.drillId}`, async (hb): Promise<DrillPlan> => {
          const names = input.sources?.length ? [...new Set(input.sources)] : config.sources.map((s) => s.name);
          const sources = names.map(sourceNamed);
          const rp = await choosePoint(input.recoveryPointId, names);
          const missing = names.filter((n) => !rp.artifacts.some((a) => a.source === n));
          if (missing.length)
            throw new DrillPlanError(
              `recovery point ${rp.id} does not hold ${missing.join(', ')}; drill other sources`,
            );
          sources.sort((a, b) => a.restoreOrder - b.restoreOrder || a.name.localeCompare(b.name));
          const targets: DrillTarget[] = [];
          for (const s of sources) {
            const t = await setUp(input.drillId, s, artifactsOf(rp, s.name), hb.signal);
            targets.push({ source: s.name, type: s.type, ...t, rtoTargetMs: s.targets.rto });
          }
          // Again at run time, with the targets as they really are (a spare's URL, a scratch folder's path).
          const unsafe = targets.flatMap((t) => {
            const spec = specOf(sourceNamed(t.source), t.override);
            const why = spec && productionConflict(spec, config.sources);
            return why ? [`${t.source}: target ${t.description} ${why}`] : [];
          });
          if (unsafe.length) throw new DrillTargetUnsafeError(unsafe);
          return { drillId: input.drillId, recoveryPointId: rp.id, recoveryPointTime: rp.time, targets };
        }),
      ),

    validateDrillSource: (input) =>
      asActivity(() =>
        withHeartbeat(`validate drill ${input.target.source}`, async (hb) => {
          const rp = await (await repos.get()).getRecoveryPoint(input.recoveryPointId);
          return validate(input.target, rp, hb.signal);
        }),
      ),

    runDrillChecks: (input) =>
      asActivity(() =>
        withHeartbeat(`drill checks ${input.drillId}`, async (hb) => {
          const env: Record<string, string> = {
            LIFEBOAT_DRILL_ID: input.drillId,
            LIFEBOAT_DRILL_RECOVERY_POINT: input.recoveryPointId,
            LIFEBOAT_DRILL_SOURCES: input.targets.map((t) => t.source).join(','),
          };
          for (const t of input.targets) {
            const stem = drillEnvStem(t.source);
            env[`${stem}_TYPE`] = t.type;
            env[`${stem}_ADDRESS`] = t.address;
            if (t.override.redisUrl) env[`${stem}_URL`] = t.override.redisUrl;
            if (t.override.redisDb !== undefined) env[`${stem}_DB`] = String(t.override.redisDb);
            if (t.override.path) env[`${stem}_PATH`] = t.override.path;
            if (t.override.collection) {
              env[`${stem}_COLLECTION`] = t.override.collection;
              env[`${stem}_URL`] = (sourceNamed(t.source) as QdrantSourceConfig).url;
            }
          }
          const results: DrillCheckResult[] = [];
          for (const chk of config.drill.checks) {
            hb.onProgress({ bytes: 0, items: results.length });
            results.push(await runCheck(chk, env, hb.signal));
          }
          return results;
        }),
      ),

    cleanupDrill: (input) =>
      asActivity(() =>
        withHeartbeat(`clean up drill ${input.drillId}`, async (): Promise<DrillCleanupResult> => {
          const removed: string[] = [];
          const failures: string[] = [];
          const step = async (what: string, fn: () => Promise<string | undefined>) => {
            try {
              const done = await attempt(fn);
              if (done) removed.push(done);
            } catch (e) {
              failures.push(`${what}: ${(e as Error).message}`);
            }
          };
          const names = input.sources?.length ? input.sources : config.sources.map((s) => s.name);
          const sources = config.sources.filter((s) => names.includes(s.name));
          const dir = drillsDir(input.drillId);
          const entries = await readdir(dir).catch(() => [] as string[]);
          for (const e of entries.filter((x) => x.startsWith('redis-')))
            await step(`throw-away redis-server ${e}`, async () => {
              const r = await stopScratchRedis(path.join(dir, e));
              return r.stoppedPid ? `redis-server pid ${r.stoppedPid} (${e.slice(6)}) stopped` : undefined;
            });
          for (const s of sources) {
            if (s.type === 'files')
              await step(`scratch folder files-${s.name}`, async () => {
                await rm(path.join(dir, `files-${s.name}`), { recursive: true, force: true });
                return undefined;
              });
            if (s.type === 'faiss') {
              const d = faissDir(input.drillId, s);
              await step(`scratch folder ${d}`, async () => {
                const existed = await stat(d).then(
                  () => true,
                  () => false,
                );
                await rm(d, { recursive: true, force: true });
                // The per-drill folder under a configured root, once empty.
                if (config.drill.targets[s.name]?.path) await rm(path.dirname(d), { recursive: true, force: true });
                return existed ? `folder ${d} removed` : undefined;
              });
            }
            if (s.type === 'qdrant') {
              await step(`temporary collections on ${s.url}`, async () => {
                const q = await qdrantClient(s);
                const prefix = drillCollectionPrefix(input.drillId);
                const { collections } = await q.getCollections();
                const ours = collections.map((c) => c.name).filter((n) => n.startsWith(prefix));
                for (const c of ours) await q.deleteCollection(c);
                return ours.length ? `collection ${ours.join(', ')} dropped` : undefined;
              });
            }
            const spare = config.drill.targets[s.name];
            if (s.type === 'redis' && spare?.redisUrl) {
              await step(`spare Redis ${spare.redisUrl}`, async () => {
                const dbs =
                  spare.redisDb !== undefined
                    ? [spare.redisDb]
                    : typeof s.db === 'number'
                      ? [s.db]
                      : Array.from({ length: 16 }, (_, i) => i);
                const n = await clearRedisScope(
                  { url: spare.redisUrl, ...(await redisAuth(s)), pattern: s.pattern },
                  dbs,
                ).catch((e: Error) => {
                  // A server with fewer dbs refuses SELECT of the others: nothing was restored there.
                  if (/DB index is out of range/i.test(e.message)) return 0;
                  throw e;
                });
                return `${n} drill key(s) deleted from spare ${spare.redisUrl}`;
              });
            }
          }
          await step(`scratch folder ${dir}`, async () => {
            const existed = entries.length > 0;
            await rm(dir, { recursive: true, force: true });
            return existed ? `folder ${dir} removed` : undefined;
          });
          return { ok: failures.length === 0, removed, failures };
        }),
      ),

    recordDrill: (record: DrillRecord) =>
      asActivity(async () => {
        await (await repos.get()).records.put(DRILL_RECORD_KIND, record.drillId, record, { overwrite: true });
      }),
  };
}

/** What `records/verifications/<point id>` holds: the latest verification of that recovery point. */
export interface VerificationRecord {
  recoveryPointId: string;
  ok: boolean;
  readData: boolean;
  time: string;
  problems: string[];
}

/** Keeps the outcome of verifying one recovery point (the newest result replaces an older one). */
export async function recordVerification(
  repo: Repository,
  idOrPrefix: string,
  readData: boolean,
  result: { ok: boolean; problems: string[] },
): Promise<void> {
  const rp = await repo.getRecoveryPoint(idOrPrefix);
  const body: VerificationRecord = {
    recoveryPointId: rp.id,
    ok: result.ok,
    readData,
    time: new Date().toISOString(),
    problems: result.problems.slice(0, 10),
  };
  await repo.records.put(VERIFICATION_RECORD_KIND, rp.id, body, { overwrite: true });
}
