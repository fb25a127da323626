/**
 * pruneWorkflow on a repository under S3 Object Lock (a lock-enabled MinIO bucket, governance, the
 * shortest retention the config allows: 1 day), with a real worker, Temporal and Redis: the point
 * the policy removes is still locked, so forget skips it (saying until when) and it stays listed and
 * restores exactly; the garbage of an interrupted write is locked too, so it is reported (objects,
 * bytes) and not one object version disappears; and the retention of everything the kept points
 * need is renewed: a chunk uploaded by the first backup and reused by the second is retained
 * longer than its first upload set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { PRUNE_RECORD_KIND, type PruneInput, type PruneResult } from '../../lib/prune';
import { openConfiguredRepository } from '../../runtime/configured-repository';
import { projectRoot } from '../servers/tools';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir, testEnv } from '../harness/env';
import { startRedis, type RedisServer } from '../servers/redis';
import { redisSnapshot, snapshotDiff, startWorkerFor } from './helpers';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DAY = 86_400_000;

let redis: RedisServer;
let s3: S3Client;

before(async () => {
  redis = await startRedis(path.join(scratchDir('prune-lock-redis'), 'redis'));
  const m = testEnv().minio;
  s3 = new S3Client({
    endpoint: m.endpoint,
    region: m.region,
    forcePathStyle: true,
    credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
  });
});
after(async () => {
  s3?.destroy();
  await redis?.stop();
});

/** A config on a new lock-enabled bucket: objectLock governance, retention 1d (the minimum). */
async function lockedConfig(): Promise<{ cfg: TestConfig; bucket: string; prefix: string }> {
  const m = testEnv().minio;
  const bucket = `prune-lock-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  const prefix = 'repo';
  const tag = randomUUID().slice(0, 6).toUpperCase();
  const keyEnv = `LIFEBOAT_TEST_S3_KEY_${tag}`;
  const secretEnv = `LIFEBOAT_TEST_S3_SECRET_${tag}`;
  const passwordEnv = `LIFEBOAT_TEST_PW_${tag}`;
  process.env[keyEnv] = m.accessKeyId;
  process.env[secretEnv] = m.secretAccessKey;
  const cfg = makeTestConfig({
    // A backup's workflow id comes from its sources ('lifeboat-backup-all' when it takes every
    // configured one), and other test files back up all of theirs in the same Temporal namespace at
    // the same time: a second, never backed-up source makes this test's id 'lifeboat-backup-lockmeta'.
    sources: [
      { name: 'lockmeta', type: 'redis', url: redis.url, db: 0 },
      { name: 'lockspare', type: 'redis', url: redis.url, db: 1 },
    ],
    passwordEnv,
    password: 'pw',
    extra: {
      retention: { keepLast: 1 },
      repository: {
        url: `s3://${bucket}/${prefix}`,
        password: { env: passwordEnv },
        s3: {
          endpoint: m.endpoint,
          region: m.region,
          forcePathStyle: true,
          accessKeyId: { env: keyEnv },
          secretAccessKey: { env: secretEnv },
        },
        objectLock: { mode: 'governance', retention: '1d' },
      },
    },
  });
  cfg.env[keyEnv] = m.accessKeyId;
  cfg.env[secretEnv] = m.secretAccessKey;
  return { cfg, bucket, prefix };
}

async function lifeboat(
  cfg: TestConfig,
  ...args: string[]
): Promise<{ code: number; doc: Record<string, unknown>; stderr: string }> {
  const env = { ...process.env, ...cfg.env, LIFEBOAT_CONFIG: cfg.file };
  try {
    const { stdout, stderr } = await run(path.join(projectRoot, 'bin', 'lifeboat'), [...args, '--json'], {
      env,
      maxBuffer: 16 << 20,
    });
    return { code: 0, doc: JSON.parse(stdout), stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, doc: JSON.parse(x.stdout || '{}'), stderr: x.stderr };
  }
}

/** Several MiB of incompressible values (many chunks), and one small key that changes between backups. */
async function seed(version: string, fresh: boolean): Promise<void> {
  const r = new Redis(redis.url, { db: 0 });
  try {
    if (fresh) {
      await r.flushdb();
      const p = r.pipeline();
      for (let i = 0; i < 48; i++) p.set(`blob:${i}`, randomBytes(96 * 1024));
      p.hset('profile:1', { name: 'ada', role: 'admin' });
      p.rpush('queue', 'a', 'b', 'c');
      p.set('session:ttl', 'x', 'PX', 3_600_000);
      await p.exec();
    }
    await r.set('version', version);
  } finally {
    r.disconnect();
  }
}

interface Version {
  key: string;
  versionId: string;
}

/** Every object version and delete marker under the prefix: what a versioned, locked bucket really holds. */
async function versions(bucket: string, prefix: string): Promise<Version[]> {
  const out: Version[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const r = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${prefix}/`, KeyMarker, VersionIdMarker }),
    );
    for (const v of [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])])
      out.push({ key: v.Key!, versionId: v.VersionId! });
    KeyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
    VersionIdMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return out;
}

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    for (const o of r.Contents ?? []) out.push(o.Key!);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

/** key -> retain-until (ms) of the current version, read straight from S3. */
async function retainUntil(bucket: string, ks: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const key of ks) {
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(h.ObjectLockMode, 'GOVERNANCE', key);
    out.set(key, h.ObjectLockRetainUntilDate!.getTime());
  }
  return out;
}

test('pruneWorkflow under S3 Object Lock: the locked older point is skipped by forget and still restores exactly, locked garbage is reported and nothing locked is deleted, and the retention of reused chunks is renewed', async (t) => {
  const { cfg, bucket, prefix } = await lockedConfig();
  const w = await startWorkerFor(cfg.config);
  try {
    const init = await lifeboat(cfg, 'init');
    assert.equal(init.code, 0, init.stderr);

    // Backup 1, and the chunks it uploaded with their retain-until.
    await seed('v1', true);
    const olderData = await redisSnapshot(redis.url, 0);
    const b1 = await lifeboat(cfg, 'backup', '--source', 'lockmeta', '--wait');
    assert.equal(b1.code, 0, b1.stderr);
    const chunks1 = (await keys(bucket, prefix)).filter((k) => k.startsWith(`${prefix}/data/`));
    assert.ok(chunks1.length >= 4, `expected several chunks, got ${chunks1.length}`);
    const until1 = await retainUntil(bucket, chunks1);
    for (const [k, u] of until1) assert.ok(u > Date.now() + DAY - 10 * 60_000, `${k} retained until ${u}`);

    // Backup 2: one key changed, so most chunks are the first backup's, reused (not uploaded again).
    await seed('v2', false);
    const newerData = await redisSnapshot(redis.url, 0);
    assert.notDeepEqual(newerData, olderData);
    const b2 = await lifeboat(cfg, 'backup', '--source', 'lockmeta', '--wait');
    assert.equal(b2.code, 0, b2.stderr);
    const listed = await lifeboat(cfg, 'list');
    assert.equal(listed.code, 0, listed.stderr);
    const points = listed.doc.recoveryPoints as { id: string }[];
    const [older, newer] = points.map((p) => p.id).sort();
    assert.equal(points.length, 2);
    const chunks2 = (await keys(bucket, prefix)).filter((k) => k.startsWith(`${prefix}/data/`));
    const uploadedBy2 = chunks2.filter((k) => !until1.has(k));
    const repo = await openConfiguredRepository(cfg.config);
    let orphan: { chunks: number; indexId: string };
    try {
      const newerChunks = (await repo.getRecoveryPoint(newer)).artifacts.reduce((n, a) => n + a.chunks, 0);
      // The newer point references more chunks than backup 2 uploaded: the rest are backup 1's.
      assert.ok(
        newerChunks > uploadedBy2.length,
        `backup 2 reused nothing: ${newerChunks} chunks, ${uploadedBy2.length} uploaded`,
      );
      // An interrupted backup's leftovers (written, never committed): garbage, but locked for a day.
      orphan = await repo.writeArtifact(Readable.from([randomBytes(700 * 1024)]), {
        source: 'lockmeta',
        kind: 'redis-logical',
        name: 'interrupted',
      });
    } finally {
      await repo.close();
    }
    const orphanKeys = (await keys(bucket, prefix)).filter(
      (k) => k.startsWith(`${prefix}/data/`) && !chunks2.includes(k),
    );
    const orphanUntil = await retainUntil(bucket, orphanKeys);
    const before = await versions(bucket, prefix);
    await sleep(2500); // past the 1 s grace, and the prune cutoff's 1 s storage-time resolution

    const result = await w.client.workflow.execute<(input: PruneInput) => Promise<PruneResult>>('pruneWorkflow', {
      taskQueue: cfg.taskQueue,
      workflowId: `prune-object-lock-${randomUUID().slice(0, 8)}`,
      args: [{ graceMs: 1000 }],
      workflowExecutionTimeout: '5 minutes',
    });
    const pruneStarted = Date.parse(result.startedAt);
    t.diagnostic(
      `chunks: backup 1 ${chunks1.length}, backup 2 uploaded ${uploadedBy2.length}; orphan ${orphan.chunks} chunks; locked ${JSON.stringify(result.locked)}; lockExtension ${JSON.stringify(result.lockExtension)}; prune ${result.durationMs} ms`,
    );

    // Forget: the older point is removed by the policy but locked: skipped, with the reason and until when.
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(result.forgotten, []);
    assert.equal(result.pointsRemoved, 0);
    assert.equal(result.pointsKept, 2);
    assert.equal(result.skipped.length, 1, JSON.stringify(result.skipped));
    assert.equal(result.skipped[0].id, older);
    const m = /^under S3 Object Lock until (\S+)$/.exec(result.skipped[0].reason);
    assert.ok(m, result.skipped[0].reason);
    assert.ok(Date.parse(m[1]) > Date.now() + DAY - 10 * 60_000, `locked until ${m[1]}`);

    // The garbage is locked: reported, nothing deleted, not one version gone.
    assert.ok(result.locked, `no locked garbage reported: ${JSON.stringify(result)}`);
    assert.equal(result.locked.objects, orphan.chunks + 1, 'the orphan chunks and its index');
    assert.ok(result.locked.bytes >= 700 * 1024, `locked bytes ${result.locked.bytes}`);
    assert.ok(Date.parse(result.locked.until) > Date.now() + DAY - 10 * 60_000, result.locked.until);
    assert.match(result.locked.message, /will be removed by a later prune/);
    assert.equal(result.deletedObjects, 0);
    assert.equal(result.freedBytes, 0);
    const afterVersions = new Set((await versions(bucket, prefix)).map((v) => `${v.key}@${v.versionId}`));
    const gone = before
      .filter((v) => !v.key.includes('/locks/') && !v.key.includes('/condemned/'))
      .filter((v) => !afterVersions.has(`${v.key}@${v.versionId}`));
    assert.deepEqual(gone, [], 'versions removed from a locked repository');

    // Lock renewal: every chunk the kept points need, including those backup 1 uploaded and backup 2
    // reuses, is now retained from this prune on; the orphan's retention is left as it was.
    assert.ok(result.lockExtension, `no lock extension: ${JSON.stringify(result)}`);
    assert.ok(
      result.lockExtension.objects >= chunks2.length + 2 * 2 + 1,
      `${result.lockExtension.objects} objects renewed`,
    );
    assert.ok(Date.parse(result.lockExtension.until) >= pruneStarted + DAY, result.lockExtension.until);
    const renewed = await retainUntil(bucket, chunks1);
    for (const k of chunks1) {
      assert.ok(renewed.get(k)! > until1.get(k)! + 1000, `${k}: ${until1.get(k)} -> ${renewed.get(k)}`);
      assert.ok(renewed.get(k)! >= pruneStarted + DAY, `${k} retained until ${renewed.get(k)}`);
    }
    assert.deepEqual(await retainUntil(bucket, orphanKeys), orphanUntil, 'garbage is not renewed');

    // The workflow's summary (current details) names both.
    const meta = (await w.client.workflow.getHandle(result.workflowId).query('__temporal_workflow_metadata')) as {
      currentDetails?: string;
    };
    assert.ok(meta.currentDetails?.includes(result.locked.message), meta.currentDetails);
    assert.match(meta.currentDetails ?? '', /Object Lock of \d+ objects renewed until /);

    // The record says the same as the result.
    const reader = await openConfiguredRepository(cfg.config);
    try {
      const rec = await reader.records.get<PruneResult>(PRUNE_RECORD_KIND, result.recordId);
      assert.deepEqual(rec?.body.locked, result.locked);
      assert.deepEqual(rec?.body.lockExtension, result.lockExtension);
      assert.deepEqual(rec?.body.skipped, result.skipped);
    } finally {
      await reader.close();
    }

    // The skipped point is still listed, and restores exactly.
    const after = await lifeboat(cfg, 'list');
    assert.deepEqual((after.doc.recoveryPoints as { id: string }[]).map((p) => p.id).sort(), [older, newer]);
    const rs = await lifeboat(cfg, 'restore', older, '--wait', '--no-safety-backup');
    assert.equal(rs.code, 0, rs.stderr);
    assert.deepEqual(snapshotDiff(await redisSnapshot(redis.url, 0), olderData), []);
  } finally {
    await w.stop();
  }
});
