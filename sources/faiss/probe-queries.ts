import { createHash } from 'node:crypto';

/**
 * Deterministic probe query vectors: mulberry32 seeded by `seed`, values in
 * [-0.5, 0.5), `count` vectors of dimension `d`, rounded to float32 (what
 * faiss sees). Shared by the probe child and tests; it must never change
 * silently, which is why probes also record `queryDigest`.
 */
export function probeQueryVectors(seed: number, count: number, d: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(count * d);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

/** sha256 (hex) of the query vectors as little-endian float32. */
export function queryDigest(vectors: Float32Array): string {
  return createHash('sha256')
    .update(Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength))
    .digest('hex');
}
