import { resolveSecret, type RedisSourceConfig } from '../config';
import {
  backupRedis,
  clearRedisScope,
  fingerprintRedis,
  pingRedis,
  restoreRedis,
  checkRedisTarget,
  type RedisBackupInfo,
  type RedisConnectionOptions,
} from '../sources/redis';
import type { SourceFingerprint } from '../sources/types';
import { LifeboatError } from '../lib/errors';
import type { RestoreTargetOverride } from '../lib/domain';
import { isNumber, isRecord, isRecordOf, isString, storeStream, type StoreContext, type StoreHandler } from './store';
import type { ArtifactHandle } from './types';

const KIND = 'redis-logical';

/** Connection options of the source, or of an override target (which reuses the source's credentials). */
async function connection(s: RedisSourceConfig, o?: RestoreTargetOverride): Promise<RedisConnectionOptions> {
  const password = s.password ? await resolveSecret(s.password) : undefined;
  const base = { username: s.username, password, tls: s.tls, pattern: s.pattern };
  if (o?.redisUrl)
    return {
      ...base,
      url: o.redisUrl,
      tls: o.redisUrl.startsWith('rediss:'),
      db: o.redisDb ?? (s.db === 'all' ? undefined : s.db),
    };
  if (s.cluster)
    return { ...base, cluster: s.cluster.map((n) => ({ host: n.host, port: n.port })), db: o?.redisDb ?? s.db };
  return { ...base, url: s.url, db: o?.redisDb ?? s.db };
}

const infoOf = (a: ArtifactHandle) => a.metadata?.redis as RedisBackupInfo;

/** A point whose source is newer than Redis 7.0 may hold payloads an older target cannot RESTORE. */
function needsVersionCheck(info: RedisBackupInfo): boolean {
  const [major = 0, minor = 0] = info.redisVersion.split('.').map(Number);
  return major > 7 || (major === 7 && minor >= 2);
}

/** What the backup summary says about a Redis backup beyond its counts. */
function backupNotes(info: RedisBackupInfo): string[] {
  const notes: string[] = [];
  if (info.capture === 'sync')
    notes.push(`point-in-time snapshot read over the replication protocol (${info.captureNote ?? 'SYNC'})`);
  else if (info.captureNote) notes.push(info.captureNote);
  const through = Object.entries(info.passedThrough ?? {});
  if (through.length)
    notes.push(
      `kept as raw DUMP payloads (types Lifeboat cannot decode; restorable only into a server that has them, digested as bytes): ${through.map(([t, n]) => `${n} key${n === 1 ? '' : 's'} of ${t}`).join(', ')}`,
    );
  return notes;
}
const describe = (s: RedisSourceConfig, o?: RestoreTargetOverride) => {
  const where = o?.redisUrl ?? s.url ?? `cluster ${s.cluster?.map((n) => `${n.host}:${n.port}`).join(',')}`;
  const db = o?.redisDb ?? s.db;
  return `${where}${db === 'all' ? ' (all dbs)' : `/${db}`}${s.pattern !== '*' ? ` keys ${s.pattern}` : ''}`;
};

function oneArtifact(artifacts: ArtifactHandle[]): ArtifactHandle {
  if (artifacts.length !== 1)
    throw new LifeboatError(
      `expected one Redis artifact in the recovery point, found ${artifacts.length}`,
      'REDIS_ARTIFACTS',
    );
  return artifacts[0];
}

/** Target dbs a restore of `info` writes into (what is cleared first and fingerprinted after). */
function targetDbs(opts: RedisConnectionOptions, info: RedisBackupInfo): number[] {
  if (opts.cluster) return [0];
  return typeof opts.db === 'number' ? [opts.db] : info.dbs;
}

function sameFingerprint(want: SourceFingerprint, got: SourceFingerprint): string | undefined {
  const keys = new Set([...Object.keys(want.counts), ...Object.keys(got.counts)]);
  const diffs: string[] = [];
  for (const k of [...keys].sort()) {
    if ((want.counts[k] ?? 0) !== (got.counts[k] ?? 0))
      diffs.push(`${k}: ${got.counts[k] ?? 0} keys, expected ${want.counts[k] ?? 0}`);
    else if ((want.counts[k] ?? 0) > 0 && want.digests[k] !== got.digests[k])
      diffs.push(`${k}: content digest differs (same key count ${want.counts[k]})`);
  }
  return diffs.length ? diffs.join('; ') : undefined;
}

/** What the target holds now in `dbs` (keys in scope, not expiring before `minExpireAt`). */
async function fingerprintDbs(opts: RedisConnectionOptions, dbs: number[], minExpireAt?: number) {
  const got: SourceFingerprint = { counts: {}, digests: {} };
  for (const db of dbs) {
    const fp = await fingerprintRedis({ ...opts, db: opts.cluster ? undefined : db }, { minExpireAt });
    Object.assign(got.counts, fp.counts);
    Object.assign(got.digests, fp.digests);
  }
  return got;
}

async function restoreInto(
  opts: RedisConnectionOptions,
  a: ArtifactHandle,
  ctx: StoreContext,
  alsoClear: number[] = [],
) {
  const info = infoOf(a);
  await clearRedisScope(opts, [...new Set([...targetDbs(opts, info), ...alsoClear])], ctx.hb.signal);
  const dbMap =
    !opts.cluster && typeof opts.db === 'number' && info.dbs.length === 1 ? { [info.dbs[0]]: opts.db } : undefined;
  return restoreRedis(
    ctx.repo.readArtifact(a, { signal: ctx.hb.signal }),
    { ...opts, db: dbMap ? undefined : opts.db },
    { pattern: opts.pattern, dbMap },
    {
      signal: ctx.hb.signal,
      onProgress: ctx.hb.onProgress,
    },
  );
}

/** What verify compares with: the fingerprint of what the restore wrote, and the expiry horizon it used. */
export type RedisRestoreCheck = { fingerprint: SourceFingerprint; minExpireAt: number };

function readRedisCheck(raw: unknown): RedisRestoreCheck | undefined {
  if (!isRecord(raw) || !isNumber(raw.minExpireAt) || !isRecord(raw.fingerprint)) return undefined;
  const { counts, digests } = raw.fingerprint;
  if (!isRecordOf(counts, isNumber) || !isRecordOf(digests, isString)) return undefined;
  return { fingerprint: { counts, digests }, minExpireAt: raw.minExpireAt };
}

/** Redis (single instance or cluster): logical backup with SCAN + DUMP, restore with RESTORE … ABSTTL. */
export const redisHandler: StoreHandler<RedisSourceConfig, RedisRestoreCheck> = {
  type: 'redis',
  defaultRestoreOrder: 10,

  describeTarget: describe,
  readCheck: readRedisCheck,

  async backup(s, ctx) {
    const opts = await connection(s);
    const a = await storeStream(
      ctx,
      { source: s.name, kind: KIND, name: 'keyspace' },
      backupRedis(
        { ...opts, capture: s.capture ?? 'auto', scratchDir: ctx.scratchDir },
        { signal: ctx.hb.signal, onProgress: ctx.hb.onProgress },
      ),
      (info) => ({ redis: info }),
      // The stream's pieces are record groups: each is deduplicated on its own (docs/redis-format.md).
      { chunking: 'records' },
    );
    return { artifacts: [a], items: infoOf(a).keys, notes: backupNotes(infoOf(a)) };
  },

  async preflight(s, o, artifacts, ctx) {
    if (artifacts.length !== 1) return [`expected one Redis artifact in the recovery point, found ${artifacts.length}`];
    if (o?.redisUrl && /\/\/[^/]*@/.test(o.redisUrl))
      return ["the target URL carries credentials: pass a URL without them; the source's configured password is used"];
    const opts = await connection(s, o);
    const info = infoOf(artifacts[0]);
    if (!opts.cluster && typeof opts.db === 'number' && info.dbs.length > 1)
      return [
        `the backup holds dbs ${info.dbs.join(', ')}; restoring into the single db ${opts.db} would merge them: restore without --to-redis-db`,
      ];
    const problem = await pingRedis(opts);
    if (problem)
      return [
        `Redis target ${describe(s, o)} is not reachable or refuses the connection (${problem}): start it or fix the source's url/password in the config, then run the restore again`,
      ];
    // A point from a newer server: keys the target cannot RESTORE are rebuilt, a type it lacks is refused here.
    if (needsVersionCheck(info)) {
      const check = await checkRedisTarget(ctx.repo.readArtifact(artifacts[0], { signal: ctx.hb.signal }), opts, {
        pattern: opts.pattern,
        signal: ctx.hb.signal,
      });
      return check.problems;
    }
    return [];
  },

  async safetyBackup(s, o, ctx) {
    const opts = await connection(s, o);
    const a = await storeStream(
      ctx,
      { source: s.name, kind: KIND, name: 'keyspace' },
      backupRedis(
        { ...opts, capture: s.capture ?? 'auto', scratchDir: ctx.scratchDir },
        { signal: ctx.hb.signal, onProgress: ctx.hb.onProgress },
      ),
      (info) => ({ redis: info }),
      // The stream's pieces are record groups: each is deduplicated on its own (docs/redis-format.md).
      { chunking: 'records' },
    );
    return { artifacts: [a], items: infoOf(a).keys };
  },

  async restore(s, o, artifacts, _restoreId, ctx) {
    const opts = await connection(s, o);
    const r = await restoreInto(opts, oneArtifact(artifacts), ctx);
    return { items: r.restored, bytes: r.bytes, check: { fingerprint: r.fingerprint, minExpireAt: r.minExpireAt } };
  },

  async verify(s, o, artifacts, check) {
    const opts = await connection(s, o);
    const want = check?.fingerprint;
    if (!want) return { ok: false, detail: 'no fingerprint from the restore step to compare with' };
    const info = infoOf(oneArtifact(artifacts));
    const dbs = targetDbs(opts, info);
    const got = await fingerprintDbs(opts, dbs, check?.minExpireAt);
    const diff = sameFingerprint(want, got);
    const keys = Object.values(got.counts).reduce((a, b) => a + b, 0);
    return diff
      ? { ok: false, detail: diff }
      : {
          ok: true,
          detail: `${keys} keys in ${dbs.map((d) => `db${d}`).join(', ')}: counts and content digests match`,
        };
  },

  async confirm() {
    // Nothing kept aside: the safety recovery point is the way back.
  },

  async compensate(s, o, artifacts, _restoreId, safety, _check, ctx) {
    if (!safety)
      throw new LifeboatError(
        `no safety backup was taken of ${describe(s, o)}, so it cannot be rolled back`,
        'NO_SAFETY_BACKUP',
      );
    const opts = await connection(s, o);
    // Every db the restore may have written is cleared, not only those that held keys at safety
    // time: a db (or server) that was empty must end up empty again.
    const written = artifacts.length === 1 ? targetDbs(opts, infoOf(artifacts[0])) : [];
    const saved = safety.length ? oneArtifact(safety) : undefined;
    const dbs = [...new Set([...written, ...(saved ? targetDbs(opts, infoOf(saved)) : [])])].sort((a, b) => a - b);
    let want: SourceFingerprint = { counts: {}, digests: {} };
    let minExpireAt: number | undefined;
    if (saved) {
      const r = await restoreInto(opts, saved, ctx, written);
      want = r.fingerprint;
      minExpireAt = r.minExpireAt;
    } else await clearRedisScope(opts, dbs, ctx.hb.signal);
    // Exact or a failure: compare what is there now with what the safety point held.
    const got = await fingerprintDbs(opts, dbs, minExpireAt);
    const diff = sameFingerprint(want, got);
    if (diff)
      throw new LifeboatError(
        `rollback of ${describe(s, o)} is not exact (${diff}): restore the safety recovery point into it`,
        'ROLLBACK_NOT_EXACT',
      );
  },
};
