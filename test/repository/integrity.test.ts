import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import {
  ArtifactNotFoundError,
  ArtifactRefMismatchError,
  CorruptObjectError,
  InvalidArgumentError,
  MissingObjectError,
  RepositoryExistsError,
  RepositoryNotFoundError,
  WrongPasswordError,
  initRepository,
  openRepository,
  type ArtifactRef,
  type Repository,
  type RepositoryLocation,
} from '../../repository';
import { FAST, MiB, TARGETS, collectBytes, fromBuffer, randomStream, rejection, type RawStore } from './helpers';

const chunkKey = (id: string) => `data/${id.slice(0, 2)}/${id}`;

for (const target of TARGETS) {
  describe(`integrity and keys on ${target.name}`, () => {
    const repos: Repository[] = [];
    after(async () => Promise.all(repos.map((r) => r.close())));

    /** A repository with one committed point of 3 MiB (several chunks), plus raw access to its objects. */
    async function setup(label: string): Promise<{
      loc: RepositoryLocation;
      repo: Repository;
      raw: RawStore;
      ref: ArtifactRef;
      data: Buffer;
      pointId: string;
      chunkIds: string[];
    }> {
      const loc = target.location(label);
      const repo = await initRepository(loc, 'pw-1', {
        ...FAST,
        chunker: { minSize: 64 * 1024, normalSize: 256 * 1024, maxSize: 1024 * 1024 },
      });
      repos.push(repo);
      const data = await collectBytes(randomStream(3 * MiB, `integrity-${label}`));
      const ref = await repo.writeArtifact(fromBuffer(data), { source: 'src', kind: 'kind', name: 'name' });
      const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
      const raw = target.raw(loc);
      const chunkIds = (await raw.list('data/')).map((k) => k.split('/').pop()!);
      assert.ok(chunkIds.length >= 3, `${chunkIds.length} chunks`);
      return { loc, repo, raw, ref, data, pointId: rp.id, chunkIds };
    }

    test('wrong password is refused with WrongPasswordError; the right one opens', async () => {
      const { loc, repo } = await setup('password');
      const e = await rejection(openRepository(loc, 'pw-2'));
      assert.ok(e instanceof WrongPasswordError, e.message);
      assert.match(e.message, /wrong password/);
      assert.equal((e as WrongPasswordError).code, 'WRONG_PASSWORD');
      const again = await openRepository(loc, 'pw-1');
      repos.push(again);
      assert.equal(again.id, repo.id);
      assert.ok((await rejection(openRepository(loc, ''))) instanceof InvalidArgumentError);
    });

    test('missing repository, double init and bad locations give clear errors', async () => {
      const loc = target.location('absent');
      const e = await rejection(openRepository(loc, 'pw'));
      assert.ok(e instanceof RepositoryNotFoundError, e.message);
      const repo = await initRepository(loc, 'pw', FAST);
      repos.push(repo);
      assert.ok((await rejection(initRepository(loc, 'other', FAST))) instanceof RepositoryExistsError);
      assert.equal((await rejection(openRepository({ url: 'relative/path' }, 'pw'))).name, 'InvalidLocationError');
      assert.equal((await rejection(openRepository({ url: 'ftp://x/y' }, 'pw'))).name, 'InvalidLocationError');
      assert.equal((await rejection(openRepository({ url: 's3://Bad_Bucket/x' }, 'pw'))).name, 'InvalidLocationError');
    });

    test('changing the password rewraps the key: old password fails, new opens, data unchanged', async () => {
      const { loc, repo, raw, ref, data } = await setup('chpw');
      const dataBefore = await raw.list('data/');
      const keysBefore = await raw.list('keys/');
      const chunkBytes = await raw.get(dataBefore[0]);
      await repo.changePassword('pw-new');
      const keysAfter = await raw.list('keys/');
      assert.equal(keysAfter.length, 1);
      assert.notDeepEqual(keysAfter, keysBefore);
      // Data objects were not touched (no re-encryption).
      assert.deepEqual(await raw.list('data/'), dataBefore);
      assert.deepEqual(await raw.get(dataBefore[0]), chunkBytes);
      assert.ok((await rejection(openRepository(loc, 'pw-1'))) instanceof WrongPasswordError);
      const again = await openRepository(loc, 'pw-new');
      repos.push(again);
      assert.deepEqual(await collectBytes(again.readArtifact(ref)), data);
    });

    test('nothing is stored in the clear: key file holds no key material, objects hold no plaintext', async () => {
      const loc = target.location('clear');
      const repo = await initRepository(loc, 'pw', FAST);
      repos.push(repo);
      const marker = 'TOP-SECRET-CUSTOMER-RECORD-4711 '.repeat(4096);
      const ref = await repo.writeArtifact(fromBuffer(Buffer.from(marker)), {
        source: 'customers-source',
        kind: 'k',
        name: 'n',
      });
      await repo.commitRecoveryPoint({ artifacts: [ref], tags: ['tag-visible-only-inside'] });
      const raw = target.raw(loc);
      for (const k of await raw.list('')) {
        const text = (await raw.get(k)).toString('latin1');
        for (const needle of ['TOP-SECRET', 'customers-source', 'tag-visible-only-inside'])
          assert.ok(!text.includes(needle), `${k} contains "${needle}" in the clear`);
      }
      const keyFile = JSON.parse((await raw.get((await raw.list('keys/'))[0])).toString());
      assert.equal(keyFile.kdf.algorithm, 'scrypt');
      assert.equal(keyFile.wrapped.algorithm, 'aes-256-gcm');
    });

    test('a flipped bit in a chunk is detected and the chunk named, by read and by verify --read-data', async () => {
      const { repo, raw, ref, chunkIds, pointId } = await setup('flip-chunk');
      const victim = chunkKey(chunkIds[1]);
      const blob = await raw.get(victim);
      blob[blob.length >> 1] ^= 0x10;
      await raw.put(victim, blob);

      const e = await rejection(collectBytes(repo.readArtifact(ref)));
      assert.ok(e instanceof CorruptObjectError, `${e.name}: ${e.message}`);
      assert.equal((e as CorruptObjectError).object, victim);
      assert.ok(e.message.includes(victim));

      const structure = await repo.verify();
      assert.equal(structure.ok, true, 'a flipped bit keeps the object in place: structure alone cannot see it');
      const report = await repo.verify({ readData: true });
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.problems.map((p) => [p.object, p.kind]),
        [[victim, 'corrupt']],
      );
      assert.deepEqual(report.problems[0].recoveryPoints, [pointId]);
      assert.equal(report.chunksRead, chunkIds.length);
    });

    test('a flipped bit in a manifest is detected and named; only its own point is affected', async () => {
      const { loc, repo, raw, pointId, ref, data } = await setup('flip-manifest');
      // An older and a newer intact point beside the damaged one.
      const other = await repo.commitRecoveryPoint({ artifacts: [ref], tags: ['other'] });
      const name = `points/${pointId}`;
      const blob = await raw.get(name);
      blob[30] ^= 0x01;
      await raw.put(name, blob);
      // A fresh instance: the first one caches the manifest it wrote.
      const fresh = await openRepository(loc, 'pw-1');
      repos.push(fresh);
      const e = await rejection(fresh.getRecoveryPoint(pointId));
      assert.ok(e instanceof CorruptObjectError, `${e.name}: ${e.message}`);
      assert.equal((e as CorruptObjectError).object, name);
      // list() shows every point; the damaged one is marked, by name, with nothing to restore.
      const listed = await fresh.listRecoveryPoints();
      assert.deepEqual(listed.map((p) => p.id).sort(), [pointId, other.id].sort());
      const bad = listed.find((p) => p.id === pointId)!;
      assert.ok(bad.damaged?.includes(name), bad.damaged);
      assert.deepEqual(bad.artifacts, []);
      const good = listed.find((p) => p.id === other.id)!;
      assert.equal(good.damaged, undefined);
      assert.deepEqual(good.tags, ['other']);
      // The intact point still reads back exactly, and the damaged one can be forgotten.
      assert.ok(
        (await collectBytes(fresh.readArtifact((await fresh.getRecoveryPoint(other.id)).artifacts[0]))).equals(data),
      );
      const report = await fresh.verify();
      assert.deepEqual(
        report.problems.map((p) => [p.object, p.kind]),
        [[name, 'corrupt']],
      );
      await fresh.forget(pointId);
      assert.deepEqual(
        (await fresh.listRecoveryPoints()).map((p) => p.id),
        [other.id],
      );
    });

    test('a truncated chunk is detected and named', async () => {
      const { repo, raw, ref, chunkIds } = await setup('truncated');
      const victim = chunkKey(chunkIds[0]);
      const blob = await raw.get(victim);
      await raw.put(victim, blob.subarray(0, blob.length - 100));
      const e = await rejection(collectBytes(repo.readArtifact(ref)));
      assert.ok(e instanceof CorruptObjectError);
      assert.equal((e as CorruptObjectError).object, victim);
      const report = await repo.verify({ readData: true });
      assert.deepEqual(
        report.problems.map((p) => [p.object, p.kind]),
        [[victim, 'corrupt']],
      );
      // Truncated below the envelope size: structure alone already sees it.
      await raw.put(victim, blob.subarray(0, 10));
      assert.deepEqual(
        (await repo.verify()).problems.map((p) => [p.object, p.kind]),
        [[victim, 'corrupt']],
      );
    });

    test('a missing chunk is detected and named, by read and by structure verify', async () => {
      const { repo, raw, ref, chunkIds, pointId } = await setup('missing');
      const victim = chunkKey(chunkIds[2]);
      await raw.delete(victim);
      const e = await rejection(collectBytes(repo.readArtifact(ref)));
      assert.ok(e instanceof MissingObjectError, `${e.name}: ${e.message}`);
      assert.equal((e as MissingObjectError).object, victim);
      const report = await repo.verify();
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.problems.map((p) => [p.object, p.kind, p.recoveryPoints]),
        [[victim, 'missing', [pointId]]],
      );
      assert.equal((await repo.verify({ recoveryPointId: pointId.slice(0, 12) })).ok, false);
    });

    test('chunks swapped between names are detected (the name is authenticated)', async () => {
      const { repo, raw, ref, chunkIds } = await setup('swap');
      const [a, b] = [chunkKey(chunkIds[0]), chunkKey(chunkIds[1])];
      const [ba, bb] = [await raw.get(a), await raw.get(b)];
      await raw.put(a, bb);
      await raw.put(b, ba);
      const report = await repo.verify({ readData: true });
      assert.deepEqual(report.problems.map((p) => p.object).sort(), [a, b].sort());
      assert.ok((await rejection(collectBytes(repo.readArtifact(ref)))) instanceof CorruptObjectError);
    });

    test('a tampered or unknown artifact reference is refused at commit, and nothing is committed', async () => {
      const { repo, ref } = await setup('badref');
      const before = (await repo.listRecoveryPoints()).length;
      const e1 = await rejection(repo.commitRecoveryPoint({ artifacts: [{ ...ref, sha256: 'f'.repeat(64) }] }));
      assert.ok(e1 instanceof ArtifactRefMismatchError, e1.message);
      assert.equal((e1 as ArtifactRefMismatchError).field, 'sha256');
      const e2 = await rejection(repo.commitRecoveryPoint({ artifacts: [{ ...ref, indexId: '0'.repeat(32) }] }));
      assert.ok(e2 instanceof ArtifactNotFoundError, e2.message);
      const e3 = await rejection(repo.commitRecoveryPoint({ artifacts: [{ ...ref, size: -1 }] }));
      assert.ok(e3 instanceof InvalidArgumentError, e3.message);
      const e4 = await rejection(repo.commitRecoveryPoint({ artifacts: [ref], labels: { a: 5 as unknown as string } }));
      assert.ok(e4 instanceof InvalidArgumentError, e4.message);
      assert.equal((await repo.listRecoveryPoints()).length, before);
      // Reading with a tampered reference fails too, before any byte is returned.
      assert.ok(
        (await rejection(collectBytes(repo.readArtifact({ ...ref, size: ref.size + 1 })))) instanceof
          ArtifactRefMismatchError,
      );
    });

    if (target.name === 'local') {
      test('local files are 0600 and folders 0700', async () => {
        const { loc, raw } = await setup('perms');
        const root = loc.url;
        assert.equal(statSync(root).mode & 0o777, 0o700);
        for (const k of await raw.list('')) {
          assert.equal(statSync(path.join(root, k)).mode & 0o777, 0o600, k);
          assert.equal(statSync(path.dirname(path.join(root, k))).mode & 0o777, 0o700, path.dirname(k));
        }
      });
    }
  });
}
