import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, spawnServer, type RunningServer } from '../servers/process';
import { toolPath } from '../servers/tools';
import { openBackend } from '../../repository/backend/open';
import { BackendError, initRepository, openRepository, type Repository, type S3Options } from '../../repository';
import { scratchDir, testEnv } from '../harness/env';
import { FAST, MiB, collectBytes, fromBuffer, minioOptions, randomStream, rejection } from './helpers';

const KMS_KEY = 'lifeboat-test-key';

/** A private MinIO with a static KMS key, so SSE-S3 and SSE-KMS can be exercised (the shared one has no KMS). */
async function startKmsMinio(): Promise<{ server: RunningServer; s3: S3Options; bucket: string }> {
  const dir = scratchDir('minio-kms');
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'kms-test', secretAccessKey: 'kms-test-secret-key' };
  const server = await spawnServer({
    name: `minio-kms:${port}`,
    command: toolPath('minio'),
    args: [
      'server',
      path.join(dir, 'data'),
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${await freePort()}`,
      '--quiet',
    ],
    env: {
      MINIO_ROOT_USER: credentials.accessKeyId,
      MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      MINIO_KMS_SECRET_KEY: `${KMS_KEY}:${randomBytes(32).toString('base64')}`,
    },
    logFile: path.join(dir, 'minio.log'),
    ready: async () => (await fetch(`${endpoint}/minio/health/live`)).ok,
  });
  const s3: S3Options = { endpoint, region: 'us-east-1', forcePathStyle: true, credentials };
  const c = new S3Client({ ...s3, credentials });
  await c.send(new CreateBucketCommand({ Bucket: 'sse' }));
  c.destroy();
  return { server, s3, bucket: 'sse' };
}

/**
 * An HTTP proxy to the shared MinIO that answers every `failEvery`-th request
 * with 503 SlowDown (the Host header passes through, so signatures stay valid).
 */
async function startFlakyProxy(
  failEvery: number,
): Promise<{ endpoint: string; failed: () => number; close: () => Promise<void> }> {
  const target = new URL(testEnv().minio.endpoint);
  let n = 0;
  let failed = 0;
  const server = http.createServer((req, res) => {
    if (++n % failEvery === 0) {
      failed++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
      return;
    }
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    failed: () => failed,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('S3 backend specifics', () => {
  let kms: Awaited<ReturnType<typeof startKmsMinio>>;
  const repos: Repository[] = [];
  before(async () => {
    kms = await startKmsMinio();
  });
  after(async () => {
    await Promise.all(repos.map((r) => r.close()));
    await kms?.server.stop();
  });

  test('objects above the threshold go as multipart uploads and read back exactly', async () => {
    const env = testEnv().minio;
    const prefix = `repo-tests/multipart-${randomBytes(4).toString('hex')}`;
    const backend = openBackend({
      url: `s3://${env.bucket}/${prefix}`,
      s3: { ...minioOptions(), multipartThreshold: 5 * MiB },
    });
    try {
      const big = await collectBytes(randomStream(12 * MiB + 3, 'multipart'));
      assert.equal(await backend.put('artifacts/big', big), true);
      assert.deepEqual(await backend.get('artifacts/big'), big);
      const c = new S3Client(minioOptions());
      const head = await c.send(new HeadObjectCommand({ Bucket: env.bucket, Key: `${prefix}/artifacts/big` }));
      c.destroy();
      // A multipart object's ETag is "<md5 of part md5s>-<parts>".
      assert.match(head.ETag ?? '', /-\d+"?$/);
      assert.equal(head.ContentLength, big.length);
      // create-if-absent refuses to overwrite.
      assert.equal(await backend.put('config-like', Buffer.from('a'), { ifAbsent: true }), true);
      assert.equal(await backend.put('config-like', Buffer.from('b'), { ifAbsent: true }), false);
      assert.deepEqual(await backend.get('config-like'), Buffer.from('a'));
    } finally {
      await backend.close();
    }
  });

  for (const sse of ['AES256', 'aws:kms'] as const) {
    test(`server-side encryption ${sse} is requested on every object, and data round-trips`, async () => {
      const url = `s3://${kms.bucket}/sse-${sse.replace(':', '-')}`;
      const s3: S3Options = { ...kms.s3, sse, ...(sse === 'aws:kms' ? { kmsKeyId: KMS_KEY } : {}) };
      const repo = await initRepository({ url, s3 }, 'pw', FAST);
      repos.push(repo);
      const data = await collectBytes(randomStream(2 * MiB, `sse-${sse}`));
      const ref = await repo.writeArtifact(fromBuffer(data), { source: 's', kind: 'k', name: 'n' });
      const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
      const c = new S3Client({ ...kms.s3, credentials: kms.s3.credentials });
      for (const key of [`points/${rp.id}`, `artifacts/${ref.indexId}`, 'config']) {
        const head = await c.send(
          new HeadObjectCommand({ Bucket: kms.bucket, Key: `${url.split('/').slice(3).join('/')}/${key}` }),
        );
        assert.equal(head.ServerSideEncryption, sse, key);
        if (sse === 'aws:kms') assert.match(head.SSEKMSKeyId ?? '', new RegExp(KMS_KEY));
      }
      c.destroy();
      const again = await openRepository({ url, s3 }, 'pw');
      repos.push(again);
      assert.deepEqual(await collectBytes(again.readArtifact(ref)), data);
    });
  }

  test('transient 503 SlowDown answers are retried with backoff: a full write/read/verify succeeds', async () => {
    const proxy = await startFlakyProxy(4);
    try {
      const url = `s3://${testEnv().minio.bucket}/repo-tests/flaky-${randomBytes(4).toString('hex')}`;
      const s3 = { ...minioOptions(), endpoint: proxy.endpoint, maxAttempts: 6 };
      const repo = await initRepository({ url, s3 }, 'pw', FAST);
      repos.push(repo);
      const data = await collectBytes(randomStream(6 * MiB, 'flaky'));
      const ref = await repo.writeArtifact(fromBuffer(data), { source: 's', kind: 'k', name: 'n' });
      await repo.commitRecoveryPoint({ artifacts: [ref] });
      assert.deepEqual(await collectBytes(repo.readArtifact(ref)), data);
      assert.equal((await repo.verify({ readData: true })).ok, true);
      assert.ok(proxy.failed() >= 5, `${proxy.failed()} requests failed and were retried`);
    } finally {
      await proxy.close();
    }
  });

  test('an unreachable endpoint fails with BackendError naming the location, after a few attempts', async () => {
    const port = await freePort();
    const started = Date.now();
    const e = await rejection(
      openRepository(
        { url: 's3://nowhere/x', s3: { ...minioOptions(), endpoint: `http://127.0.0.1:${port}`, maxAttempts: 3 } },
        'pw',
      ),
    );
    assert.ok(e instanceof BackendError, `${e.name}: ${e.message}`);
    assert.equal((e as BackendError).code, 'BACKEND_UNAVAILABLE');
    assert.match(e.message, /s3:\/\/nowhere\/x/);
    assert.ok(Date.now() - started >= 200, 'retried with backoff before giving up');
  });

  test('init creates a bucket that does not exist yet (like restic), and the repository works', async () => {
    const bucket = `lifeboat-new-${randomBytes(4).toString('hex')}`;
    const loc = { url: `s3://${bucket}/repo`, s3: { ...minioOptions(), maxAttempts: 2 } };
    const repo = await initRepository(loc, 'pw-bucket', FAST);
    repos.push(repo);
    const data = randomBytes(100_000);
    const ref = await repo.writeArtifact(fromBuffer(data), { source: 's', kind: 'k', name: 'n' });
    await repo.commitRecoveryPoint({ artifacts: [ref] });
    const again = await openRepository(loc, 'pw-bucket');
    repos.push(again);
    assert.ok((await collectBytes(again.readArtifact(ref))).equals(data));
  });

  test('a wrong S3 secret is reported as refused credentials, not as unreachable', async () => {
    const m = minioOptions();
    const e = await rejection(
      openRepository(
        {
          url: `s3://${testEnv().minio.bucket}/x`,
          s3: { ...m, credentials: { ...m.credentials, secretAccessKey: 'wrong-secret-123' }, maxAttempts: 2 },
        },
        'pw',
      ),
    );
    assert.equal((e as BackendError).code, 'BACKEND_ACCESS_DENIED', `${e.name}: ${e.message}`);
    assert.doesNotMatch(e.message, /unreachable/);
    assert.match(e.message, /credentials/);
    assert.ok(!e.message.includes('wrong-secret-123'), 'the secret is never echoed');
  });
});
