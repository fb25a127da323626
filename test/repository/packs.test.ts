/**
 * Record streams (writeArtifact with chunking: 'records'): small pieces become
 * blobs in packs (format version 2). What a user relies on: the bytes come
 * back exactly, a few changed records cost about their own size, damage to a
 * pack or its index is found and named, prune frees packs nothing needs, and
 * points written before packs existed stay readable next to them.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CorruptObjectError,
  initRepository,
  openRepository,
  type ArtifactRef,
  type Repository,
} from '../../repository';
import { FAST, TARGETS, collectBytes, fromBuffer, randomStream, rejection } from './helpers';

const N = 6000;

/** Record i of a version: 40-600 bytes, its content a function of (i, its version); every 1000th is 200 KiB. */
function record(i: number, version: number): Buffer {
  const seed = createHash('sha256').update(`${i}:${version}`).digest();
  const len = i % 1000 === 999 ? 200 * 1024 : 40 + (seed.readUInt16BE(0) % 560);
  const out = Buffer.alloc(len);
  for (let o = 0; o < len; o += 32) seed.copy(out, o, 0, Math.min(32, len - o));
  out.writeUInt32BE(i, 0);
  return out;
}

/** The pieces of a record stream, with `changed` records at version 2. */
function pieces(changed: ReadonlySet<number> = new Set()): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < N; i++) out.push(record(i, changed.has(i) ? 2 : 1));
  return out;
}

async function* iterate(list: Buffer[]): AsyncGenerator<Buffer> {
  yield* list;
}

const META = { source: 'redis', kind: 'redis-logical', name: 'dump' };

for (const target of TARGETS) {
  describe(`packs on ${target.name}`, () => {
    const repos: Repository[] = [];
    after(async () => Promise.all(repos.map((r) => r.close())));

    async function fresh(label: string) {
      const loc = target.location(`packs-${label}`);
      const repo = await initRepository(loc, 'pw-packs', FAST);
      repos.push(repo);
      return { loc, repo, raw: target.raw(loc) };
    }

    async function write(repo: Repository, list: Buffer[]) {
      const w = await repo.writeArtifact(iterate(list), META, { chunking: 'records' });
      const { written, ...ref } = w;
      const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
      return { ref: ref as ArtifactRef, written, point: rp.id };
    }

    test('a record stream comes back byte for byte; 1% of records changed costs about their own bytes', async () => {
      const { repo, raw } = await fresh('roundtrip');
      const v1 = pieces();
      const first = await write(repo, v1);
      const all1 = Buffer.concat(v1);
      assert.ok(first.written.newBytes === all1.length, 'the first write stores everything');
      const packFiles = (await raw.list('data/packs/')).filter((k) => !k.endsWith('.idx'));
      assert.ok(packFiles.length >= 1, 'small records are in packs');
      // 6000 records would be ~6000 objects as loose chunks: packs keep it to a handful.
      assert.ok((await raw.list('data/')).length < 100, `${(await raw.list('data/')).length} data objects`);
      assert.deepEqual(await collectBytes(repo.readArtifact(first.ref)), all1);

      // 1% of the records, spread over the whole stream, changed.
      const changed = new Set<number>();
      for (let i = 37; changed.size < N / 100; i += 97) changed.add(i % N);
      const v2 = pieces(changed);
      const second = await write(repo, v2);
      const changedBytes = [...changed].reduce((n, i) => n + record(i, 2).length, 0);
      assert.equal(second.written.newBytes, changedBytes, 'exactly the changed records are new');
      assert.equal(second.written.repackedBytes, undefined, 'the old packs are nearly all still used: no repack');
      assert.deepEqual(await collectBytes(repo.readArtifact(second.ref)), Buffer.concat(v2));
      // The first point still reads, unchanged, next to the second.
      assert.deepEqual(await collectBytes(repo.readArtifact(first.ref)), all1);
      const report = await repo.verify({ readData: true });
      assert.deepEqual(report.problems, []);
      assert.ok(report.ok);
    });

    test('repack on write: a point that reads under half of an old pack copies what it needs, so prune can free the old pack whole', async () => {
      const { repo, raw } = await fresh('repack');
      const first = await write(repo, pieces());
      const oldPacks = (await raw.list('data/packs/')).filter((k) => !k.endsWith('.idx'));
      // 60% of the records change: the second point would read only ~40% of the first point's packs.
      const changed = new Set<number>();
      for (let i = 0; i < N; i++) if (i % 5 < 3) changed.add(i);
      const v2 = pieces(changed);
      const second = await write(repo, v2);
      const small = (i: number) => record(i, 1).length < 64 * 1024;
      const unchangedSmall = [...Array(N).keys()].filter((i) => !changed.has(i) && small(i));
      assert.equal(
        second.written.repackedBytes,
        unchangedSmall.reduce((n, i) => n + record(i, 1).length, 0),
        'exactly the unchanged small records are copied',
      );
      assert.deepEqual(await collectBytes(repo.readArtifact(second.ref)), Buffer.concat(v2));
      // The first point still reads from its own packs.
      assert.deepEqual(await collectBytes(repo.readArtifact(first.ref)), Buffer.concat(pieces()));
      await repo.forget(first.point);
      for (let i = 0; i < 20; i++) {
        const left = new Set(await raw.list('data/packs/'));
        if (!oldPacks.some((p) => left.has(p))) break;
        await new Promise((r) => setTimeout(r, 500));
        await repo.prune({ graceMs: 0 });
      }
      const left = new Set(await raw.list('data/packs/'));
      assert.deepEqual(
        oldPacks.filter((p) => left.has(p) || left.has(`${p}.idx`)),
        [],
        'no pack of the first point survives it',
      );
      assert.deepEqual(await collectBytes(repo.readArtifact(second.ref)), Buffer.concat(v2));
      assert.ok((await repo.verify({ readData: true })).ok);
    });

    test('a damaged pack fails the read naming the pack, and verify names it and the point', async () => {
      const { repo, raw } = await fresh('damage');
      const w = await write(repo, pieces());
      const pack = (await raw.list('data/packs/')).find((k) => !k.endsWith('.idx'))!;
      const bytes = await raw.get(pack);
      bytes[Math.floor(bytes.length / 2)] ^= 0x40;
      await raw.put(pack, bytes);
      const e = await rejection(collectBytes(repo.readArtifact(w.ref)));
      assert.ok(e instanceof CorruptObjectError, e.message);
      assert.match(e.message, new RegExp(pack.replace(/\./g, '\\.')));
      const report = await repo.verify({ readData: true });
      assert.equal(report.ok, false);
      assert.ok(
        report.problems.some((p) => p.object === pack && p.kind === 'corrupt' && p.recoveryPoints.includes(w.point)),
        JSON.stringify(report.problems),
      );
    });

    test('a missing or truncated pack index is reported by verify without reading data', async () => {
      const { repo, raw } = await fresh('index');
      const w = await write(repo, pieces());
      const [idx, idx2] = (await raw.list('data/packs/')).filter((k) => k.endsWith('.idx'));
      await raw.delete(idx);
      if (idx2) await raw.put(idx2, (await raw.get(idx2)).subarray(0, 20));
      const report = await repo.verify();
      assert.ok(
        report.problems.some((p) => p.object === idx && p.kind === 'missing' && p.recoveryPoints.includes(w.point)),
        JSON.stringify(report.problems),
      );
      if (idx2) assert.ok(report.problems.some((p) => p.object === idx2 && p.kind === 'corrupt'));
      // The next record write does not trust blobs whose index it cannot read: it stores them again.
      const again = await write(repo, pieces());
      assert.ok(again.written.newBytes > 0);
      assert.deepEqual(await collectBytes(repo.readArtifact(again.ref)), Buffer.concat(pieces()));
    });

    test('prune keeps packs a point still needs and frees them once no point does', async () => {
      const { loc, repo, raw } = await fresh('prune');
      const first = await write(repo, pieces());
      const changed = new Set([5, 500, 5000]);
      const second = await write(repo, pieces(changed));
      await repo.forget(first.point);
      await repo.prune({ graceMs: 0 });
      // The second point still needs nearly every blob of the first point's packs.
      assert.deepEqual(await collectBytes(repo.readArtifact(second.ref)), Buffer.concat(pieces(changed)));
      assert.ok((await repo.verify({ readData: true })).ok);
      const before = (await raw.list('data/')).length;
      await repo.forget(second.point);
      // S3 times have a one-second resolution: what was written in the last second is not garbage yet.
      let freed = 0;
      for (let i = 0; i < 20 && (await raw.list('data/')).length; i++) {
        await new Promise((r) => setTimeout(r, 500));
        freed += (await repo.prune({ graceMs: 0 })).deletedChunks;
      }
      assert.deepEqual(await raw.list('data/'), [], 'nothing is left under data/');
      assert.equal(freed, before, 'every pack and pack index is counted as freed');
      // A point of plain (format 1) chunks and a record point side by side after reopening.
      const reopened = await openRepository(loc, 'pw-packs', FAST);
      repos.push(reopened);
      const plain = await collectBytes(randomStream(2 << 20, 'packs-v1'));
      const v1 = await reopened.writeArtifact(fromBuffer(plain), { source: 'f', kind: 'file', name: 'x' });
      const rec = await write(reopened, pieces());
      assert.deepEqual(await collectBytes(reopened.readArtifact(v1)), plain);
      assert.deepEqual(await collectBytes(reopened.readArtifact(rec.ref)), Buffer.concat(pieces()));
    });
  });
}
