import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Index } from 'faiss-node';
import {
  FaissCorruptFileError,
  FaissFileNotFoundError,
  FaissInvalidPathError,
  inspectFaissFile,
  readFaissHeader,
} from '../../sources/faiss';
import { scratchDir } from '../harness/env';
import { buildFixtures, D, N, type Fixture } from './faiss-fixtures';

let dir: string;
let fixtures: Fixture[];

before(() => {
  dir = scratchDir('faiss-header');
  fixtures = buildFixtures(dir);
});

function write(name: string, bytes: Buffer): string {
  const f = path.join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

async function rejectsCorrupt(file: string, kind: FaissCorruptFileError['kind'], detail: RegExp): Promise<void> {
  await assert.rejects(inspectFaissFile(file), (e: unknown) => {
    assert.ok(e instanceof FaissCorruptFileError, `expected FaissCorruptFileError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.path, file);
    assert.ok(e.message.includes(file), 'the message names the file');
    assert.match(e.detail, detail);
    return true;
  });
}

describe('FAISS header: type, dimension, ntotal and metric parsed from the first bytes', () => {
  test('every supported index type', async () => {
    for (const fx of fixtures) {
      const h = await readFaissHeader(fx.file);
      assert.equal(h.fourcc, fx.fourcc, fx.name);
      assert.equal(h.d, fx.d, fx.name);
      assert.equal(h.ntotal, fx.ntotal, fx.name);
      assert.equal(h.metric, fx.metric, fx.name);
      assert.equal(h.isTrained, true, fx.name);
      assert.equal(h.metricArg, fx.metricArg, fx.name);
    }
  });

  test('the whole layout is walked and ends exactly at the end of the file', async () => {
    for (const fx of fixtures) {
      const r = await inspectFaissFile(fx.file);
      assert.deepEqual(r.structure, { checked: true, chain: fx.chain }, fx.name);
      assert.equal(r.size, readFileSync(fx.file).length);
    }
  });

  test('an empty IVF index and an IVF index with sparse lists are walked too', async () => {
    const empty = Index.fromFactory(8, 'IVF16,Flat');
    const sparse = Index.fromFactory(8, 'IVF64,Flat');
    const xs = Array.from({ length: 3000 * 8 }, (_, i) => Math.sin(i * 1.37) + Math.cos(i * 0.11));
    empty.train(xs);
    sparse.train(xs);
    sparse.add(xs.slice(0, 3 * 8)); // 3 vectors in 64 lists: faiss writes the "sprs" layout
    empty.write(path.join(dir, 'ivf-empty.index'));
    sparse.write(path.join(dir, 'ivf-sparse.index'));
    const e = await inspectFaissFile(path.join(dir, 'ivf-empty.index'));
    assert.equal(e.header.ntotal, 0);
    assert.equal(e.structure.checked, true);
    const s = await inspectFaissFile(path.join(dir, 'ivf-sparse.index'));
    assert.equal(s.header.ntotal, 3);
    assert.equal(s.structure.checked, true);
  });

  test('a known type whose layout is not walked: header checked, structure marked unchecked', async () => {
    const lsh = Index.fromFactory(D, 'LSH');
    lsh.add(Array.from({ length: 10 * D }, (_, i) => Math.sin(i)));
    lsh.write(path.join(dir, 'lsh.index'));
    const r = await inspectFaissFile(path.join(dir, 'lsh.index'));
    assert.equal(r.header.fourcc, 'IxHe');
    assert.equal(r.header.ntotal, 10);
    assert.equal(r.structure.checked, false);
    assert.match(r.structure.uncheckedReason ?? '', /IndexLSH/);
  });
});

describe('FAISS header: damaged files are rejected, naming the file', () => {
  test('truncated in the header, mid-data and by one byte, for every type', async () => {
    for (const fx of fixtures) {
      const full = readFileSync(fx.file);
      for (const [label, len] of [
        ['header', 20],
        ['mid-data', Math.floor(full.length / 2)],
        ['last byte', full.length - 1],
      ] as const) {
        const f = write(`trunc-${label}-${path.basename(fx.file)}`, full.subarray(0, len));
        await rejectsCorrupt(f, 'truncated', /needs \d+ bytes|ended early/);
      }
    }
  });

  test('a file shorter than a type code, and an empty file', async () => {
    await rejectsCorrupt(write('tiny.index', Buffer.from('Ix')), 'truncated', /2 bytes where a 4-byte index type code/);
    await assert.rejects(readFaissHeader(write('empty.index', Buffer.alloc(0))), FaissCorruptFileError);
  });

  test('unknown type code', async () => {
    await rejectsCorrupt(
      write('text.index', Buffer.from('hello, this is not an index at all, just some text')),
      'unknown-type',
      /"hell".*not a FAISS float index type/,
    );
    const flat = readFileSync(fixtures[0].file);
    const bin = Buffer.from(flat);
    // A float index's bytes under a binary type code: read as a binary header (issue 8), whose code size then contradicts d.
    bin.write('IBxF', 0, 'latin1');
    await rejectsCorrupt(write('binary.index', bin), 'inconsistent', /IBxF has code size \d+ bytes for 16 bits/);
  });

  test('damaged fixed header fields, dimension and metric', async () => {
    const flat = readFileSync(fixtures[0].file);
    const dummy = Buffer.from(flat);
    dummy.writeBigInt64LE(12345n, 16);
    await rejectsCorrupt(write('dummy.index', dummy), 'inconsistent', /damaged fixed fields/);
    const dim = Buffer.from(flat);
    dim.writeInt32LE(-5, 4);
    await rejectsCorrupt(write('dim.index', dim), 'inconsistent', /dimension -5/);
    const metric = Buffer.from(flat);
    metric.writeInt32LE(77, 33);
    await rejectsCorrupt(write('metric.index', metric), 'inconsistent', /unknown metric type 77/);
  });

  test('flipped bytes in the middle: counts that contradict the header', async () => {
    const byName = (n: string) => readFileSync(fixtures.find((f) => f.name === n)!.file);
    // Flat: header says N vectors, the data vector's length field says otherwise.
    const flat = byName('Flat L2');
    flat.writeBigUInt64LE(BigInt(N * D - 16), 37);
    await rejectsCorrupt(
      write('flat-count.index', flat),
      'inconsistent',
      /vectors has 15984 elements where 16000 were expected/,
    );
    // Flat: a length field so large faiss would try to allocate terabytes and abort.
    const bomb = byName('Flat L2');
    bomb.writeBigUInt64LE(1n << 39n, 37);
    await rejectsCorrupt(
      write('flat-bomb.index', bomb),
      'inconsistent',
      /vectors has 549755813888 elements where 16000 were expected/,
    );
    // HNSW: neighbour ids overwritten in the middle of the graph.
    const hnsw = byName('HNSW32');
    for (let i = Math.floor(hnsw.length / 3); i < Math.floor(hnsw.length / 3) + 64; i++) hnsw[i] = 0x7f;
    await rejectsCorrupt(write('hnsw-flip.index', hnsw), 'inconsistent', /HNSW neighbour id \d+ is outside 0\.\.999/);
    // IDMap: the wrapped index holds a different number of vectors than the wrapper says.
    const idmap = byName('IDMap,Flat');
    idmap.writeBigInt64LE(BigInt(N + 1), 8);
    await rejectsCorrupt(
      write('idmap-ntotal.index', idmap),
      'inconsistent',
      /IxMp holds 1001 vectors but its wrapped index IxF2 holds 1000/,
    );
  });

  test('IVF: list sizes that do not add up to ntotal', async () => {
    const ivf = readFileSync(fixtures.find((f) => f.fourcc === 'IwFl')!.file);
    const at = ivf.indexOf(Buffer.from('full', 'latin1'));
    assert.ok(at > 0, 'IVF fixture uses the full list layout');
    const first = at + 4 + 8; // after the layout tag and the sizes vector's length
    ivf.writeBigUInt64LE(ivf.readBigUInt64LE(first) + 1n, first);
    await rejectsCorrupt(
      write('ivf-sizes.index', ivf),
      'inconsistent',
      /inverted lists hold 1001 vectors but the header says 1000/,
    );
  });

  test('trailing bytes after a complete index', async () => {
    const f = write('trailing.index', Buffer.concat([readFileSync(fixtures[0].file), Buffer.from('junk')]));
    await rejectsCorrupt(f, 'inconsistent', /4 unexpected bytes after the end/);
  });

  test('missing file and a folder', async () => {
    const missing = path.join(dir, 'nope', 'missing.index');
    await assert.rejects(
      readFaissHeader(missing),
      (e: unknown) => e instanceof FaissFileNotFoundError && e.path === missing && e.message.includes(missing),
    );
    await assert.rejects(
      inspectFaissFile(dir),
      (e: unknown) => e instanceof FaissInvalidPathError && /not a regular file/.test(e.message),
    );
  });
});
