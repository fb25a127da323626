import type { QdrantApi } from './api';
import type { QdrantProbe, QdrantVectorSpec } from './types';

/** FNV-1a: a stable seed from a vector name and probe number. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The deterministic query vector for a seed (mulberry32, components in
 * [-1, 1), float32). Only the seed is stored with the backup.
 */
export function probeVector(seed: number, size: number): number[] {
  let a = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out.push(Math.fround(r * 2 - 1));
  }
  return out;
}

/** Runs one exact top-k query (params.exact, so approximate HNSW results cannot differ between servers). */
export async function runProbe(
  api: QdrantApi,
  collection: string,
  using: string,
  seed: number,
  size: number,
  topK: number,
): Promise<{ ids: (string | number)[]; scores: number[] }> {
  const res = await api.call(
    'probe query',
    (c) =>
      c.query(collection, {
        query: probeVector(seed, size),
        ...(using ? { using } : {}),
        limit: topK,
        params: { exact: true },
        with_payload: false,
        with_vector: false,
      }),
    collection,
  );
  return { ids: res.points.map((p) => p.id as string | number), scores: res.points.map((p) => p.score) };
}

/** Records `count` probes per vector name. */
export async function recordProbes(
  api: QdrantApi,
  collection: string,
  vectors: Record<string, QdrantVectorSpec>,
  opts: { count?: number; topK?: number } = {},
): Promise<QdrantProbe[]> {
  const count = opts.count ?? 3;
  const topK = opts.topK ?? 10;
  const out: QdrantProbe[] = [];
  for (const using of Object.keys(vectors).sort()) {
    for (let i = 0; i < count; i++) {
      const seed = seedOf(`${using}#${i}`);
      out.push({ using, seed, topK, ...(await runProbe(api, collection, using, seed, vectors[using].size, topK)) });
    }
  }
  return out;
}

/**
 * Same result set with the same scores. Order among exactly tied scores may
 * legitimately differ, so ids are compared as a set with per-id scores.
 */
export function probeMatches(expected: QdrantProbe, actual: { ids: (string | number)[]; scores: number[] }): boolean {
  if (expected.ids.length !== actual.ids.length) return false;
  const got = new Map(actual.ids.map((id, i) => [String(id), actual.scores[i]]));
  return expected.ids.every((id, i) => {
    const s = got.get(String(id));
    return s !== undefined && Math.abs(s - expected.scores[i]) <= 1e-4 * Math.max(1, Math.abs(s));
  });
}
