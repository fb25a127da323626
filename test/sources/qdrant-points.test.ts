import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  backupQdrantPoints,
  fingerprintQdrant,
  POINTS_FORMAT,
  QdrantBackupFormatError,
  QdrantTargetExistsError,
  restoreQdrantPoints,
  verifyQdrantRestore,
} from '../../sources/qdrant';
import {
  allPoints,
  openBackup,
  payloadFor,
  saveBackup,
  seedNamed,
  seedPlain,
  startFixture,
  uniq,
  type QdrantFixture,
} from './qdrant-fixtures';
import { forEachQdrantServer } from '../harness/matrix';
import { initRepository } from '../../repository';

forEachQdrantServer((Q) => {
  let fx: QdrantFixture;
  before(async () => {
    fx = await startFixture('qdrant-points', Q.url);
  });
  after(async () => {
    await fx?.stop();
  });

  const conn = () => ({ url: fx.url });

  describe('Qdrant points mode', () => {
    test('named vectors and nested payloads round-trip exactly into another collection; the original is untouched', async () => {
      const src = uniq('pts-named');
      const dst = uniq('pts-named-copy');
      await seedNamed(fx.client, src, 900, 3);
      await fx.client.updateCollectionAliases({
        actions: [{ create_alias: { collection_name: src, alias_name: `${src}-live` } }],
      });
      const before = await fingerprintQdrant(conn(), src);
      const pointsBefore = await allPoints(fx.client, src);

      const file = path.join(fx.dir, `${src}.ndjson`);
      const info = await saveBackup(await backupQdrantPoints(conn(), src, { pageSize: 128 }), file);
      assert.equal(info.mode, 'points');
      assert.deepEqual(info.fingerprint, before);
      assert.deepEqual(info.meta.aliases, [`${src}-live`]);

      // The stream: header with config and aliases, one line per point in id order, trailer.
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      const header = JSON.parse(lines[0]);
      assert.equal(header.format, POINTS_FORMAT);
      assert.deepEqual(header.meta.createBody.vectors, {
        text: { size: 16, distance: 'Cosine' },
        image: { size: 8, distance: 'Dot' },
      });
      assert.deepEqual(header.meta.aliases, [`${src}-live`]);
      assert.equal(lines.length, 900 + 2);
      assert.deepEqual(JSON.parse(lines.at(-1)!), { count: 900, digest: info.fingerprint.digests[src], end: true });
      assert.deepEqual(JSON.parse(lines[1]).payload, JSON.parse(JSON.stringify(payloadFor(0))));

      const res = await restoreQdrantPoints(conn(), openBackup(file), { info, collection: dst, batchSize: 100 });
      assert.deepEqual(res, {
        collection: dst,
        points: 900,
        bytes: info.bytes,
        createdCollection: true,
        aliasesRestored: [],
      });
      const report = await verifyQdrantRestore(conn(), dst, info);
      assert.equal(report.ok, true, report.problems.join('; '));
      assert.equal(report.probes.checked, 6);
      assert.deepEqual(await allPoints(fx.client, dst), pointsBefore);
      assert.deepEqual(
        (await fx.client.getCollection(dst)).config.params.vectors,
        (await fx.client.getCollection(src)).config.params.vectors,
      );

      assert.deepEqual(await fingerprintQdrant(conn(), src), before);
      assert.deepEqual(await allPoints(fx.client, src), pointsBefore);
    });

    test('unchanged data gives byte-identical backups (so the repository deduplicates them)', async () => {
      const src = uniq('pts-stable');
      await seedPlain(fx.client, src, 500, { dim: 8, distance: 'Euclid' });
      const a = await saveBackup(await backupQdrantPoints(conn(), src), path.join(fx.dir, `${src}-a`));
      const b = await saveBackup(
        await backupQdrantPoints(conn(), src, { pageSize: 77 }),
        path.join(fx.dir, `${src}-b`),
      );
      assert.equal(a.sha256, b.sha256);
      await fx.client.upsert(src, {
        wait: true,
        points: [{ id: 1, vector: Array(8).fill(0.5), payload: { changed: 1 } }],
      });
      const c = await saveBackup(await backupQdrantPoints(conn(), src), path.join(fx.dir, `${src}-c`));
      assert.notEqual(c.sha256, a.sha256);
      assert.notEqual(c.fingerprint.digests[src], a.fingerprint.digests[src]);
      assert.equal(c.fingerprint.counts[src], a.fingerprint.counts[src]);
    });

    test('10k points round-trip, proved by fingerprint and probes', async () => {
      const src = uniq('pts-10k');
      await seedPlain(fx.client, src, 10_000, { dim: 24, distance: 'Cosine', seed: 11 });
      const file = path.join(fx.dir, `${src}.ndjson`);
      let items = 0;
      const info = await saveBackup(
        await backupQdrantPoints(conn(), src, { onProgress: (p) => (items = p.items ?? 0) }),
        file,
      );
      assert.equal(items, 10_000);
      const dst = uniq('pts-10k-copy');
      const res = await restoreQdrantPoints(conn(), openBackup(file), { info, collection: dst });
      assert.equal(res.points, 10_000);
      const report = await verifyQdrantRestore(conn(), dst, info);
      assert.equal(report.ok, true, report.problems.join('; '));
      assert.equal(report.digest.actual, info.fingerprint.digests[src]);
    });

    test('alias switch after a points restore', async () => {
      const v1 = uniq('pts-v1');
      const v2 = uniq('pts-v2');
      const alias = uniq('pts-live');
      await seedNamed(fx.client, v1, 200, 5);
      await fx.client.updateCollectionAliases({
        actions: [{ create_alias: { collection_name: v1, alias_name: alias } }],
      });
      const file = path.join(fx.dir, `${alias}.ndjson`);
      const info = await saveBackup(await backupQdrantPoints(conn(), alias), file);
      assert.equal(info.meta.collection, v1);
      const res = await restoreQdrantPoints(conn(), openBackup(file), { info, collection: v2, alias });
      assert.deepEqual(res.alias, { name: alias, previousCollection: v1 });
      assert.deepEqual(
        (await fx.client.getAliases()).aliases.filter((a) => a.alias_name === alias),
        [{ alias_name: alias, collection_name: v2 }],
      );
      assert.equal((await verifyQdrantRestore(conn(), alias, info)).ok, true);
    });

    test('1% of the points changed: the next backup stores about their bytes, and that point restores exactly', async () => {
      const src = uniq('pts-incr');
      await seedPlain(fx.client, src, 4000, { dim: 96 });
      const repo = await initRepository({ url: path.join(fx.dir, `${src}-repo`) }, 'pw-qdrant-incr', {
        scrypt: { N: 1024, r: 8, p: 1 },
      });
      try {
        const backup = async () => {
          const b = await backupQdrantPoints(conn(), src, { pageSize: 128 });
          const w = await repo.writeArtifact(
            b.stream,
            { source: 'q', kind: 'qdrant-points', name: src },
            {
              chunking: 'records',
            },
          );
          return { w, info: await b.done };
        };
        await backup();
        // 40 points (1%) spread over the id range get new vectors.
        const all = (await allPoints(fx.client, src)) as { id: string | number }[];
        const changed = all.filter((_, i) => i % 100 === 37).map((p) => p.id);
        await fx.client.upsert(src, {
          wait: true,
          points: changed.map((id, i) => ({
            id,
            vector: Array.from({ length: 96 }, (_, d) => ((i + d) % 7) / 7 - 0.4),
          })),
        });
        const { w, info } = await backup();
        const share = w.written.newBytes / w.size;
        assert.ok(share < 0.05, `${(100 * share).toFixed(1)}% of the stream was stored as new`);
        // The incremental point on its own restores every point exactly.
        const dst = uniq('pts-incr-copy');
        const res = await restoreQdrantPoints(conn(), Readable.from(repo.readArtifact(w)), { info, collection: dst });
        assert.equal(res.points, 4000);
        assert.deepEqual(await allPoints(fx.client, dst), await allPoints(fx.client, src));
      } finally {
        await repo.close();
      }
    });

    test('a cut-short stream fails and leaves no half-restored collection', async () => {
      const src = uniq('pts-cut');
      await seedPlain(fx.client, src, 1200, { dim: 8, distance: 'Dot' });
      const file = path.join(fx.dir, `${src}.ndjson`);
      const info = await saveBackup(await backupQdrantPoints(conn(), src), file);
      const full = readFileSync(file, 'utf8').split('\n');
      const cut = path.join(fx.dir, `${src}.cut`);
      writeFileSync(cut, `${full.slice(0, 700).join('\n')}\n`);
      const dst = uniq('pts-cut-copy');
      const err = await restoreQdrantPoints(conn(), openBackup(cut), { info, collection: dst, batchSize: 100 }).catch(
        (e) => e,
      );
      assert.ok(err instanceof QdrantBackupFormatError, String(err));
      assert.match(err.message, /cut short/);
      assert.deepEqual(await fx.client.collectionExists(dst), { exists: false });
    });

    test('an altered point is caught by the digest and the new collection is dropped', async () => {
      const src = uniq('pts-alter');
      await seedPlain(fx.client, src, 300, { dim: 4, distance: 'Euclid' });
      const file = path.join(fx.dir, `${src}.ndjson`);
      const info = await saveBackup(await backupQdrantPoints(conn(), src), file);
      const lines = readFileSync(file, 'utf8').split('\n');
      const p = JSON.parse(lines[10]);
      p.payload.n = 'tampered';
      lines[10] = JSON.stringify(p);
      const altered = path.join(fx.dir, `${src}.altered`);
      writeFileSync(altered, lines.join('\n'));
      const dst = uniq('pts-alter-copy');
      const err = await restoreQdrantPoints(conn(), openBackup(altered), { info, collection: dst }).catch((e) => e);
      assert.ok(err instanceof QdrantBackupFormatError, String(err));
      assert.match(err.message, /digest/);
      assert.deepEqual(await fx.client.collectionExists(dst), { exists: false });
    });

    test("ifExists: 'fail' refuses and changes nothing; 'merge' keeps extra points; 'replace' recreates", async () => {
      const src = uniq('pts-exists');
      await seedPlain(fx.client, src, 50, { dim: 4, distance: 'Dot' });
      const file = path.join(fx.dir, `${src}.ndjson`);
      const info = await saveBackup(await backupQdrantPoints(conn(), src), file);
      await fx.client.upsert(src, {
        wait: true,
        points: [{ id: 999_999, vector: [1, 2, 3, 4], payload: { extra: true } }],
      });
      const withExtra = await fingerprintQdrant(conn(), src);

      await assert.rejects(
        restoreQdrantPoints(conn(), openBackup(file), { info, ifExists: 'fail' }),
        QdrantTargetExistsError,
      );
      assert.deepEqual(await fingerprintQdrant(conn(), src), withExtra);

      const merged = await restoreQdrantPoints(conn(), openBackup(file), { info, ifExists: 'merge' });
      assert.equal(merged.createdCollection, false);
      assert.equal((await fx.client.count(src)).count, 51);
      assert.equal((await verifyQdrantRestore(conn(), src, info, { throwOnMismatch: false })).ok, false);

      // 'replace' drops and recreates the collection; the aliases the app reads through stay.
      await fx.client.updateCollectionAliases({
        actions: [{ create_alias: { collection_name: src, alias_name: `${src}-app` } }],
      });
      const replaced = await restoreQdrantPoints(conn(), openBackup(file), { info, ifExists: 'replace' });
      assert.equal(replaced.createdCollection, false);
      assert.equal((await verifyQdrantRestore(conn(), src, info)).ok, true);
      assert.deepEqual(await fx.client.getCollectionAliases(src), {
        aliases: [{ alias_name: `${src}-app`, collection_name: src }],
      });
    });
  });
});
