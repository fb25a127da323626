/**
 * Scope clearing and reachability checks of a Redis target, used by restores
 * and their rollbacks (moved here from activities/: store-specific code lives
 * in sources/).
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisConnectionOptions } from './types';

/**
 * Deletes the keys in scope (pattern, dbs) so the target ends up equal to
 * the backup rather than a merge of both: keys created after the backup must
 * go too. Every master of a cluster is scanned.
 *
 * Without a pattern the scope is the whole db: FLUSHDB ASYNC empties it in
 * one command (measured: 20 s of a 1.2M-key restore went to SCAN + UNLINK).
 * Production servers often rename or forbid FLUSHDB (ACLs, rename-command),
 * so a refused FLUSHDB falls back to the sweep. On a standalone server the
 * sweep unlinks each SCAN batch in one command; a cluster needs one UNLINK
 * per key (keys of one batch live in different slots).
 */
export async function clearRedisScope(
  opts: RedisConnectionOptions,
  dbs: number[],
  signal?: AbortSignal,
): Promise<number> {
  const common = {
    username: opts.username,
    password: opts.password,
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    ...(opts.tls ? { tls: {} } : {}),
  };
  let deleted = 0;
  /** FLUSHDB ASYNC of the selected db when the scope is all of it; false when the server refuses it. */
  const flush = async (node: Redis): Promise<boolean> => {
    if (opts.pattern) return false;
    const size = await node.dbsize();
    try {
      await node.call('FLUSHDB', 'ASYNC');
    } catch {
      return false; // renamed, disabled or not allowed for this user: sweep instead
    }
    deleted += size;
    return true;
  };
  const sweep = async (node: Redis, cluster: boolean) => {
    if (await flush(node)) return;
    let cursor = '0';
    do {
      signal?.throwIfAborted();
      const [next, keys] = await node.scanBuffer(cursor, 'MATCH', opts.pattern ?? '*', 'COUNT', 1000);
      cursor = String(next);
      if (keys.length) {
        if (cluster) {
          // One key per UNLINK keeps cluster slots apart; pipelined, it costs little.
          const p = node.pipeline();
          for (const k of keys) p.unlink(k);
          await p.exec();
        } else await node.unlink(...keys);
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
      for (const node of cluster.nodes('master')) await sweep(node, true);
    });
    return deleted;
  }
  for (const db of dbs) {
    const u = new URL(opts.url!);
    await guarded(new Redis({ ...common, host: u.hostname, port: Number(u.port || 6379), db }), async (node) => {
      await node.connect();
      await sweep(node, false);
    });
  }
  return deleted;
}

/** Connects and PINGs with the target's credentials; returns the problem, if any. */
export async function pingRedis(opts: RedisConnectionOptions): Promise<string | undefined> {
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
