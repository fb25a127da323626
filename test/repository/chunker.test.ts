import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Chunker, type ChunkerParams } from '../../repository/chunker';
import { deriveGearTable } from '../../repository/gear';
import { collectBytes, randomStream } from './helpers';

/**
 * The chunking rule exactly as docs/repository-format.md states it, one byte
 * at a time, with no tricks: the fast two-bytes-per-step streaming chunker
 * must cut at the same places.
 */
function referenceCuts(data: Buffer, p: ChunkerParams, gear: Uint32Array): number[] {
  const k = Math.log2(p.normalSize);
  const mask = (bits: number) => (2 ** bits - 1) * 2 ** (31 - bits);
  const maskS = mask(k + p.normalization);
  const maskL = mask(k - p.normalization);
  const lengths: number[] = [];
  let start = 0;
  while (start < data.length) {
    const rest = data.length - start;
    let len = Math.min(rest, p.maxSize);
    let h = 0;
    for (let i = p.minSize; i < Math.min(rest, p.maxSize); i++) {
      h = (h * 2 + gear[data[start + i]]) % 2 ** 32;
      const m = i < p.normalSize ? maskS : maskL;
      if ((h & m) === 0) {
        len = i + 1;
        break;
      }
    }
    lengths.push(len);
    start += len;
  }
  return lengths;
}

function fastCuts(data: Buffer, p: ChunkerParams, gear: Uint32Array, piece: number): number[] {
  const out: Buffer[] = [];
  const c = new Chunker(p, gear);
  for (let i = 0; i < data.length; i += piece) c.push(data.subarray(i, i + piece), out);
  c.finish(out);
  return out.map((b) => b.length);
}

describe('content-defined chunker', () => {
  test('matches the documented definition byte for byte (several sizes, normalization levels, piece sizes)', async () => {
    const data = await collectBytes(randomStream(3 * 1024 * 1024 + 17, 'chunker-ref'));
    for (const p of [
      { minSize: 2048, normalSize: 8192, maxSize: 32768, normalization: 1 },
      { minSize: 1000, normalSize: 4096, maxSize: 20000, normalization: 2 },
      { minSize: 64, normalSize: 256, maxSize: 1024, normalization: 0 },
      { minSize: 256 * 1024, normalSize: 512 * 1024, maxSize: 4 * 1024 * 1024, normalization: 1 },
    ]) {
      const gear = deriveGearTable(randomBytes(32));
      const expected = referenceCuts(data, p, gear);
      assert.ok(expected.length > 1);
      for (const piece of [1 << 20, 4093, 1]) {
        if (piece === 1 && p.maxSize > 100_000) continue; // byte-by-byte pushes of 3 MiB are merely slow
        assert.deepEqual(fastCuts(data, p, gear, piece), expected, `params ${JSON.stringify(p)}, pieces of ${piece}`);
      }
    }
  });

  test('respects min and max sizes, and highly repetitive input is cut at max', async () => {
    const p = { minSize: 256 * 1024, normalSize: 512 * 1024, maxSize: 4 * 1024 * 1024, normalization: 1 };
    const gear = deriveGearTable(randomBytes(32));
    const random = await collectBytes(randomStream(40 * 1024 * 1024, 'chunker-sizes'));
    const sizes = fastCuts(random, p, gear, 1 << 16);
    for (const s of sizes.slice(0, -1)) assert.ok(s >= p.minSize && s <= p.maxSize, `chunk of ${s}`);
    const mean = random.length / sizes.length;
    assert.ok(mean > 500 * 1024 && mean < 900 * 1024, `mean chunk ${Math.round(mean / 1024)} KiB`);
    // Constant input has a constant hash after 32 bytes: it cuts right at min or runs to max; never outside.
    const zeros = Buffer.alloc(10 * 1024 * 1024);
    for (const s of fastCuts(zeros, p, gear, 1 << 20).slice(0, -1)) assert.ok(s >= p.minSize && s <= p.maxSize);
  });

  test('different repositories (gear seeds) cut the same data differently', async () => {
    const p = { minSize: 2048, normalSize: 8192, maxSize: 65536, normalization: 1 };
    const data = await collectBytes(randomStream(1024 * 1024, 'chunker-seeds'));
    const a = fastCuts(data, p, deriveGearTable(randomBytes(32)), 1 << 16);
    const b = fastCuts(data, p, deriveGearTable(randomBytes(32)), 1 << 16);
    assert.notDeepEqual(a, b);
  });

  test('the gear table follows its documented derivation', () => {
    const seed = Buffer.alloc(32, 7);
    const g = deriveGearTable(seed);
    for (const i of [0, 1, 128, 255]) {
      const want = createHash('sha256')
        .update('lifeboat-gear-v1')
        .update(seed)
        .update(Buffer.from([i]))
        .digest()
        .readUInt32BE(0);
      assert.equal(g[i], want);
    }
  });
});
