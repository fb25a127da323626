import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { scratchDir, testEnv } from '../harness/env';
import { startQdrantServer, type RunningQdrantServer } from '../qdrant-server';
import type { BackupStream } from '../../sources/types';

/**
 * Shared set-up for the Qdrant adapter tests: a Qdrant to talk to (the
 * harness's when test/run.ts provides one, else a private stand-in) and
 * deterministic, awkward data.
 */
export interface QdrantFixture {
  url: string;
  client: QdrantClient;
  dir: string;
  stop(): Promise<void>;
}

/** `url`: a Qdrant of this run (see forEachQdrantServer); default the harness's stand-in, else a private one. */
export async function startFixture(prefix: string, url?: string): Promise<QdrantFixture> {
  const dir = scratchDir(prefix);
  const shared = url ?? testEnv().qdrant?.url;
  let srv: RunningQdrantServer | undefined;
  if (!shared) srv = await startQdrantServer({ dataDir: path.join(dir, 'qdrant') });
  const base = shared ?? srv!.url;
  return {
    url: base,
    dir,
    client: new QdrantClient({ url: base, checkCompatibility: false }),
    stop: async () => srv?.stop(),
  };
}

/** Unique per test file and run, so files sharing one Qdrant never collide. */
export const uniq = (base: string) => `${base}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const vec = (r: () => number, n: number) => Array.from({ length: n }, () => r() * 4 - 2);

/** Payload with nesting, unicode, nulls, empty containers and keys in no particular order. */
export function payloadFor(i: number): Record<string, unknown> {
  return {
    zeta: `doc ${i} — ünïcødé ✓ "quoted" \\ back`,
    n: i,
    f: i / 7,
    ok: i % 2 === 0,
    tags: ['a', 'b', String(i % 5)],
    nested: { level: { deeper: [{ k: i, v: null }, [1, [2, [3, { x: 'y' }]]]] }, empty: {}, arr: [] },
    nul: null,
    alpha: { b: 2, a: 1 },
  };
}

/** Alternates integer ids and UUIDs. */
export const idFor = (i: number): string | number =>
  i % 3 === 2
    ? `${(i + 0x10000000).toString(16).padStart(8, '0')}-1234-4abc-8def-${i.toString(16).padStart(12, '0')}`
    : i * 2 + 1;

/** A collection with named vectors `text` (Cosine) and `image` (Dot; absent on every fourth point). */
export async function seedNamed(client: QdrantClient, name: string, count: number, seed = 1): Promise<void> {
  await client.createCollection(name, {
    vectors: { text: { size: 16, distance: 'Cosine' }, image: { size: 8, distance: 'Dot' } },
  });
  const r = rng(seed);
  for (let start = 0; start < count; start += 500) {
    const points: Schemas['PointStruct'][] = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const vector: Record<string, number[]> = { text: vec(r, 16) };
      if (i % 4 !== 0) vector.image = vec(r, 8);
      points.push({ id: idFor(i), vector, payload: payloadFor(i) });
    }
    await client.upsert(name, { wait: true, points });
  }
}

/** A collection with the single unnamed vector. */
export async function seedPlain(
  client: QdrantClient,
  name: string,
  count: number,
  opts: { dim?: number; distance?: 'Cosine' | 'Dot' | 'Euclid'; seed?: number } = {},
): Promise<void> {
  const dim = opts.dim ?? 32;
  await client.createCollection(name, { vectors: { size: dim, distance: opts.distance ?? 'Cosine' } });
  const r = rng(opts.seed ?? 7);
  for (let start = 0; start < count; start += 1000) {
    const ids: (string | number)[] = [];
    const vectors: number[][] = [];
    const payloads: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      ids.push(idFor(i));
      vectors.push(vec(r, dim));
      payloads.push(payloadFor(i));
    }
    await client.upsert(name, { wait: true, batch: { ids, vectors, payloads } });
  }
}

/** Writes a backup stream to a file (standing in for the repository) and returns what `done` recorded. */
export async function saveBackup<T>(b: BackupStream<T>, file: string): Promise<T> {
  await pipeline(b.stream, createWriteStream(file));
  return b.done;
}

export const openBackup = (file: string) => createReadStream(file, { highWaterMark: 64 * 1024 });

/** Every point, id-ordered, as the client returns it. */
export async function allPoints(client: QdrantClient, name: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let offset: string | number | undefined;
  for (;;) {
    const page = await client.scroll(name, { limit: 500, offset, with_payload: true, with_vector: true });
    out.push(...page.points);
    if (page.next_page_offset === null || page.next_page_offset === undefined) return out;
    offset = page.next_page_offset as string | number;
  }
}
