import { Cluster, Redis } from 'ioredis';
import { resolveSecret, type RedisSourceConfig } from '../config';
import {
  backupRedis,
  fingerprintRedis,
  restoreRedis,
  type RedisBackupInfo,
  type RedisConnectionOptions,
} from '../sources/redis';
import type { SourceFingerprint } from '../sources/types';
import { LifeboatError } from '../lib/errors';
import type { RestoreTargetOverride } from '../lib/domain';
import { storeStream, type StoreContext, type StoreHandler } from './store';
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

/**
 * Deletes the keys in scope (pattern, dbs) so the target ends up equal to
 * the backup rather than a merge of both: keys created after the backup must
 * go too. Every master of a cluster is scanned.
 */
async function clearScope(opts: RedisConnectionOptions, dbs: number[], signal?: AbortSignal): Promise<number> {
  const common = {
    username: opts.username,
    password: opts.password,
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    ...(opts.tls ? { tls: {} } : {}),
  };
  let deleted = 0;
  const sweep = async (node: Redis) => {
    let cursor = '0';
    do {
      signal?.throwIfAborted();
      const [next, keys] = await node.scanBuffer(cursor, 'MATCH', opts.pattern ?? '*', 'COUNT', 1000);
      cursor = String(next);
      if (keys.length) {
        // One key per UNLINK keeps cluster slots apart; pipelined, it costs little.
        const p = node.pipeline();
        for (const k of keys) p.unlink(k);
        await p.exec();
        deleted += keys.length;
      }
    } while (cursor !== '0');
  };
  /** Runs `work` on `client`, dropping the connection on cancellation: a stalled server must not hold a cancelled activity. */
  const guarded = async <C extends Redis | Cluster>(client: C, work: (c: C) => Promise<void>) => {
    const drop = () => client.disconnect();
    signal?.addEventListener('abort', drop, { once: true });
    try {
      await work(client);
    } catch (e) {
      signal?.throwIfAborted();
      throw e;
    } finally {
      signal?.removeEventListener('abort', drop);
      client.disconnect();
    }
  };
  if (opts.cluster) {
    await guarded(new Cluster(opts.cluster, { redisOptions: common, lazyConnect: true }), async (cluster) => {
      await cluster.connect();
      for (const node of cluster.nodes('master')) await sweep(node);
    });
    return deleted;
  }
  for (const db of dbs) {
    const u = new URL(opts.url!);
    await guarded(new Redis({ ...common, host: u.hostname, port: Number(u.port || 6379), db }), async (node) => {
      await node.connect();
      await sweep(node);
    });
  }
  return deleted;
}

/** Connects and PINGs with the target's credentials; returns the problem, if any. */
async function ping(opts: RedisConnectionOptions): Promise<string | undefined> {
  const common = {
    username: opts.username,
    password: opts.password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    retryStrategy: () => null,
    ...(opts.tls ? { tls: {} } : {}),
  };
  const client = opts.cluster
    ? new Cluster(opts.cluster, { redisOptions: common, lazyConnect: true, clusterRetryStrategy: () => null })
    : new Redis(opts.url!, common);
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    client.disconnect();
  }
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

async function restoreInto(opts: RedisConnectionOptions, a: ArtifactHandle, ctx: StoreContext) {
  const info = infoOf(a);
  await clearScope(opts, targetDbs(opts, info), ctx.hb.signal);
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

/** Redis (single instance or cluster): logical backup with SCAN + DUMP, restore with RESTORE … ABSTTL. */
export const redisHandler: StoreHandler<RedisSourceConfig> = {
  type: 'redis',
  defaultRestoreOrder: 10,

  describeTarget: describe,

  async backup(s, ctx) {
    const opts = await connection(s);
    const a = await storeStream(
      ctx,
      { source: s.name, kind: KIND, name: 'keyspace' },
      backupRedis(opts, { signal: ctx.hb.signal, onProgress: ctx.hb.onProgress }),
      (info) => ({ redis: info }),
    );
    return { artifacts: [a], items: infoOf(a).keys };
  },

  async preflight(s, o, artifacts) {
    if (artifacts.length !== 1) return [`expected one Redis artifact in the recovery point, found ${artifacts.length}`];
    if (o?.redisUrl && /\/\/[^/]*@/.test(o.redisUrl))
      return ["the target URL carries credentials: pass a URL without them; the source's configured password is used"];
    const opts = await connection(s, o);
    const info = infoOf(artifacts[0]);
    if (!opts.cluster && typeof opts.db === 'number' && info.dbs.length > 1)
      return [
        `the backup holds dbs ${info.dbs.join(', ')}; restoring into the single db ${opts.db} would merge them: restore without --to-redis-db`,
      ];
    const problem = await ping(opts);
    return problem ? [`target ${describe(s, o)} is not usable: ${problem}`] : [];
  },

  async safetyBackup(s, o, ctx) {
    const opts = await connection(s, o);
    const a = await storeStream(
      ctx,
      { source: s.name, kind: KIND, name: 'keyspace' },
      backupRedis(opts, { signal: ctx.hb.signal, onProgress: ctx.hb.onProgress }),
      (info) => ({ redis: info }),
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
    const want = check?.fingerprint as SourceFingerprint | undefined;
    if (!want) return { ok: false, detail: 'no fingerprint from the restore step to compare with' };
    const info = infoOf(oneArtifact(artifacts));
    const dbs = targetDbs(opts, info);
    const got: SourceFingerprint = { counts: {}, digests: {} };
    for (const db of dbs) {
      const fp = await fingerprintRedis(
        { ...opts, db: opts.cluster ? undefined : db },
        { minExpireAt: check?.minExpireAt as number },
      );
      Object.assign(got.counts, fp.counts);
      Object.assign(got.digests, fp.digests);
    }
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

  async compensate(s, o, _artifacts, _restoreId, safety, _check, ctx) {
    if (!safety)
      throw new LifeboatError(
        `no safety backup was taken of ${describe(s, o)}, so it cannot be rolled back`,
        'NO_SAFETY_BACKUP',
      );
    const opts = await connection(s, o);
    if (!safety.length) return;
    await restoreInto(opts, oneArtifact(safety), ctx);
  },
};
