/**
 * FAISS proof (issue 2, item 5): faiss-node, compiled here against Debian's
 * libfaiss, builds Flat, IVF and HNSW indexes, writes them to files and reads
 * them back with identical search results. The inputs are built by this test,
 * so loading them in the test process is safe (Lifeboat itself never loads
 * an index file in its own process).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Index, IndexFlatIP, IndexFlatL2, MetricType } from 'faiss-node';
import { scratchDir } from '../harness/env';

/** mulberry32: small, seedable, the same vectors on every run. */
function vectors(seed: number, n: number, d: number): number[] {
  let a = seed >>> 0;
  const out = new Array<number>(n * d);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

const D = 32;
const N = 2000;
const K = 10;
const data = vectors(1, N, D);
const queries = vectors(2, 25, D);

const kinds: { name: string; build: () => Index; fourcc: string }[] = [
  { name: 'Flat L2', fourcc: 'IxF2', build: () => new IndexFlatL2(D) },
  { name: 'Flat IP', fourcc: 'IxFI', build: () => new IndexFlatIP(D) },
  { name: 'IVF16,Flat', fourcc: 'IwFl', build: () => Index.fromFactory(D, 'IVF16,Flat', MetricType.METRIC_L2) },
  { name: 'HNSW32', fourcc: 'IHNf', build: () => Index.fromFactory(D, 'HNSW32', MetricType.METRIC_L2) },
];

describe('faiss-node: write an index to a file, read it back, same search results', () => {
  const dir = scratchDir('faiss-proof');
  for (const kind of kinds) {
    test(kind.name, () => {
      const index = kind.build();
      if (!index.isTrained()) index.train(data);
      index.add(data);
      assert.equal(index.ntotal(), N);
      const before = index.search(queries, K);
      // Sanity: the queries do find N distinct, valid labels (not padding).
      assert.equal(before.labels.length, 25 * K);
      assert.ok(
        before.labels.every((l) => l >= 0 && l < N),
        'every query found K real neighbours',
      );

      const file = path.join(dir, `${kind.fourcc}.index`);
      index.write(file);
      // Every kind here stores the raw float32 vectors.
      assert.ok(statSync(file).size > N * D * 4);
      assert.equal(
        readFileSync(file).subarray(0, 4).toString('latin1'),
        kind.fourcc,
        'file starts with the fourcc of its index type',
      );

      const loaded = Index.read(file);
      assert.equal(loaded.ntotal(), N);
      assert.equal(loaded.getDimension(), D);
      const after = loaded.search(queries, K);
      assert.deepEqual(after.labels, before.labels);
      assert.deepEqual(after.distances, before.distances);

      // Serialising the loaded index again gives the same bytes: nothing was lost on the way.
      assert.ok(loaded.toBuffer().equals(readFileSync(file)));
    });
  }
});
