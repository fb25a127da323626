import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { initRepository, type Repository } from '../../repository';
import { FAST, MiB, TARGETS, collectBytes, digestOf, fromBuffer, randomStream } from './helpers';

const SIZE = 100 * MiB;

for (const target of TARGETS) {
  describe(`deduplication on ${target.name}`, () => {
    const repos: Repository[] = [];
    after(async () => Promise.all(repos.map((r) => r.close())));

    test('the same stream twice stores nothing new', async () => {
      const repo = await initRepository(target.location('same'), 'pw', FAST);
      repos.push(repo);
      const first = await repo.writeArtifact(randomStream(SIZE, 'dedup-same'), { source: 's', kind: 'k', name: 'n' });
      const before = await repo.stats();
      const second = await repo.writeArtifact(randomStream(SIZE, 'dedup-same'), { source: 's', kind: 'k', name: 'n' });
      const after = await repo.stats();
      assert.equal(second.sha256, first.sha256);
      assert.equal(second.written.newChunks, 0);
      assert.equal(second.written.newBytes, 0);
      // Only the second artifact index (a few KB) was added.
      assert.equal(after.chunks, before.chunks);
      assert.equal(after.chunkBytes, before.chunkBytes);
      assert.equal(after.objects, before.objects + 1);
      assert.ok(after.bytes - before.bytes < 16 * 1024, `${after.bytes - before.bytes} bytes added`);
    });

    test('1% of bytes changed in the middle: new chunk bytes <= 5% of the stream, both versions restore', async () => {
      const repo = await initRepository(target.location('changed'), 'pw', FAST);
      repos.push(repo);
      const original = await collectBytes(randomStream(SIZE, 'dedup-change'));
      const a = await repo.writeArtifact(fromBuffer(original), { source: 's', kind: 'k', name: 'v1' });

      const changed = Buffer.from(original);
      const patch = await collectBytes(randomStream(SIZE / 100, 'patch'));
      patch.copy(changed, Math.floor(SIZE / 2));
      const before = await repo.stats();
      const b = await repo.writeArtifact(fromBuffer(changed), { source: 's', kind: 'k', name: 'v2' });
      const after = await repo.stats();
      const share = b.written.newBytes / SIZE;
      assert.ok(share <= 0.05, `new chunk bytes are ${(share * 100).toFixed(2)}% of the stream`);
      assert.ok(
        after.chunkBytes - before.chunkBytes <= 0.05 * SIZE + 64 * 1024,
        `stored ${after.chunkBytes - before.chunkBytes} new bytes`,
      );
      assert.ok(b.written.newChunks >= 1);

      // Each version restores on its own.
      assert.deepEqual(await collectBytes(repo.readArtifact(a)), original);
      assert.deepEqual(await collectBytes(repo.readArtifact(b)), changed);
    });

    test('bytes inserted in the middle shift the rest, yet only nearby chunks are new', async () => {
      const repo = await initRepository(target.location('insert'), 'pw', FAST);
      repos.push(repo);
      const original = await collectBytes(randomStream(SIZE / 2, 'dedup-insert'));
      await repo.writeArtifact(fromBuffer(original), { source: 's', kind: 'k', name: 'v1' });
      const mid = original.length / 2 + 12_345;
      const inserted = Buffer.concat([
        original.subarray(0, mid),
        Buffer.from('a few inserted bytes that shift everything after them'),
        original.subarray(mid),
      ]);
      const b = await repo.writeArtifact(fromBuffer(inserted), { source: 's', kind: 'k', name: 'v2' });
      assert.ok(b.written.newBytes <= 0.05 * inserted.length, `new bytes ${b.written.newBytes} of ${inserted.length}`);
      assert.equal((await digestOf(repo.readArtifact(b))).sha256, b.sha256);
    });
  });
}
