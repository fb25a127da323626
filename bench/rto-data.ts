/**
 * Data of bench/rto.ts: generated quickly, realistic in shape, and deterministic, so the bench can
 * damage it and check afterwards that the restore brought back exactly what was there.
 *
 * - Redis: a file of RESP commands (loaded with `redis-cli --pipe`, which is also the anchor):
 *   JSON document metadata strings (15% with a TTL), session hashes, counters, small sorted sets
 *   and lists, and a few big (1-4 MB) blobs — 5% of the bytes.
 * - FAISS: an IndexFlatL2 of random float32 vectors (d = 768), built with faiss-node in batches.
 * - Qdrant: points of d = 384 (Cosine) with a JSON payload, upserted through the HTTP API in batches.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { QdrantClient } from '@qdrant/js-client-rest';
import { Redis } from 'ioredis';

/** xorshift32 → floats in [-1, 1); seeded, so a point's vector can be generated again. */
function floats(seed: number) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 31 - 1;
  };
}

// ---------------------------------------------------------------- Redis

type RedisType = 'string' | 'hash' | 'zset' | 'list';

export interface RedisDataset {
  file: string;
  /** Bytes of keys and values (what the 600 MB means). */
  bytes: number;
  keys: { name: string; type: RedisType }[];
}

const resp = (args: string[]): string => {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
};
const b64 = (n: number) => randomBytes(Math.ceil((n * 3) / 4)).toString('base64');

/** Writes the RESP command file for `budget` bytes of keys + values. */
export async function writeRedisDataset(file: string, budget: number): Promise<RedisDataset> {
  const out = createWriteStream(file, { highWaterMark: 4 << 20 });
  const write = async (s: string) => {
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  const keys: RedisDataset['keys'] = [];
  const bigShare = 0.05;
  const bigCount = Math.max(1, Math.round((budget * bigShare) / 2.5e6));
  const regular = budget * (1 - bigShare);
  let bytes = 0;
  let regularBytes = 0;
  let big = 0;
  let batch = '';
  const now = Date.now();
  const add = (type: RedisType, args: string[], weight: number) => {
    batch += resp(args);
    keys.push({ name: args[1], type });
    bytes += weight;
  };
  for (let i = 0; regularBytes < regular; i++) {
    const before = bytes;
    const r = i % 100;
    if (r < 70) {
      const k = `doc:${i}:meta`;
      const v = JSON.stringify({
        id: i,
        title: `Document ${i} about ${b64(12)}`,
        owner: `user-${i % 9973}`,
        tags: ['kb', `t${i % 37}`, `lang-${['en', 'fr', 'de'][i % 3]}`],
        created: now - i * 1000,
        embedding: `faiss:${i}`,
        summary: b64(180 + (i % 400)),
      });
      const ttl = r < 10 ? ['PX', String(86_400_000 + i)] : [];
      add('string', ['SET', k, v, ...ttl], k.length + v.length);
    } else if (r < 90) {
      const k = `session:${i}`;
      const f = [
        'user',
        `user-${i % 9973}`,
        'created',
        String(now - i),
        'ip',
        `10.${i % 256}.${(i >> 8) % 256}.${(i >> 16) % 256}`,
        'agent',
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
        'cart',
        b64(60 + (i % 120)),
        'csrf',
        b64(32),
        'locale',
        'en-GB',
        'flags',
        b64(24),
      ];
      add('hash', ['HSET', k, ...f], k.length + f.reduce((s, x) => s + x.length, 0));
    } else if (r < 95) {
      const k = `ctr:${i}`;
      const v = String(i * 7919);
      add('string', ['SET', k, v], k.length + v.length);
    } else if (r < 98) {
      const k = `rank:${i}`;
      const m: string[] = [];
      for (let j = 0; j < 10; j++) m.push(String((i * 31 + j * 17) % 1000), `doc:${(i + j) % 100_000}`);
      add('zset', ['ZADD', k, ...m], k.length + m.reduce((s, x) => s + x.length, 0));
    } else {
      const k = `queue:${i}`;
      const m = Array.from({ length: 10 }, () => b64(48));
      add('list', ['RPUSH', k, ...m], k.length + 480);
    }
    regularBytes += bytes - before;
    // The big values, spread through the keyspace.
    if (big < bigCount && regularBytes >= (big * regular) / bigCount) {
      const k = `blob:${big}`;
      const v = b64(1e6 + ((big * 1_234_567) % 3e6));
      add('string', ['SET', k, v], k.length + v.length);
      big++;
    }
    if (batch.length >= 4 << 20) {
      await write(batch);
      batch = '';
    }
  }
  await write(batch);
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  return { file, bytes, keys };
}

/** Picks `share` of `n` indexes (deterministic by seed, distinct). */
function pick(n: number, share: number, seed: number): number[] {
  const rnd = floats(seed);
  const chosen = new Set<number>();
  const want = Math.max(1, Math.round(n * share));
  while (chosen.size < want) chosen.add(Math.floor(((rnd() + 1) / 2) * n));
  return [...chosen];
}

export interface RedisDamage {
  deleted: string[];
  overwritten: { name: string; type: RedisType }[];
  junk: number;
}

/** An incident in Redis: 10% of keys deleted, 5% overwritten with junk, 1% foreign keys added. */
export async function damageRedis(url: string, data: RedisDataset, seed: number): Promise<RedisDamage> {
  const r = new Redis(url);
  try {
    const n = data.keys.length;
    const del = pick(n, 0.1, seed);
    const delSet = new Set(del);
    const over = pick(n, 0.05, seed + 1).filter((i) => !delSet.has(i));
    const junk = Math.max(1, Math.round(n * 0.01));
    for (let i = 0; i < Math.max(del.length, over.length, junk); i += 5000) {
      const p = r.pipeline();
      for (const j of del.slice(i, i + 5000)) p.del(data.keys[j].name);
      for (const j of over.slice(i, i + 5000)) p.set(data.keys[j].name, 'damaged');
      for (let j = i; j < Math.min(junk, i + 5000); j++) p.set(`junk:${j}`, 'x');
      await p.exec();
    }
    return { deleted: del.map((i) => data.keys[i].name), overwritten: over.map((i) => data.keys[i]), junk };
  } finally {
    r.disconnect();
  }
}

/** After the restore: the key count is back, deleted keys exist, overwritten keys have their type and value back, no junk. */
export async function checkRedis(url: string, data: RedisDataset, damage: RedisDamage): Promise<string | undefined> {
  const r = new Redis(url);
  try {
    const size = await r.dbsize();
    if (size !== data.keys.length) return `Redis holds ${size} keys, expected ${data.keys.length}`;
    const p = r.pipeline();
    for (const k of damage.deleted) p.exists(k);
    for (const k of damage.overwritten) p.type(k.name);
    for (const k of damage.overwritten) if (k.type === 'string') p.get(k.name);
    p.exists('junk:0');
    const res = (await p.exec())!.map(([e, v]) => {
      if (e) throw e;
      return v;
    });
    let i = 0;
    for (const k of damage.deleted) if (res[i++] !== 1) return `deleted key ${k} was not restored`;
    for (const k of damage.overwritten)
      if (res[i++] !== k.type) return `key ${k.name} is a ${String(res[i - 1])}, expected ${k.type}`;
    for (const k of damage.overwritten)
      if (k.type === 'string' && res[i++] === 'damaged') return `key ${k.name} still holds the damaged value`;
    if (res[i] !== 0) return 'a junk key added by the damage survived the restore';
    return undefined;
  } finally {
    r.disconnect();
  }
}

// ---------------------------------------------------------------- FAISS

export const FAISS_D = 768;

/** Builds an IndexFlatL2 of ~`budget` bytes with faiss-node (in batches, bounded memory) and writes it. */
export async function writeFaissIndex(file: string, budget: number): Promise<{ ntotal: number; sha256: string }> {
  // Trusted, generated input: built in this process.
  const faiss = require('faiss-node') as typeof import('faiss-node');
  await mkdir(path.dirname(file), { recursive: true });
  const ntotal = Math.max(1000, Math.round(budget / (FAISS_D * 4)));
  const index = new faiss.IndexFlatL2(FAISS_D);
  const rnd = floats(20251202);
  const batch = 4096;
  for (let i = 0; i < ntotal; i += batch) {
    const n = Math.min(batch, ntotal - i);
    const xs = new Array<number>(n * FAISS_D);
    for (let j = 0; j < xs.length; j++) xs[j] = rnd();
    index.add(xs);
  }
  index.write(file);
  return { ntotal, sha256: await sha256File(file) };
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 4 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

/** Silent corruption: 1 MB of random bytes over the vectors in the middle of the file (same size, header intact). */
export function damageFaiss(file: string, size: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, randomBytes(Math.min(1 << 20, Math.floor(size / 4))), 0, undefined, Math.floor(size / 2));
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------- Qdrant

export const QDRANT_D = 384;

function point(id: number, seed = 0) {
  const rnd = floats(id * 2654435761 + seed);
  return {
    id,
    vector: Array.from({ length: QDRANT_D }, rnd),
    payload: {
      doc: `doc:${id}`,
      title: `Chunk ${id} of document ${Math.floor(id / 8)}`,
      lang: ['en', 'fr', 'de'][id % 3],
      tags: [`t${id % 37}`, `src-${id % 11}`],
      text: `passage ${id}/${seed} `.repeat(12),
    },
  };
}
/** Stored bytes of one point: float32 vector + payload JSON. */
const POINT_BYTES = QDRANT_D * 4 + JSON.stringify(point(12345).payload).length;

const qdrant = (url: string) => new QdrantClient({ url, checkCompatibility: false, timeout: 600_000 });

async function upsert(url: string, collection: string, ids: number[], seed: number): Promise<void> {
  const q = qdrant(url);
  for (let i = 0; i < ids.length; i += 256)
    await q.upsert(collection, { wait: true, points: ids.slice(i, i + 256).map((id) => point(id, seed)) });
}

/** Creates `collection` (replacing it) with ~`budget` bytes of points; ids 1..n. */
export async function seedQdrant(
  url: string,
  collection: string,
  budget: number,
): Promise<{ points: number; bytes: number }> {
  const q = qdrant(url);
  if ((await q.collectionExists(collection)).exists) await q.deleteCollection(collection);
  await q.createCollection(collection, { vectors: { size: QDRANT_D, distance: 'Cosine' } });
  const n = Math.max(500, Math.round(budget / POINT_BYTES));
  await upsert(
    url,
    collection,
    Array.from({ length: n }, (_, i) => i + 1),
    0,
  );
  return { points: n, bytes: n * POINT_BYTES };
}

/** An incident in Qdrant: 10% of the points overwritten (other vectors and payloads), 1% foreign points added. */
export async function damageQdrant(url: string, collection: string, n: number, seed: number): Promise<number[]> {
  const over = pick(n, 0.1, seed).map((i) => i + 1);
  await upsert(url, collection, over, seed);
  const extra = Math.max(1, Math.round(n * 0.01));
  await upsert(
    url,
    collection,
    Array.from({ length: extra }, (_, i) => n + 1 + i),
    seed,
  );
  return over;
}

/** JSON with sorted keys: a server may store a payload's keys in another order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );

/** After the restore: exactly n points, the overwritten ones with their original payload. */
export async function checkQdrant(
  url: string,
  collection: string,
  n: number,
  overwritten: number[],
): Promise<string | undefined> {
  const q = qdrant(url);
  const { count } = await q.count(collection, { exact: true });
  if (count !== n) return `Qdrant collection ${collection} holds ${count} points, expected ${n}`;
  for (let i = 0; i < overwritten.length; i += 500) {
    const got = await q.retrieve(collection, { ids: overwritten.slice(i, i + 500), with_payload: true });
    for (const p of got)
      if (canonical(p.payload) !== canonical(point(Number(p.id)).payload))
        return `Qdrant point ${p.id} still holds the damaged payload`;
    if (got.length !== Math.min(500, overwritten.length - i)) return 'Qdrant points are missing after the restore';
  }
  return undefined;
}
