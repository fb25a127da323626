import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { type Readable } from 'node:stream';
import {
  backupQdrantPoints,
  backupQdrantSnapshot,
  fingerprintQdrant,
  preflightQdrantRestore,
  probeVector,
  QdrantAliasConflictError,
  QdrantCollectionNotFoundError,
  QdrantDimensionMismatchError,
  QdrantUnreachableError,
  QdrantVerificationError,
  restoreQdrantPoints,
  restoreQdrantSnapshot,
  verifyQdrantRestore,
  type QdrantBackupInfo,
} from '../../sources/qdrant';
import {
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
  let deadUrl: string;
  before(async () => {
    fx = await startFixture('qdrant-errors', Q.url);
    // A port nothing listens on.
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    deadUrl = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await fx?.stop();
  });

  const conn = () => ({ url: fx.url });

  async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
    try {
      await p;
    } catch (e) {
      return e as Error;
    }
    assert.fail('expected a rejection');
  }

  describe('Qdrant adapter: bad input fails clearly and changes nothing', () => {
    test('a keep-alive connection the server drops under a read is retried: the backup completes with every point', async () => {
      const src = uniq('err-dropped');
      await seedPlain(fx.client, src, 600, { dim: 8 });
      // A proxy that cuts every third request's connection as it arrives, as a server closing idle keep-alives does.
      const target = new URL(fx.url);
      let requests = 0;
      let dropped = 0;
      const proxy = net.createServer((inbound) => {
        const outbound = net.connect(Number(target.port), target.hostname);
        inbound.on('data', (d) => {
          if (d.includes('HTTP/1.1') && ++requests % 3 === 0) {
            dropped++;
            inbound.destroy();
            outbound.destroy();
            return;
          }
          outbound.write(d);
        });
        outbound.on('data', (d) => inbound.write(d));
        const end = () => (inbound.destroy(), outbound.destroy());
        inbound.on('error', end).on('close', end);
        outbound.on('error', end).on('close', end);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      try {
        const url = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
        const b = await backupQdrantPoints({ url }, src, { pageSize: 50 });
        let text = '';
        for await (const piece of b.stream as Readable) text += (piece as Buffer).toString('utf8');
        const info = await b.done;
        assert.ok(dropped >= 3, `${dropped} connections dropped`);
        assert.equal(info.fingerprint.counts[src], 600);
        assert.deepEqual(info.fingerprint, await fingerprintQdrant(conn(), src));
        assert.equal(text.trimEnd().split('\n').length, 602, 'header, 600 points, trailer');
      } finally {
        await new Promise<void>((r) => proxy.close(() => r()));
      }
    });

    test('an unreachable server is named in a non-retryable error', async () => {
      const dead = { url: deadUrl, timeoutMs: 5000 };
      for (const run of [
        () => backupQdrantSnapshot(dead, 'docs'),
        () => backupQdrantPoints(dead, 'docs'),
        () => fingerprintQdrant(dead, 'docs'),
      ]) {
        const e = await rejection(run());
        assert.ok(e instanceof QdrantUnreachableError, String(e));
        assert.equal(e.code, 'QDRANT_UNREACHABLE');
        assert.equal(e.retryable, false);
        assert.ok(e.message.includes(deadUrl), e.message);
        assert.match(e.message, /ECONNREFUSED/);
      }
      const info = { mode: 'points', meta: { collection: 'docs', vectors: {} } } as unknown as QdrantBackupInfo;
      const pre = await preflightQdrantRestore(dead, { info });
      assert.equal(pre.problems.length, 1);
      assert.ok(pre.problems[0] instanceof QdrantUnreachableError);
    });

    test('a missing collection is named, and nothing is created', async () => {
      const name = uniq('err-missing');
      for (const run of [
        () => backupQdrantSnapshot(conn(), name),
        () => backupQdrantPoints(conn(), name),
        () => fingerprintQdrant(conn(), name),
      ]) {
        const e = await rejection(run());
        assert.ok(e instanceof QdrantCollectionNotFoundError, String(e));
        assert.equal((e as QdrantCollectionNotFoundError).collection, name);
        assert.equal(e.code, 'QDRANT_COLLECTION_NOT_FOUND');
        assert.ok(e.message.includes(`"${name}"`) && e.message.includes(fx.url), e.message);
      }
      assert.deepEqual(await fx.client.collectionExists(name), { exists: false });
      const src = uniq('err-missing-src');
      await seedPlain(fx.client, src, 10, { dim: 4, distance: 'Dot' });
      const info = await saveBackup(await backupQdrantPoints(conn(), src), path.join(fx.dir, `${src}.ndjson`));
      await assert.rejects(verifyQdrantRestore(conn(), name, info), QdrantCollectionNotFoundError);
    });

    test('a dimension mismatch names both dimensions, in both modes, and leaves the target as it was', async () => {
      const src = uniq('err-dim-src');
      const dst = uniq('err-dim-dst');
      await seedPlain(fx.client, src, 40, { dim: 4, distance: 'Cosine' });
      const snapInfo = await saveBackup(await backupQdrantSnapshot(conn(), src), path.join(fx.dir, `${src}.snapshot`));
      const ptsInfo = await saveBackup(await backupQdrantPoints(conn(), src), path.join(fx.dir, `${src}.ndjson`));
      await fx.client.createCollection(dst, { vectors: { size: 8, distance: 'Cosine' } });
      await fx.client.upsert(dst, {
        wait: true,
        points: [{ id: 1, vector: [1, 2, 3, 4, 5, 6, 7, 8], payload: { keep: 'me' } }],
      });
      const before = await fingerprintQdrant(conn(), dst);

      const pre = await preflightQdrantRestore(conn(), { info: snapInfo, collection: dst });
      assert.equal(pre.targetExists, true);
      assert.ok(pre.problems[0] instanceof QdrantDimensionMismatchError);

      for (const attempt of [
        () =>
          restoreQdrantSnapshot(conn(), openBackup(path.join(fx.dir, `${src}.snapshot`)), {
            info: snapInfo,
            collection: dst,
          }),
        () =>
          restoreQdrantPoints(conn(), openBackup(path.join(fx.dir, `${src}.ndjson`)), {
            info: ptsInfo,
            collection: dst,
          }),
      ]) {
        const e = await rejection(attempt());
        assert.ok(e instanceof QdrantDimensionMismatchError, String(e));
        assert.equal(e.code, 'QDRANT_DIMENSION_MISMATCH');
        assert.equal(e.retryable, false);
        assert.equal((e as QdrantDimensionMismatchError).backupDimension, 4);
        assert.equal((e as QdrantDimensionMismatchError).targetDimension, 8);
        assert.match(e.message, /backup has 4 dimensions, target collection ".*" has 8/);
        assert.deepEqual(await fingerprintQdrant(conn(), dst), before);
      }

      // Named vectors: the message names the vector.
      const nsrc = uniq('err-dim-named');
      const ndst = uniq('err-dim-named-dst');
      await seedNamed(fx.client, nsrc, 20);
      const nInfo = await saveBackup(await backupQdrantPoints(conn(), nsrc), path.join(fx.dir, `${nsrc}.ndjson`));
      await fx.client.createCollection(ndst, {
        vectors: { text: { size: 32, distance: 'Cosine' }, image: { size: 8, distance: 'Dot' } },
      });
      const ne = await rejection(
        restoreQdrantPoints(conn(), openBackup(path.join(fx.dir, `${nsrc}.ndjson`)), { info: nInfo, collection: ndst }),
      );
      assert.ok(ne instanceof QdrantDimensionMismatchError);
      assert.match(ne.message, /vector "text": the backup has 16 dimensions, target collection ".*" has 32/);

      // Deliberately replacing a differently shaped collection is possible, and explicit.
      await restoreQdrantPoints(conn(), openBackup(path.join(fx.dir, `${src}.ndjson`)), {
        info: ptsInfo,
        collection: dst,
        allowVectorChange: true,
      });
      assert.equal((await verifyQdrantRestore(conn(), dst, ptsInfo)).ok, true);
    });

    test('an alias that is the name of a collection is refused before anything is written', async () => {
      const src = uniq('err-alias-src');
      const taken = uniq('err-alias-taken');
      const dst = uniq('err-alias-dst');
      await seedPlain(fx.client, src, 10, { dim: 4, distance: 'Dot' });
      await fx.client.createCollection(taken, { vectors: { size: 4, distance: 'Dot' } });
      const info = await saveBackup(await backupQdrantPoints(conn(), src), path.join(fx.dir, `${src}.ndjson`));
      const e = await rejection(
        restoreQdrantPoints(conn(), openBackup(path.join(fx.dir, `${src}.ndjson`)), {
          info,
          collection: dst,
          alias: taken,
        }),
      );
      assert.ok(e instanceof QdrantAliasConflictError, String(e));
      assert.deepEqual(await fx.client.collectionExists(dst), { exists: false });
    });

    test('verification catches a changed payload and a changed vector, not only counts', async () => {
      const src = uniq('err-verify');
      const dst = uniq('err-verify-copy');
      await seedPlain(fx.client, src, 400, { dim: 8, distance: 'Dot', seed: 3 });
      const file = path.join(fx.dir, `${src}.ndjson`);
      const info = await saveBackup(await backupQdrantPoints(conn(), src), file);
      await restoreQdrantPoints(conn(), openBackup(file), { info, collection: dst });
      assert.equal((await verifyQdrantRestore(conn(), dst, info)).ok, true);

      const [p] = await fx.client.retrieve(dst, { ids: [1], with_vector: true });
      await fx.client.upsert(dst, {
        wait: true,
        points: [{ id: 1, vector: p.vector as number[], payload: { n: 'changed' } }],
      });
      const e = await rejection(verifyQdrantRestore(conn(), dst, info));
      assert.ok(e instanceof QdrantVerificationError, String(e));
      assert.equal(e.code, 'QDRANT_VERIFY_FAILED');
      const r1 = await verifyQdrantRestore(conn(), dst, info, { throwOnMismatch: false });
      assert.equal(r1.count.actual, r1.count.expected);
      assert.notEqual(r1.digest.actual, r1.digest.expected);
      assert.equal(r1.probes.mismatched.length, 0);

      // A vector moved right onto a probe's query changes that probe's top-k.
      const probe = info.probes[0];
      await fx.client.upsert(dst, {
        wait: true,
        points: [{ id: 3, vector: probeVector(probe.seed, 8).map((x) => x * 100) }],
      });
      const r2 = await verifyQdrantRestore(conn(), dst, info, { throwOnMismatch: false });
      assert.ok(
        r2.probes.mismatched.some((m) => m.seed === probe.seed && m.actual[0] === 3),
        JSON.stringify(r2.probes),
      );
    });

    test('cancelling a backup stops the stream, rejects done, and removes the server snapshot', async () => {
      const src = uniq('err-cancel');
      await seedPlain(fx.client, src, 3000, { dim: 32, distance: 'Dot' });

      const ac = new AbortController();
      const b = await backupQdrantPoints(conn(), src, { signal: ac.signal, pageSize: 100 });
      let chunks = 0;
      let lines = 0;
      const readErr = await rejection(
        (async () => {
          for await (const piece of b.stream as Readable) {
            for (const byte of piece as Buffer) if (byte === 0x0a) lines++;
            if (++chunks === 2) ac.abort();
          }
        })(),
      );
      assert.equal(readErr.name, 'AbortError');
      // Pieces are groups of ~2 points; what was already buffered still arrives, far from all 3000 points.
      assert.ok(lines < 1500, `${lines} point lines read after the abort`);
      await assert.rejects(b.done);

      const ac2 = new AbortController();
      const s = await backupQdrantSnapshot(conn(), src, { signal: ac2.signal });
      const err2 = await rejection(
        (async () => {
          for await (const _ of s.stream as Readable) ac2.abort();
        })(),
      );
      assert.equal(err2.name, 'AbortError');
      await assert.rejects(s.done);
      assert.deepEqual(await fx.client.listSnapshots(src), []);
    });
  });
});
