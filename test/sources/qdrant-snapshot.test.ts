import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  backupQdrantSnapshot,
  fingerprintQdrant,
  QdrantChecksumMismatchError,
  restoreQdrantSnapshot,
  verifyQdrantRestore,
  type QdrantBackupInfo,
} from '../../sources/qdrant';
import {
  allPoints,
  openBackup,
  saveBackup,
  seedNamed,
  seedPlain,
  startFixture,
  uniq,
  type QdrantFixture,
} from './qdrant-fixtures';
import { forEachQdrantServer } from '../harness/matrix';

forEachQdrantServer((Q) => {
  let fx: QdrantFixture;
  before(async () => {
    fx = await startFixture('qdrant-snapshot', Q.url);
  });
  after(async () => {
    await fx?.stop();
  });

  const conn = () => ({ url: fx.url });

  describe('Qdrant snapshot mode', () => {
    test('named vectors and nested payloads round-trip into another collection; the original is untouched', async () => {
      const src = uniq('snap-named');
      const dst = uniq('snap-named-copy');
      await seedNamed(fx.client, src, 700);
      await fx.client.updateCollectionAliases({
        actions: [{ create_alias: { collection_name: src, alias_name: `${src}-live` } }],
      });
      const before = await fingerprintQdrant(conn(), src);
      const pointsBefore = await allPoints(fx.client, src);

      const file = path.join(fx.dir, `${src}.snapshot`);
      const info = await saveBackup(await backupQdrantSnapshot(conn(), src), file);

      const bytes = readFileSync(file);
      assert.equal(info.mode, 'snapshot');
      assert.equal(info.bytes, bytes.length);
      assert.equal(info.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(info.snapshot!.checksum, info.sha256);
      assert.deepEqual(info.fingerprint, before);
      assert.equal(info.fingerprint.counts[src], 700);
      assert.equal(info.quiescent, true);
      assert.deepEqual(info.meta.aliases, [`${src}-live`]);
      assert.deepEqual(info.meta.vectors, {
        text: { size: 16, distance: 'Cosine' },
        image: { size: 8, distance: 'Dot' },
      });
      assert.equal(info.probes.length, 6);
      assert.ok(info.probes.every((p) => p.ids.length === 10));
      assert.deepEqual(info.warnings, []);
      // The server-side snapshot is gone once streamed.
      assert.deepEqual(await fx.client.listSnapshots(src), []);

      const res = await restoreQdrantSnapshot(conn(), openBackup(file), { info, collection: dst });
      assert.deepEqual(res, {
        collection: dst,
        points: 700,
        bytes: bytes.length,
        createdCollection: true,
        aliasesRestored: [],
      });
      const report = await verifyQdrantRestore(conn(), dst, info);
      assert.equal(report.ok, true, report.problems.join('; '));
      assert.equal(report.probes.checked, 6);
      assert.deepEqual(await fingerprintQdrant(conn(), dst, { key: src }), before);
      assert.deepEqual(await allPoints(fx.client, dst), pointsBefore);
      // Our uploaded file is not left in the target's snapshot list.
      assert.deepEqual(await fx.client.listSnapshots(dst), []);

      assert.deepEqual(await fingerprintQdrant(conn(), src), before);
      assert.deepEqual(await allPoints(fx.client, src), pointsBefore);
    });

    test('10k points round-trip, proved by fingerprint and probes', async () => {
      const src = uniq('snap-10k');
      await seedPlain(fx.client, src, 10_000, { dim: 32, distance: 'Cosine' });
      const file = path.join(fx.dir, `${src}.snapshot`);
      let progressed = 0;
      const info = await saveBackup(
        await backupQdrantSnapshot(conn(), src, { onProgress: (p) => (progressed = p.bytes) }),
        file,
      );
      assert.equal(info.fingerprint.counts[src], 10_000);
      assert.equal(progressed, info.bytes);
      const dst = uniq('snap-10k-copy');
      await restoreQdrantSnapshot(conn(), openBackup(file), { info, collection: dst });
      const report = await verifyQdrantRestore(conn(), dst, info);
      assert.equal(report.ok, true, report.problems.join('; '));
      assert.equal(report.digest.actual, info.fingerprint.digests[src]);
    });

    test('restoring in place puts back the backed-up points over later changes', async () => {
      const name = uniq('snap-inplace');
      await seedNamed(fx.client, name, 120);
      const file = path.join(fx.dir, `${name}.snapshot`);
      const info = await saveBackup(await backupQdrantSnapshot(conn(), name), file);
      await fx.client.upsert(name, {
        wait: true,
        points: [
          { id: 1, vector: { text: Array(16).fill(1) }, payload: { changed: true } },
          { id: 100_001, vector: { text: Array(16).fill(2) } },
        ],
      });
      assert.notDeepEqual(await fingerprintQdrant(conn(), name), info.fingerprint);

      const res = await restoreQdrantSnapshot(conn(), openBackup(file), { info });
      assert.equal(res.createdCollection, false);
      assert.equal(res.points, 120);
      assert.equal((await verifyQdrantRestore(conn(), name, info)).ok, true);
    });

    test('a lost collection comes back under its name with its aliases', async () => {
      const name = uniq('snap-lost');
      const alias = `${name}-live`;
      await seedNamed(fx.client, name, 150, 9);
      await fx.client.updateCollectionAliases({
        actions: [{ create_alias: { collection_name: name, alias_name: alias } }],
      });
      const file = path.join(fx.dir, `${name}.snapshot`);
      const info = await saveBackup(await backupQdrantSnapshot(conn(), name), file);
      await fx.client.deleteCollection(name);
      assert.deepEqual(await fx.client.collectionExists(alias), { exists: false });

      const res = await restoreQdrantSnapshot(conn(), openBackup(file), { info });
      assert.equal(res.createdCollection, true);
      assert.deepEqual(res.aliasesRestored, [alias]);
      assert.deepEqual(await fx.client.getCollectionAliases(name), {
        aliases: [{ alias_name: alias, collection_name: name }],
      });
      assert.equal((await verifyQdrantRestore(conn(), alias, info)).ok, true);
    });

    test('alias switch: restore into a new collection, then move the alias the app reads through', async () => {
      const v1 = uniq('snap-docs-v1');
      const v2 = uniq('snap-docs-v2');
      const alias = uniq('snap-docs-live');
      await seedPlain(fx.client, v1, 300, { dim: 8, distance: 'Dot' });
      await fx.client.updateCollectionAliases({
        actions: [{ create_alias: { collection_name: v1, alias_name: alias } }],
      });

      const file = path.join(fx.dir, `${alias}.snapshot`);
      const info = await saveBackup(await backupQdrantSnapshot(conn(), alias), file);
      assert.equal(info.meta.collection, v1);
      assert.equal(info.meta.resolvedFromAlias, alias);
      const v1Before = await fingerprintQdrant(conn(), v1);

      const res = await restoreQdrantSnapshot(conn(), openBackup(file), { info, collection: v2, alias });
      assert.deepEqual(res.alias, { name: alias, previousCollection: v1 });
      assert.deepEqual(await fx.client.getCollectionAliases(v2), {
        aliases: [{ alias_name: alias, collection_name: v2 }],
      });
      assert.deepEqual(await fx.client.getCollectionAliases(v1), { aliases: [] });
      assert.equal((await verifyQdrantRestore(conn(), alias, info)).ok, true);
      assert.deepEqual(await fingerprintQdrant(conn(), v1), v1Before);
      // Restoring "into the alias" restores into the collection it points at.
      await fx.client.upsert(v2, { wait: true, points: [{ id: 424242, vector: [1, 1, 1, 1, 1, 1, 1, 1] }] });
      const again = await restoreQdrantSnapshot(conn(), openBackup(file), { info, collection: alias });
      assert.equal(again.collection, v2);
      assert.equal((await verifyQdrantRestore(conn(), v2, info)).ok, true);
    });

    test('a damaged snapshot is refused by its checksum and changes nothing', async () => {
      const src = uniq('snap-bad');
      await seedPlain(fx.client, src, 200, { dim: 4, distance: 'Euclid' });
      const file = path.join(fx.dir, `${src}.snapshot`);
      const info: QdrantBackupInfo = await saveBackup(await backupQdrantSnapshot(conn(), src), file);
      const damaged = readFileSync(file);
      damaged[Math.floor(damaged.length / 2)] ^= 0xff;
      const badFile = path.join(fx.dir, `${src}.damaged`);
      writeFileSync(badFile, damaged);

      // Into a new collection: it is not created.
      const fresh = uniq('snap-bad-new');
      const err = await restoreQdrantSnapshot(conn(), openBackup(badFile), { info, collection: fresh }).catch((e) => e);
      assert.ok(err instanceof QdrantChecksumMismatchError, String(err));
      assert.equal(err.code, 'QDRANT_CHECKSUM_MISMATCH');
      assert.equal(err.retryable, false);
      assert.match(err.message, new RegExp(info.snapshot!.checksum));
      assert.deepEqual(await fx.client.collectionExists(fresh), { exists: false });

      // Over an existing collection: its points stay as they were.
      const before = await fingerprintQdrant(conn(), src);
      await fx.client.upsert(src, { wait: true, points: [{ id: 5, vector: [9, 9, 9, 9] }] });
      const changed = await fingerprintQdrant(conn(), src);
      assert.notDeepEqual(changed, before);
      await assert.rejects(restoreQdrantSnapshot(conn(), openBackup(badFile), { info }), QdrantChecksumMismatchError);
      assert.deepEqual(await fingerprintQdrant(conn(), src), changed);
    });
  });
});
