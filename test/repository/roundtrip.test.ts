import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { initRepository, openRepository, type Repository } from '../../repository';
import {
  FAST,
  MiB,
  TARGETS,
  collectBytes,
  digestOf,
  fromBuffer,
  liveBytes,
  randomStream,
  repeatStream,
  tap,
} from './helpers';

for (const target of TARGETS) {
  describe(`round trips on ${target.name}`, () => {
    const repos: Repository[] = [];
    after(async () => Promise.all(repos.map((r) => r.close())));
    const fresh = async (label: string) => {
      const loc = target.location(label);
      const repo = await initRepository(loc, 'correct horse', FAST);
      repos.push(repo);
      return { loc, repo };
    };

    test('0 bytes and 1 byte come back exactly', async () => {
      const { repo } = await fresh('tiny');
      const empty = await repo.writeArtifact(fromBuffer(Buffer.alloc(0)), { source: 's', kind: 'k', name: 'empty' });
      assert.equal(empty.size, 0);
      assert.equal(empty.chunks, 0);
      assert.equal(empty.sha256, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      assert.equal((await collectBytes(repo.readArtifact(empty))).length, 0);

      const one = await repo.writeArtifact(fromBuffer(Buffer.from([0xa5])), { source: 's', kind: 'k', name: 'one' });
      assert.equal(one.size, 1);
      assert.deepEqual(await collectBytes(repo.readArtifact(one)), Buffer.from([0xa5]));
    });

    test('100 MB of random data: byte-exact, content-defined chunks of ~680 KiB, bounded memory', async () => {
      const { repo } = await fresh('random');
      const t = tap(randomStream(100 * MiB, `rt-${target.name}`));
      const before = liveBytes();
      let peak = before;
      let n = 0;
      const ref = await repo.writeArtifact(
        t.stream,
        { source: 'redis-main', kind: 'redis-logical', name: 'db0' },
        {
          onProgress: () => void (n++ % 8 === 0 && (peak = Math.max(peak, liveBytes()))),
        },
      );
      const written = t.result();
      assert.equal(ref.size, 100 * MiB);
      assert.equal(ref.sha256, written.sha256);
      // FastCDC min 256 KiB / normal 512 KiB / max 4 MiB averages ~680 KiB: ~150 chunks for 100 MiB.
      assert.ok(ref.chunks >= 110 && ref.chunks <= 200, `${ref.chunks} chunks`);
      assert.equal(ref.written.newBytes, 100 * MiB);
      // Streaming: live memory stays at two 8 MiB slabs plus the chunks in flight (8 on S3,
      // each with its compressed/encrypted copy), nothing like the whole 100 MB.
      assert.ok(
        peak - before < 64 * MiB,
        `live memory grew by ${((peak - before) / MiB).toFixed(0)} MiB while writing`,
      );
      const back = await digestOf(repo.readArtifact(ref));
      assert.deepEqual(back, written);
      // Random data does not compress: stored size is the data plus small envelopes.
      const st = await repo.stats();
      assert.ok(
        st.chunkBytes >= 100 * MiB && st.chunkBytes < 100 * MiB + ref.chunks * 100,
        `${st.chunkBytes} stored chunk bytes`,
      );
    });

    test('100 MB of repetitive data: byte-exact, stored tiny (dedup + zstd)', async () => {
      const { repo } = await fresh('repetitive');
      const unit = Buffer.from('session:4711 {"user":"ada","cart":[1,2,3],"ttl":3600}\n');
      const t = tap(repeatStream(100 * MiB, unit));
      const ref = await repo.writeArtifact(t.stream, { source: 'redis-main', kind: 'redis-logical', name: 'db1' });
      const written = t.result();
      assert.equal(ref.sha256, written.sha256);
      const st = await repo.stats();
      assert.ok(st.bytes < 1 * MiB, `stored ${st.bytes} bytes for 100 MB of repetitive data`);
      assert.deepEqual(await digestOf(repo.readArtifact(ref)), written);
    });

    test('chunk boundaries do not depend on how the input is sliced', async () => {
      const { repo } = await fresh('slicing');
      const data = await collectBytes(randomStream(6 * MiB + 12345, 'slicing'));
      const a = await repo.writeArtifact(fromBuffer(data, 1 << 20), { source: 's', kind: 'k', name: 'a' });
      // Odd, tiny and huge pieces: same chunks, so nothing new is stored.
      const pieces = async function* () {
        let i = 0;
        for (const n of [1, 7, 65_536, 3, 4 * MiB, 1_000_003]) {
          yield data.subarray(i, i + n);
          i += n;
        }
        yield data.subarray(i);
      };
      const b = await repo.writeArtifact(pieces(), { source: 's', kind: 'k', name: 'b' });
      assert.equal(b.sha256, a.sha256);
      assert.equal(b.chunks, a.chunks);
      assert.equal(b.written.newChunks, 0);
      assert.deepEqual(await collectBytes(repo.readArtifact(b)), data);
    });

    test('a committed recovery point survives a reopen and resolves by unique prefix', async () => {
      const { loc, repo } = await fresh('reopen');
      const data = await collectBytes(randomStream(3 * MiB, 'reopen'));
      const ref = await repo.writeArtifact(fromBuffer(data), {
        source: 'faiss-docs',
        kind: 'faiss-index',
        name: 'docs.faiss',
      });
      const meta = { ntotal: 1000, dimension: 384, probes: [{ q: 1, ids: [3, 4] }] };
      const rp = await repo.commitRecoveryPoint({
        artifacts: [{ ...ref, metadata: meta }],
        tags: ['nightly'],
        labels: { runId: 'r-1' },
        host: 'worker-7',
      });
      assert.match(rp.id, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);

      const again = await openRepository(loc, 'correct horse');
      repos.push(again);
      assert.equal(again.id, repo.id);
      const got = await again.getRecoveryPoint(rp.id.slice(0, 18));
      assert.equal(got.id, rp.id);
      assert.deepEqual(got.tags, ['nightly']);
      assert.deepEqual(got.labels, { runId: 'r-1' });
      assert.equal(got.host, 'worker-7');
      assert.deepEqual(got.artifacts[0].metadata, meta);
      assert.deepEqual(await collectBytes(again.readArtifact(got.artifacts[0])), data);
      const list = await again.listRecoveryPoints();
      assert.deepEqual(
        list.map((p) => p.id),
        [rp.id],
      );
    });

    test('recovery points list newest first', async () => {
      const { repo } = await fresh('order');
      const ref = await repo.writeArtifact(fromBuffer(Buffer.from('x')), { source: 's', kind: 'k', name: 'n' });
      const times = ['2026-01-02T00:00:00Z', '2026-03-01T00:00:00Z', '2026-02-01T00:00:00Z'];
      for (const t of times) await repo.commitRecoveryPoint({ artifacts: [ref], time: new Date(t) });
      const list = await repo.listRecoveryPoints();
      assert.deepEqual(
        list.map((p) => p.time),
        ['2026-03-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'],
      );
      assert.ok(list[0].id.startsWith('20260301T000000Z-'));
    });
  });
}
