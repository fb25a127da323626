import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IdSorter, joinIds, escapeId, unescapeId, faissLayout, faissEntries } from '../../consistency';
import { flatIndex, idMapIndex, vectorFor, writeIndex } from './faiss-files';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'lb-consistency-'));

async function sortedAll(s: IdSorter): Promise<string[]> {
  const out: string[] = [];
  for await (const b of s.sorted()) out.push(...b.map(unescapeId));
  return out;
}

describe('consistency: external sort and merge join', () => {
  test('ids spill into sorted runs and merge back in order, each once, duplicates counted', async () => {
    const dir = tmp();
    try {
      const s = new IdSorter({ scratchDir: dir, runSize: 7, examples: 2 });
      const ids = ['b', 'a\nline', 'c', 'a', 'z', 'back\\slash', 'c', 'm', 'b', 'q', 'r', 's', 't', 'u', 'c', 'k', 'ü'];
      await s.add(ids);
      assert.equal(s.spilledRuns, 2, 'two full runs of 7 written before the merge');
      assert.ok(readdirSync(dir).length === 1, 'runs live in one folder of the scratch dir');
      const got = await sortedAll(s);
      const want = [...new Set(ids.map(escapeId))].sort().map(unescapeId);
      assert.deepEqual(got, want);
      assert.equal(s.count, ids.length);
      assert.equal(s.unique, want.length);
      assert.deepEqual(s.duplicatesFinding(), { count: 2, examples: ['b', 'c'] });
      s.close();
      assert.deepEqual(readdirSync(dir), [], 'run files removed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the same ids sorted in memory and spilled give the same order', async () => {
    const dir = tmp();
    try {
      const ids = Array.from({ length: 5000 }, (_, i) => String((i * 7919) % 5003));
      const a = new IdSorter({ scratchDir: dir });
      const b = new IdSorter({ scratchDir: dir, runSize: 300 });
      await a.add(ids);
      await b.add(ids);
      assert.deepEqual(await sortedAll(b), await sortedAll(a));
      assert.equal(a.spilledRuns, 0);
      assert.ok(b.spilledRuns >= 16);
      a.close();
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('merge join: every direction counted with the first examples, and a seeded sample of common ids', async () => {
    const gen = async function* (ids: string[]) {
      yield ids.slice(0, 2);
      yield ids.slice(2);
    };
    const r = await joinIds(
      [
        { store: 'redis', ids: gen(['1', '2', '3', '4', '5']) },
        { store: 'faiss', ids: gen(['2', '3', '4', '5', '6']) },
        { store: 'qdrant', ids: gen(['1', '3', '4', '5', '7', '8']) },
      ],
      { examples: 1, sample: { between: ['faiss', 'qdrant'], size: 2, seed: 3 } },
    );
    const m = Object.fromEntries(r.missing.map((x) => [`${x.from}>${x.to}`, [x.count, x.examples]]));
    assert.deepEqual(m, {
      'redis>faiss': [1, ['1']],
      'redis>qdrant': [1, ['2']],
      'faiss>redis': [1, ['6']],
      'faiss>qdrant': [2, ['2']],
      'qdrant>redis': [2, ['7']],
      'qdrant>faiss': [3, ['1']],
    });
    assert.equal(r.compared, 8);
    assert.equal(r.sample.length, 2);
    for (const id of r.sample) assert.ok(['3', '4', '5'].includes(id), `sampled ${id} is in both`);
  });
});

describe('consistency: FAISS ids and vectors read from the file', () => {
  test('IndexFlatL2: positions and raw vectors', async () => {
    const dir = tmp();
    try {
      const file = path.join(dir, 'flat.index');
      const vs = [vectorFor(0, 3), vectorFor(1, 3), [NaN, 0, 1]];
      writeIndex(file, flatIndex(vs));
      const layout = await faissLayout(file, 'positions');
      assert.deepEqual([layout.d, layout.ntotal, layout.chain], [3, 3, ['IxF2']]);
      const ids: string[] = [];
      const got: number[][] = [];
      for await (const b of faissEntries(layout, { vectors: true })) {
        ids.push(...b.ids);
        for (let i = 0; i < b.ids.length; i++) got.push(Array.from(b.vectors!.subarray(i * 3, i * 3 + 3)));
      }
      assert.deepEqual(ids, ['0', '1', '2']);
      assert.deepEqual(got.slice(0, 2), vs.slice(0, 2));
      assert.ok(Number.isNaN(got[2][0]));
      await assert.rejects(faissLayout(file, 'idmap'), /keeps no id map.*use ids: positions/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('IndexIDMap: the stored ids, paired with their vectors', async () => {
    const dir = tmp();
    try {
      const file = path.join(dir, 'idmap.index');
      writeIndex(file, idMapIndex([vectorFor(5, 2), vectorFor(9, 2)], [500, 900]));
      const layout = await faissLayout(file, 'idmap');
      assert.deepEqual(layout.chain, ['IxMp', 'IxF2']);
      const batches = [];
      for await (const b of faissEntries(layout, { vectors: true })) batches.push(b);
      assert.deepEqual(batches[0].ids, ['500', '900']);
      assert.deepEqual(Array.from(batches[0].vectors!), [...vectorFor(5, 2), ...vectorFor(9, 2)]);
      // A truncated file is named as damaged, never read past its end.
      writeIndex(file, idMapIndex([vectorFor(5, 2)], [1]).subarray(0, 60));
      await assert.rejects(faissLayout(file, 'idmap'), (e: Error) => e.name === 'FaissCorruptFileError');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
