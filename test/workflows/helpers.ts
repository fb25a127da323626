import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { QdrantClient } from '@qdrant/js-client-rest';
import { Redis } from 'ioredis';
import { createActivities } from '../../activities';
import { createLifeboatWorker } from '../../workers/worker';
import { initRepository } from '../../repository';
import type { LifeboatConfig } from '../../config';
import { testEnv } from '../harness/env';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { startRedis, type RedisFlavour, type RedisServer } from '../servers/redis';
import { scratchDir } from '../harness/env';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A running in-process worker for a config, and a client to start workflows with. */
export async function startWorkerFor(config: LifeboatConfig) {
  // Test hooks on: tests exercise rollbacks with RestoreInput.injectVerifyFailure.
  const activities = createActivities({ config, testHooks: { injectedFailures: true } });
  const { worker, connection: nc } = await createLifeboatWorker({
    address: config.temporal.address,
    taskQueue: config.temporal.taskQueue,
    activities,
    preferBundle: false,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return {
    client,
    async stop() {
      worker.shutdown();
      await running;
      await activities.closeActivities();
      await nc.close();
      await connection.close();
    },
  };
}

/** The innermost message of a failure chain (workflow → activity → the adapter's own error). */
export function rootMessage(e: unknown): string {
  let cur = e as { cause?: unknown; message?: string };
  while (cur.cause) cur = cur.cause as typeof cur;
  return String(cur.message);
}

/** Every string in a workflow's history, for secret checks. */
export async function historyText(handle: WorkflowHandle): Promise<string> {
  const h = await handle.fetchHistory();
  return JSON.stringify(h, (_k, v) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : typeof v === 'bigint' ? String(v) : v,
  );
}

/**
 * A small but awkward dataset in all three stores: Redis (every type, TTLs,
 * binary keys), a FAISS HNSW index file, a Qdrant collection with payloads.
 */
export interface Stores {
  redis: RedisServer;
  faissDir: string;
  faissFile: string;
  collection: string;
  qdrant: QdrantClient;
  cfg: TestConfig;
  stop(): Promise<void>;
}

export interface StoresOptions {
  /** Which Redis of the matrix to run. @default 'redis7' */
  redis?: RedisFlavour;
  /** Which Qdrant to use. @default the stand-in */
  qdrantUrl?: string;
}

export async function makeStores(
  prefix: string,
  extraSources: Record<string, unknown>[] = [],
  extra?: Record<string, unknown>,
  opts: StoresOptions = {},
): Promise<Stores> {
  const dir = scratchDir(prefix);
  const redis = await startRedis(path.join(dir, 'redis'), { flavour: opts.redis ?? 'redis7' });
  const qdrantUrl = opts.qdrantUrl ?? testEnv().qdrant.url;
  const faissDir = path.join(dir, 'faiss');
  const faissFile = path.join(faissDir, 'vectors.index');
  const collection = `${prefix}-${randomUUID().slice(0, 6)}`;
  const qdrant = new QdrantClient({ url: qdrantUrl, checkCompatibility: false });
  const cfg = makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: redis.url, db: 0 },
      { name: 'vectors', type: 'faiss', path: faissFile, probe: { queries: 4, k: 5 } },
      { name: 'docs', type: 'qdrant', url: qdrantUrl, collection, mode: 'snapshot' },
      ...extraSources,
    ],
    extra,
  });
  await (await initRepository({ url: cfg.config.repository.url }, cfg.env[Object.keys(cfg.env)[0]])).close();
  return { redis, faissDir, faissFile, collection, qdrant, cfg, stop: () => redis.stop() };
}

/** Replaces db `db` with a fresh, seeded dataset (507 keys). */
export async function seedRedis(url: string, seed: string, db = 0): Promise<void> {
  const r = new Redis(url, { db });
  try {
    await r.flushdb();
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.set(`user:${i}`, `${seed}-value-${i}`);
    p.hset('profile:1', { name: `ada-${seed}`, role: 'admin' });
    p.rpush('queue', 'a', 'b', seed);
    p.sadd('tags', 'x', 'y', seed);
    p.zadd('scores', '1', 'one', '2', seed);
    p.set(Buffer.from([0, 255, 1, 254]), Buffer.from([9, 0, 8, 7, 255]));
    p.set('session:ttl', seed, 'PX', 3_600_000);
    p.xadd('events', '*', 'kind', seed);
    await p.exec();
  } finally {
    r.disconnect();
  }
}

/** Every key with its type, value and absolute expiry (PEXPIRETIME, exact): equal snapshots mean equal data. */
export async function redisSnapshot(url: string, db = 0): Promise<Map<string, string>> {
  const r = new Redis(url, { db });
  try {
    const out = new Map<string, string>();
    const keys = (await r.keysBuffer('*')).sort(Buffer.compare);
    for (const k of keys) {
      const [type, expireAt] = await Promise.all([r.type(k), r.call('PEXPIRETIME', k) as Promise<number>]);
      let value: unknown;
      if (type === 'string') value = (await r.getBuffer(k))?.toString('hex');
      // A hashtable-encoded hash has no defined field order (it follows the server's random hash seed), so compare fields sorted.
      else if (type === 'hash')
        value = Object.entries(await r.hgetall(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      else if (type === 'list') value = await r.lrange(k, 0, -1);
      else if (type === 'set') value = (await r.smembers(k)).sort();
      else if (type === 'zset') value = await r.zrange(k, '0', '-1', 'WITHSCORES');
      else if (type === 'stream') value = await r.xrange(k, '-', '+');
      out.set(k.toString('hex'), JSON.stringify({ type, value, expireAt }));
    }
    return out;
  } finally {
    r.disconnect();
  }
}

/**
 * The keys whose (type, value, expiry) differ between two snapshots, as
 * readable lines (at most `max`): a failed comparison names the keys
 * instead of printing two 300k-entry maps.
 */
export function snapshotDiff(actual: Map<string, string>, expected: Map<string, string>, max = 10): string[] {
  const out: string[] = [];
  const show = (hex: string) => JSON.stringify(Buffer.from(hex, 'hex').toString('latin1'));
  for (const [k, want] of expected) {
    const got = actual.get(k);
    if (got !== want)
      out.push(`${show(k)}: ${got === undefined ? 'missing' : `${got.slice(0, 200)}`}, expected ${want.slice(0, 200)}`);
    if (out.length >= max) return out;
  }
  for (const k of actual.keys()) {
    if (!expected.has(k)) out.push(`${show(k)}: present, but not in the expected data`);
    if (out.length >= max) return out;
  }
  return out;
}

/** Writes a FAISS HNSW index of `n` vectors (d=16) seeded by `seed` (trusted input, so built in-process). */
export function writeFaissIndex(file: string, seed: number, n = 300): Buffer {
  const faiss = require('faiss-node') as typeof import('faiss-node');
  const d = 16;
  const idx = faiss.Index.fromFactory(d, 'HNSW16');
  let x = seed >>> 0;
  const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  idx.add(Array.from({ length: n * d }, rnd));
  idx.write(file);
  return readFileSync(file);
}

export async function seedQdrant(q: QdrantClient, collection: string, seed: number, n = 200): Promise<void> {
  if ((await q.collectionExists(collection)).exists) await q.deleteCollection(collection);
  await q.createCollection(collection, { vectors: { size: 8, distance: 'Cosine' } });
  const points = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    vector: Array.from({ length: 8 }, (_, j) => Math.sin(seed * 31 + i * 7 + j) + 0.01),
    payload: { i, seed, text: `doc ${i} ✓`, nested: { a: [i, { b: seed }] } },
  }));
  await q.upsert(collection, { wait: true, points });
}

/** Every point of a collection, sorted by id, as comparable JSON. */
export async function qdrantSnapshot(q: QdrantClient, collection: string): Promise<string> {
  const all: unknown[] = [];
  let offset: string | number | undefined | null = undefined;
  do {
    const page: {
      points: { id: string | number; vector?: unknown; payload?: unknown }[];
      next_page_offset?: string | number | null | Record<string, unknown>;
    } = await q.scroll(collection, { limit: 100, offset: offset ?? undefined, with_vector: true, with_payload: true });
    all.push(...page.points.map((p) => ({ id: p.id, vector: p.vector, payload: p.payload })));
    offset = page.next_page_offset as string | number | null | undefined;
  } while (offset !== null && offset !== undefined);
  return JSON.stringify(all);
}

export { writeFileSync };
