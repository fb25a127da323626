import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  ObjectLockNotEnabledError,
  initRepository,
  openRepository,
  type InitOptions,
  type ObjectLockOptions,
  type Repository,
  type RepositoryLocation,
} from '../../repository';
import { scratchDir } from '../harness/env';
import { EXIT_CODES } from '../../client/exit-codes';
import { rawTestConfig, runBin, singleJson } from '../client/helpers';
import { openBackend } from '../../repository/backend/open';
import { FAST, collectBytes, fromBuffer, minioOptions, randomStream, rejection } from './helpers';

/** Small chunks: a few MiB give dozens of chunk objects to lock, delete and count. */
const OPTS: InitOptions = { ...FAST, chunker: { minSize: 16 * 1024, normalSize: 32 * 1024, maxSize: 128 * 1024 } };
const META = { source: 'cache', kind: 'redis-logical', name: 'db0' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A plain S3 client with the same (root) credentials Lifeboat uses: what a thief of those credentials holds. */
let raw: S3Client;
const repos: Repository[] = [];

async function lockedBucket(): Promise<string> {
  const bucket = `lock-${randomBytes(4).toString('hex')}`;
  await raw.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  return bucket;
}

function loc(bucket: string, prefix: string, objectLock?: ObjectLockOptions): RepositoryLocation {
  return { url: `s3://${bucket}/${prefix}`, s3: { ...minioOptions(), ...(objectLock ? { objectLock } : {}) } };
}

interface Version {
  key: string;
  versionId: string;
  deleteMarker: boolean;
}

/** Every version and delete marker under a prefix (the truth of a versioned bucket, not the current listing). */
async function versions(bucket: string, prefix: string): Promise<Version[]> {
  const out: Version[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const r = await raw.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }),
    );
    for (const v of r.Versions ?? []) out.push({ key: v.Key!, versionId: v.VersionId!, deleteMarker: false });
    for (const v of r.DeleteMarkers ?? []) out.push({ key: v.Key!, versionId: v.VersionId!, deleteMarker: true });
    KeyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
    VersionIdMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return out.sort((a, b) => (a.key + a.versionId < b.key + b.versionId ? -1 : 1));
}

async function currentKeys(bucket: string, prefix: string): Promise<string[]> {
  const r = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}

async function getVersion(bucket: string, key: string, VersionId?: string): Promise<Buffer> {
  const r = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function writePoint(repo: Repository, data: Buffer) {
  const ref = await repo.writeArtifact(fromBuffer(data), META);
  return { ref, rp: await repo.commitRecoveryPoint({ artifacts: [ref], tags: ['lock-test'] }) };
}

describe('S3 Object Lock (immutable backups) on MinIO', () => {
  before(() => {
    raw = new S3Client(minioOptions());
  });
  after(async () => {
    await Promise.all(repos.map((r) => r.close()));
    raw.destroy();
  });

  test('every immutable object is uploaded locked; the credentials cannot delete a locked version; a hidden or overwritten chunk is recovered from its locked version and everything restores exactly', async () => {
    const bucket = await lockedBucket();
    const lock = { mode: 'governance', retentionMs: HOUR } as const;
    const repo = await initRepository(loc(bucket, 'prod', lock), 'pw', OPTS);
    repos.push(repo);
    const data = await collectBytes(randomStream(3 * 1024 * 1024 + 17, 'lock-governance'));
    const t0 = Date.now();
    const { ref, rp } = await writePoint(repo, data);

    const all = await currentKeys(bucket, 'prod/');
    const chunks = all.filter((k) => k.startsWith('prod/data/'));
    assert.ok(chunks.length >= 20, `expected many chunks, got ${chunks.length}`);
    const immutable = [...chunks, `prod/artifacts/${ref.indexId}`, `prod/points/${rp.id}`, 'prod/config'];
    for (const key of immutable) {
      const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ObjectLockMode, 'GOVERNANCE', key);
      const until = head.ObjectLockRetainUntilDate!.getTime();
      assert.ok(until >= t0 + HOUR - 5000 && until <= Date.now() + HOUR + 5000, `${key} retained until ${until}`);
    }
    // Key files stay mutable (password change, key removal): no retention on them.
    const keyFile = all.find((k) => k.startsWith('prod/keys/'))!;
    assert.equal((await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: keyFile }))).ObjectLockMode, undefined);

    // The thief deletes versions by id (without the governance bypass): every one is refused.
    const chunk = chunks[3];
    const original = await getVersion(bucket, chunk);
    const before = await versions(bucket, 'prod/');
    for (const key of [chunk, `prod/points/${rp.id}`, `prod/artifacts/${ref.indexId}`, 'prod/config']) {
      const v = before.find((x) => x.key === key)!;
      const e = await rejection(
        raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.versionId })),
      );
      // AWS says 403 AccessDenied; MinIO 400 "Object is WORM protected and cannot be overwritten".
      assert.match(e.message, /WORM protected|Access Denied/i, key);
    }
    assert.deepEqual(await versions(bucket, 'prod/'), before, 'no version was removed');

    // What the credentials can still do on a versioned bucket: stack a new version or a delete marker on top.
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: chunk, Body: Buffer.from('ransom note') }));
    await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: chunks[4] }));
    const reader = await openRepository(loc(bucket, 'prod', lock), 'pw');
    repos.push(reader);
    await assert.rejects(collectBytes(reader.readArtifact(ref)), 'the damage is detected, not restored silently');
    // ...but the locked versions are intact, byte for byte.
    const lockedVersion = before.find((x) => x.key === chunk)!.versionId;
    assert.deepEqual(await getVersion(bucket, chunk, lockedVersion), original);

    // Recovery (docs/security.md): delete what was stacked on top of the locked versions (it is not locked).
    const lockedIds = new Set(before.map((v) => v.versionId));
    const stacked = (await versions(bucket, 'prod/')).filter((v) => !lockedIds.has(v.versionId));
    assert.equal(stacked.length, 2);
    for (const v of stacked)
      await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId }));
    const restorer = await openRepository(loc(bucket, 'prod', lock), 'pw');
    repos.push(restorer);
    assert.deepEqual(await collectBytes(restorer.readArtifact(ref)), data);
    assert.equal((await restorer.verify({ readData: true })).ok, true);
  });

  test('forget and prune skip locked objects and report them; nothing locked is removed; after the retention a later forget and prune remove everything', async () => {
    const bucket = await lockedBucket();
    // Compliance mode, short retention so the test can see it end: not even a bypass deletes before.
    const lock = { mode: 'compliance', retentionMs: 12_000 } as const;
    const repo = await initRepository(loc(bucket, 'r', lock), 'pw', OPTS);
    repos.push(repo);
    const data = await collectBytes(randomStream(1024 * 1024 + 5, 'lock-compliance'));
    const { ref, rp } = await writePoint(repo, data);
    // Written, never committed: garbage for prune right away (graceMs 0).
    const orphan = await repo.writeArtifact(randomStream(512 * 1024, 'orphan'), META);
    const before = await versions(bucket, 'r/');

    const f = await repo.forget(rp.id);
    assert.equal(f.forgotten, false);
    assert.ok(f.lockedUntil && Date.parse(f.lockedUntil) > Date.now(), `lockedUntil ${f.lockedUntil}`);
    assert.deepEqual(
      (await repo.listRecoveryPoints()).map((p) => p.id),
      [rp.id],
      'the point stays listed',
    );

    await sleep(2500); // prune only touches objects older than its cutoff (storage time - 1 s resolution)
    const p1 = await repo.prune({ graceMs: 0 });
    assert.ok(p1.locked, 'locked garbage is reported');
    const orphanObjects = orphan.chunks + 1; // its chunks and its index
    assert.equal(p1.locked.objects, orphanObjects);
    assert.equal(p1.deletedChunks, 0);
    assert.equal(p1.deletedIndexes, 0);
    assert.equal(p1.deletedBytes, 0);
    assert.match(
      p1.locked.message,
      new RegExp(`^${orphanObjects} objects .*locked until .*will be removed by a later prune`),
    );
    const afterPrune = await versions(bucket, 'r/');
    for (const v of before.filter((x) => !x.key.includes('/locks/') && !x.key.includes('/condemned/')))
      assert.ok(
        afterPrune.some((x) => x.versionId === v.versionId),
        `${v.key} is still there`,
      );
    assert.deepEqual(await collectBytes(repo.readArtifact(ref)), data, 'the forgotten point still restores');

    // Compliance: even the governance bypass is refused.
    const chunkVersion = before.find((v) => v.key.startsWith('r/data/'))!;
    await assert.rejects(
      raw.send(
        new DeleteObjectCommand({
          Bucket: bucket,
          Key: chunkVersion.key,
          VersionId: chunkVersion.versionId,
          BypassGovernanceRetention: true,
        }),
      ),
    );

    // After the retention: forget again succeeds, prune removes every version of everything unreferenced.
    await sleep(Math.max(0, Date.parse(f.lockedUntil) - Date.now()) + 1500);
    assert.deepEqual(await repo.forget(rp.id), { id: rp.id, forgotten: true });
    assert.deepEqual(await repo.listRecoveryPoints(), []);
    const p2 = await repo.prune({ graceMs: 0 });
    assert.equal(p2.locked, undefined);
    assert.equal(p2.deletedChunks, ref.chunks + orphan.chunks);
    assert.equal(p2.deletedIndexes, 2);
    const left = await versions(bucket, 'r/');
    assert.deepEqual(
      left.filter((v) => /^r\/(data|artifacts|points)\//.test(v.key)),
      [],
      'no version and no delete marker left behind',
    );
  });

  test('extendObjectLocks moves the retention of chunks a new point reuses to now + retention', async () => {
    const bucket = await lockedBucket();
    const lock = { mode: 'governance', retentionMs: 60_000 } as const;
    const repo = await initRepository(loc(bucket, 'e', lock), 'pw', OPTS);
    repos.push(repo);
    const data = await collectBytes(randomStream(512 * 1024, 'extend'));
    const first = await writePoint(repo, data);
    const chunkKeys = (await currentKeys(bucket, 'e/data/')).sort();
    const untilOf = async (key: string) =>
      (await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ObjectLockRetainUntilDate!.getTime();
    const firstUntil = await untilOf(chunkKeys[0]);
    await sleep(2500);
    const second = await writePoint(repo, data); // deduplicated: same chunks, new manifest
    assert.deepEqual((await currentKeys(bucket, 'e/data/')).sort(), chunkKeys);
    assert.equal(await untilOf(chunkKeys[0]), firstUntil, 'reuse alone does not extend the lock');
    const started = Date.now();
    const r = await repo.extendObjectLocks();
    // config + 2 manifests + 2 indexes + the shared chunks
    assert.equal(r.objects, 1 + 2 + 2 + chunkKeys.length);
    for (const key of [...chunkKeys, `e/points/${first.rp.id}`, `e/points/${second.rp.id}`, 'e/config']) {
      const until = await untilOf(key);
      assert.ok(until >= started + lock.retentionMs - 1000, `${key}: ${until} < ${started + lock.retentionMs}`);
    }
    assert.ok((await untilOf(chunkKeys[0])) > firstUntil + 2000);
  });

  test('a multipart upload (object above the threshold) is locked too, and reads back exactly', async () => {
    const bucket = await lockedBucket();
    const backend = openBackend({
      url: `s3://${bucket}/mp`,
      s3: {
        ...minioOptions(),
        multipartThreshold: 5 * 1024 * 1024,
        objectLock: { mode: 'governance', retentionMs: HOUR },
      },
    });
    try {
      await backend.prepare();
      const big = await collectBytes(randomStream(11 * 1024 * 1024 + 3, 'lock-multipart'));
      assert.equal(await backend.put('artifacts/big', big), true);
      assert.deepEqual(await backend.get('artifacts/big'), big);
      const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp/artifacts/big' }));
      assert.match(head.ETag ?? '', /-\d+"?$/, 'went as multipart');
      assert.equal(head.ObjectLockMode, 'GOVERNANCE');
      assert.ok(head.ObjectLockRetainUntilDate!.getTime() > Date.now() + HOUR - 60_000);
    } finally {
      await backend.close();
    }
  });

  test('CLI: init on a lock bucket, then forget of a locked point says so, exits 0 and keeps the point', async () => {
    const bucket = await lockedBucket();
    const m = minioOptions();
    const raw0 = rawTestConfig({});
    const config = path.join(scratchDir('cli-objectlock'), 'lifeboat.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        ...raw0,
        repository: {
          url: `s3://${bucket}/cli`,
          password: { env: 'LIFEBOAT_TEST_REPO_PASSWORD' },
          s3: {
            endpoint: m.endpoint,
            forcePathStyle: true,
            accessKeyId: { env: 'TEST_S3_KEY' },
            secretAccessKey: { env: 'TEST_S3_SECRET' },
          },
          objectLock: { mode: 'governance', retention: '1d' },
        },
      }),
      { mode: 0o600 },
    );
    const env = {
      LIFEBOAT_CONFIG: config,
      LIFEBOAT_TEST_REPO_PASSWORD: 'pw-cli',
      TEST_S3_KEY: m.credentials.accessKeyId,
      TEST_S3_SECRET: m.credentials.secretAccessKey,
    };
    const init = await runBin(['init', '--json'], env);
    assert.equal(init.code, EXIT_CODES.ok, init.stderr);
    const repo = await openRepository(loc(bucket, 'cli', { mode: 'governance', retentionMs: DAY }), 'pw-cli');
    repos.push(repo);
    const { rp } = await writePoint(repo, Buffer.from('session:1 -> alice\n'));
    const forget = await runBin(['forget', rp.id, '--json'], env);
    assert.equal(forget.code, EXIT_CODES.ok, forget.stderr);
    const doc = singleJson(forget.stdout);
    assert.equal(doc.forgotten, null);
    assert.equal(doc.locked.id, rp.id);
    assert.ok(Date.parse(doc.locked.until) > Date.now() + DAY - 3_600_000, doc.locked.until);
    const human = await runBin(['forget', rp.id], env);
    assert.match(human.stdout, /under S3 Object Lock until .*stays listed and restorable/);
    const list = singleJson((await runBin(['list', '--json'], env)).stdout);
    assert.deepEqual(
      list.recoveryPoints.map((p: { id: string }) => p.id),
      [rp.id],
    );
  });

  test('init on a bucket without Object Lock is refused with the reason and the fix, and writes nothing; open is refused too', async () => {
    const plain = `plain-${randomBytes(4).toString('hex')}`;
    await raw.send(new CreateBucketCommand({ Bucket: plain }));
    const lock = { mode: 'governance', retentionMs: HOUR } as const;
    const e = await rejection(initRepository(loc(plain, 'repo', lock), 'pw', OPTS));
    assert.ok(e instanceof ObjectLockNotEnabledError, String(e));
    assert.match(e.message, new RegExp(`bucket "${plain}".*was not created with Object Lock enabled`));
    assert.match(e.message, /mc mb --with-lock/);
    assert.match(e.message, /remove repository\.objectLock/);
    assert.deepEqual(await versions(plain, ''), [], 'nothing was written');

    // A repository made there without objectLock cannot later be opened as if it were locked.
    const r = await initRepository(loc(plain, 'repo'), 'pw', OPTS);
    await r.close();
    const e2 = await rejection(openRepository(loc(plain, 'repo', lock), 'pw'));
    assert.ok(e2 instanceof ObjectLockNotEnabledError, String(e2));
  });

  test('init creates a missing bucket with Object Lock enabled when objectLock is configured', async () => {
    const bucket = `new-lock-${randomBytes(4).toString('hex')}`;
    const repo = await initRepository(loc(bucket, 'x', { mode: 'governance', retentionMs: HOUR }), 'pw', OPTS);
    repos.push(repo);
    const conf = await raw.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    assert.equal(conf.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'x/config' }));
    assert.equal(head.ObjectLockMode, 'GOVERNANCE');
  });
});
