import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AmbiguousRecoveryPointIdError,
  InvalidArgumentError,
  LegalHoldError,
  OperationAbortedError,
  RecoveryPointNotFoundError,
  RepositoryLockedError,
  initRepository,
  openRepository,
  type OpenOptions,
  type Repository,
} from '../../repository';
import { FAST, MiB, TARGETS, collectBytes, fromBuffer, randomStream, rejection, sleep } from './helpers';

/** Fast lock heartbeats so prune/writer coordination happens within a test. */
const QUICK: OpenOptions = { lockRefreshMs: 100, lockStaleMs: 5000 };
/** Prune compares storage times, less the backend's time resolution (1 s on S3, whose LastModified has whole seconds). */
const PAST_RESOLUTION = 2100;

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

for (const target of TARGETS) {
  describe(`recovery points, holds, interruptions and prune on ${target.name}`, () => {
    const repos: Repository[] = [];
    after(async () => Promise.all(repos.map((r) => r.close())));
    const fresh = async (label: string) => {
      const loc = target.location(label);
      const repo = await initRepository(loc, 'pw', {
        ...FAST,
        ...QUICK,
        chunker: { minSize: 64 * 1024, normalSize: 256 * 1024, maxSize: 1024 * 1024 },
      });
      repos.push(repo);
      const second = async () => {
        const r = await openRepository(loc, 'pw', QUICK);
        repos.push(r);
        return r;
      };
      return { loc, repo, raw: target.raw(loc), second };
    };
    const bytes = (size: number, seed: string) => collectBytes(randomStream(size, `${target.name}-${seed}`));

    test('unknown, ambiguous and malformed ids give typed errors naming the id', async () => {
      const { repo } = await fresh('ids');
      const ref = await repo.writeArtifact(fromBuffer(Buffer.from('x')), { source: 's', kind: 'k', name: 'n' });
      const a = await repo.commitRecoveryPoint({ artifacts: [ref], time: new Date('2026-05-01T10:00:00Z') });
      await repo.commitRecoveryPoint({ artifacts: [ref], time: new Date('2026-05-02T10:00:00Z') });
      const unknown = '20990101T000000Z-deadbeef';
      for (const op of [
        () => repo.getRecoveryPoint(unknown),
        () => repo.forget(unknown),
        () => repo.hold(unknown, 'x'),
        () => repo.verify({ recoveryPointId: unknown }),
      ]) {
        const e = await rejection(op());
        assert.ok(e instanceof RecoveryPointNotFoundError, e.message);
        assert.equal((e as RecoveryPointNotFoundError).id, unknown);
        assert.equal((e as RecoveryPointNotFoundError).code, 'RECOVERY_POINT_NOT_FOUND');
      }
      const amb = await rejection(repo.getRecoveryPoint('202605'));
      assert.ok(amb instanceof AmbiguousRecoveryPointIdError);
      assert.equal((amb as AmbiguousRecoveryPointIdError).matches.length, 2);
      assert.equal((await repo.getRecoveryPoint('20260501')).id, a.id);
      assert.ok((await rejection(repo.getRecoveryPoint('../etc/passwd'))) instanceof InvalidArgumentError);
    });

    test('a legal hold blocks forget until released', async () => {
      const { repo } = await fresh('hold');
      const ref = await repo.writeArtifact(fromBuffer(await bytes(MiB, 'hold')), { source: 's', kind: 'k', name: 'n' });
      const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
      await repo.hold(rp.id, 'litigation 2026-17');
      const held = await repo.getRecoveryPoint(rp.id);
      assert.equal(held.hold?.reason, 'litigation 2026-17');
      assert.equal((await repo.listRecoveryPoints())[0].hold?.reason, 'litigation 2026-17');
      const e = await rejection(repo.forget(rp.id));
      assert.ok(e instanceof LegalHoldError, e.message);
      assert.equal((e as LegalHoldError).code, 'LEGAL_HOLD');
      assert.match(e.message, /litigation 2026-17/);
      assert.equal((await repo.listRecoveryPoints()).length, 1);
      // Held data survives prune.
      await sleep(PAST_RESOLUTION);
      await repo.prune({ graceMs: 0 });
      assert.equal((await repo.verify({ readData: true })).ok, true);
      await repo.unhold(rp.id);
      assert.equal((await repo.getRecoveryPoint(rp.id)).hold, undefined);
      await repo.forget(rp.id);
      assert.ok((await rejection(repo.getRecoveryPoint(rp.id))) instanceof RecoveryPointNotFoundError);
      assert.ok((await rejection(repo.hold(rp.id, ''))) instanceof InvalidArgumentError);
    });

    test('an interrupted write leaves no recovery point and no lock; prune removes its chunks', async () => {
      const { repo, raw } = await fresh('interrupted');
      const baseline = await repo.stats();
      const ac = new AbortController();
      let seen = 0;
      const e = await rejection(
        repo.writeArtifact(
          randomStream(64 * MiB, 'interrupted'),
          { source: 's', kind: 'k', name: 'n' },
          {
            signal: ac.signal,
            onProgress: (p) => {
              seen = p.bytes;
              if (p.bytes >= 10 * MiB) ac.abort();
            },
          },
        ),
      );
      assert.ok(e instanceof OperationAbortedError, e.message);
      assert.ok(seen < 20 * MiB);
      // A source that fails mid-stream: its error comes through unchanged.
      const broken = async function* () {
        yield* randomStream(4 * MiB, 'broken');
        throw new Error('source connection reset');
      };
      assert.equal(
        (await rejection(repo.writeArtifact(broken(), { source: 's', kind: 'k', name: 'n' }))).message,
        'source connection reset',
      );

      assert.deepEqual(await repo.listRecoveryPoints(), []);
      assert.deepEqual(await raw.list('locks/'), []);
      const leftovers = await repo.stats();
      assert.ok(leftovers.chunks > 0, 'chunks written before the interruption stay until prune');
      await sleep(PAST_RESOLUTION);
      const report = await repo.prune({ graceMs: 0 });
      assert.equal(report.deletedChunks, leftovers.chunks);
      const after = await repo.stats();
      assert.equal(after.chunks, 0);
      assert.equal(after.objects, baseline.objects);
    });

    test('two concurrent writers (separate instances) sharing data both commit and restore', async () => {
      const { repo, second } = await fresh('concurrent');
      const other = await second();
      const shared = await bytes(6 * MiB, 'shared');
      const onlyA = await bytes(5 * MiB, 'only-a');
      const onlyB = await bytes(5 * MiB, 'only-b');
      const dataA = Buffer.concat([shared, onlyA]);
      const dataB = Buffer.concat([shared, onlyB]);
      const [ra, rb] = await Promise.all([
        repo.writeArtifact(fromBuffer(dataA, 256 * 1024), { source: 'a', kind: 'k', name: 'n' }),
        other.writeArtifact(fromBuffer(dataB, 300 * 1024), { source: 'b', kind: 'k', name: 'n' }),
      ]);
      const [pa, pb] = await Promise.all([
        repo.commitRecoveryPoint({ artifacts: [ra] }),
        other.commitRecoveryPoint({ artifacts: [rb] }),
      ]);
      assert.deepEqual(new Set((await repo.listRecoveryPoints()).map((p) => p.id)), new Set([pa.id, pb.id]));
      assert.deepEqual(await collectBytes(other.readArtifact(ra)), dataA);
      assert.deepEqual(await collectBytes(repo.readArtifact(rb)), dataB);
      const v = await repo.verify({ readData: true });
      assert.equal(v.ok, true, JSON.stringify(v.problems));
      // The shared part is stored about once, not twice.
      assert.ok((await repo.stats()).chunkBytes < 18 * MiB);
    });

    test('forget + prune frees data only the forgotten point used; the other point restores and verifies', async () => {
      const { repo } = await fresh('forget');
      const common = await bytes(4 * MiB, 'common');
      const d1 = Buffer.concat([await bytes(4 * MiB, 'p1'), common]);
      const d2 = Buffer.concat([common, await bytes(4 * MiB, 'p2')]);
      const r1 = await repo.writeArtifact(fromBuffer(d1), { source: 's', kind: 'k', name: '1' });
      const p1 = await repo.commitRecoveryPoint({ artifacts: [r1] });
      const r2 = await repo.writeArtifact(fromBuffer(d2), { source: 's', kind: 'k', name: '2' });
      await repo.commitRecoveryPoint({ artifacts: [r2], parent: p1.id });
      const before = await repo.stats();
      await repo.forget(p1.id);
      await sleep(PAST_RESOLUTION);
      const dry = await repo.prune({ graceMs: 0, dryRun: true });
      assert.equal((await repo.stats()).chunks, before.chunks, 'dry run deletes nothing');
      const report = await repo.prune({ graceMs: 0 });
      assert.equal(report.deletedChunks, dry.deletedChunks);
      assert.equal(report.deletedIndexes, 1);
      assert.ok(
        report.deletedBytes >= 3.5 * MiB && report.deletedBytes < 6 * MiB,
        `${report.deletedBytes} bytes freed`,
      );
      assert.deepEqual(await collectBytes(repo.readArtifact(r2)), d2);
      const v = await repo.verify({ readData: true });
      assert.equal(v.ok, true, JSON.stringify(v.problems));
      // The forgotten point's artifact is gone for good.
      assert.equal((await rejection(collectBytes(repo.readArtifact(r1)))).name, 'ArtifactNotFoundError');
    });

    test('verify --read-data with a subset reads part of the chunks', async () => {
      const { repo } = await fresh('subset');
      const ref = await repo.writeArtifact(randomStream(24 * MiB, 'subset'), { source: 's', kind: 'k', name: 'n' });
      await repo.commitRecoveryPoint({ artifacts: [ref] });
      const all = await repo.verify({ readData: true });
      const some = await repo.verify({ subsetPercent: 30 });
      assert.equal(some.readData, true);
      assert.ok(some.chunksRead > 0 && some.chunksRead < all.chunksRead, `${some.chunksRead} of ${all.chunksRead}`);
      assert.ok((await rejection(repo.verify({ subsetPercent: 0 }))) instanceof InvalidArgumentError);
    });

    test('prune during a write: the writer acknowledges the prune, then re-stores condemned chunks it needs', async () => {
      const { repo, second } = await fresh('prune-adopt');
      const pruner = await second();
      const garbage = await bytes(4 * MiB, 'garbage');
      // Written, never committed: garbage for a prune with no grace.
      const g = await repo.writeArtifact(fromBuffer(garbage), { source: 'g', kind: 'k', name: 'n' });
      await sleep(PAST_RESOLUTION);
      const head = await bytes(3 * MiB, 'head');
      const tail = await bytes(2 * MiB, 'tail');
      const expected = Buffer.concat([head, garbage, tail]);
      const hold = gate();
      const slow = async function* () {
        yield* fromBuffer(head, 256 * 1024);
        await hold.wait;
        // Now the bytes whose chunks the prune condemned.
        yield* fromBuffer(Buffer.concat([garbage, tail]), 256 * 1024);
      };
      const writing = repo.writeArtifact(slow(), { source: 'w', kind: 'k', name: 'n' });
      await sleep(300);
      const pruning = pruner.prune({ graceMs: 0, waitMs: 20_000 });
      // Let the writer continue while the prune may still be deleting: it must wait for the prune, then store them again.
      setTimeout(hold.open, 400);
      const [report, ref] = await Promise.all([pruning, writing]);
      assert.equal(report.deferred, undefined);
      assert.ok(report.deletedIndexes >= 1, 'the uncommitted artifact index was pruned');
      assert.ok(report.deletedChunks > 0);
      assert.equal((await rejection(collectBytes(repo.readArtifact(g)))).name, 'ArtifactNotFoundError');
      const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
      assert.deepEqual(
        await collectBytes(pruner.readArtifact((await pruner.getRecoveryPoint(rp.id)).artifacts[0])),
        expected,
      );
      const v = await pruner.verify({ readData: true });
      assert.equal(v.ok, true, JSON.stringify(v.problems));
    });

    test('prune during a write: chunks the writer already reused are kept (the prune waits for it)', async () => {
      const { repo, second } = await fresh('prune-wait');
      const pruner = await second();
      const reused = await bytes(4 * MiB, 'reused');
      await repo.writeArtifact(fromBuffer(reused), { source: 'g', kind: 'k', name: 'n' });
      await sleep(PAST_RESOLUTION);
      const rest = await bytes(2 * MiB, 'rest');
      const hold = gate();
      const slow = async function* () {
        yield* fromBuffer(reused, 256 * 1024); // deduplicated against the uncommitted garbage
        await hold.wait;
        yield* fromBuffer(rest, 256 * 1024);
      };
      const writing = repo.writeArtifact(slow(), { source: 'w', kind: 'k', name: 'n' });
      await sleep(500);
      const started = Date.now();
      const pruning = pruner.prune({ graceMs: 0, waitMs: 20_000 });
      // A second prune meanwhile is refused: one at a time.
      await sleep(300);
      assert.ok((await rejection(pruner.prune({ graceMs: 0 }))) instanceof RepositoryLockedError);
      setTimeout(hold.open, 1000);
      const [report, ref] = await Promise.all([pruning, writing]);
      assert.ok(Date.now() - started >= 1000, 'the prune waited for the writer');
      assert.equal(report.deferred, undefined);
      assert.equal(report.deletedIndexes, 1);
      const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
      assert.deepEqual(
        await collectBytes(pruner.readArtifact((await pruner.getRecoveryPoint(rp.id)).artifacts[0])),
        Buffer.concat([reused, rest]),
      );
      const v = await pruner.verify({ readData: true });
      assert.equal(v.ok, true, JSON.stringify(v.problems));
    });

    test('a prune that cannot get every writer to acknowledge it in time deletes nothing and says why', async () => {
      const { repo, second } = await fresh('prune-defer');
      const pruner = await second();
      const reused = await bytes(2 * MiB, 'defer');
      await repo.writeArtifact(fromBuffer(reused), { source: 'g', kind: 'k', name: 'n' });
      await sleep(PAST_RESOLUTION);
      const hold = gate();
      const slow = async function* () {
        yield* fromBuffer(reused, 256 * 1024);
        await hold.wait;
      };
      const writing = repo.writeArtifact(slow(), { source: 'w', kind: 'k', name: 'n' });
      await sleep(500);
      const before = await pruner.stats();
      const report = await pruner.prune({ graceMs: 0, waitMs: 500 });
      hold.open();
      await writing;
      assert.ok(report.deferred, 'deferred');
      assert.match(report.deferred!.reason, /did not acknowledge/);
      assert.equal(report.deferred!.locks.length, 1);
      assert.equal(report.deletedChunks, 0);
      assert.equal((await pruner.stats()).chunks, before.chunks);
    });
  });
}
