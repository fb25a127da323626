/**
 * `lifeboat prune` through the real executable, a real worker, Temporal, Redis, a local disk and
 * MinIO: the retention policy forgets what it should (a held point survives, and goes at the next
 * prune once unheld), the freed bytes reported equal the bytes that disappeared from the backend
 * (measured independently: files on disk, S3 object listings), a dry run predicts exactly what the
 * real prune then removes and changes nothing, `lifeboat stats` tells the truth, and the locks and
 * temp files a killed writer leaves behind are removed only once provably dead.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { openRepository, type Repository } from '../../repository';
import { PRUNE_RECORD_KIND, type PruneResult } from '../../lib/prune';
import { projectRoot } from '../servers/tools';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir, testEnv } from '../harness/env';
import { startRedis, type RedisServer } from '../servers/redis';
import { redisSnapshot, seedRedis, snapshotDiff, startWorkerFor } from './helpers';
import { createLifeboatClient } from '../../client';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let redis: RedisServer;

before(async () => {
  redis = await startRedis(path.join(scratchDir('prune-redis'), 'redis'));
});
after(async () => {
  await redis?.stop();
});

interface Backend {
  name: string;
  cfg: TestConfig;
  /** Every stored object -> size, read straight from the disk or from S3 (not through Lifeboat). */
  objects(): Promise<Map<string, number>>;
  /** Sets an object's mtime back (local disk only): "this much time has passed". */
  age?(key: string, ms: number): Promise<void>;
}

function localBackend(extra: Record<string, unknown> = {}): Backend {
  const cfg = makeTestConfig({
    sources: [{ name: 'meta', type: 'redis', url: redis.url, db: 0 }],
    password: 'pw',
    extra: { retention: { keepLast: 1 }, ...extra },
  });
  const root = (cfg.config.repository as { path: string }).path;
  return {
    name: 'local disk',
    cfg,
    async objects() {
      const out = new Map<string, number>();
      const walk = async (rel: string) => {
        for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
          const k = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) await walk(k);
          else out.set(k, (await fs.stat(path.join(root, k))).size);
        }
      };
      await walk('');
      return out;
    },
    async age(key, ms) {
      const t = new Date(Date.now() - ms);
      await fs.utimes(path.join(root, key), t, t);
    },
  };
}

function minioBackend(): Backend {
  const m = testEnv().minio;
  const prefix = `prune-tests/${randomUUID().slice(0, 8)}`;
  const keyEnv = `LIFEBOAT_TEST_S3_KEY_${randomUUID().slice(0, 6).toUpperCase()}`;
  const secretEnv = `LIFEBOAT_TEST_S3_SECRET_${randomUUID().slice(0, 6).toUpperCase()}`;
  process.env[keyEnv] = m.accessKeyId;
  process.env[secretEnv] = m.secretAccessKey;
  const passwordEnv = `LIFEBOAT_TEST_PW_${randomUUID().slice(0, 6).toUpperCase()}`;
  const cfg = makeTestConfig({
    sources: [{ name: 'meta', type: 'redis', url: redis.url, db: 1 }],
    passwordEnv,
    password: 'pw',
    extra: {
      retention: { keepLast: 1 },
      repository: {
        url: `s3://${m.bucket}/${prefix}`,
        password: { env: passwordEnv },
        s3: {
          endpoint: m.endpoint,
          region: m.region,
          forcePathStyle: true,
          accessKeyId: { env: keyEnv },
          secretAccessKey: { env: secretEnv },
        },
      },
    },
  });
  cfg.env[keyEnv] = m.accessKeyId;
  cfg.env[secretEnv] = m.secretAccessKey;
  const s3 = new S3Client({
    endpoint: m.endpoint,
    region: m.region,
    forcePathStyle: true,
    credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
  });
  return {
    name: 'MinIO',
    cfg,
    async objects() {
      const out = new Map<string, number>();
      let token: string | undefined;
      do {
        const r = await s3.send(
          new ListObjectsV2Command({ Bucket: m.bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
        );
        for (const o of r.Contents ?? []) out.set(o.Key!.slice(prefix.length + 1), o.Size ?? 0);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
  };
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

/** Bytes of the chunks and artifact indexes: what prune deletes and reports as freed. */
const dataBytes = (objects: Map<string, number>) =>
  [...objects].filter(([k]) => k.startsWith('data/') || k.startsWith('artifacts/')).reduce((n, [, s]) => n + s, 0);

async function ids(cfg: TestConfig): Promise<string[]> {
  const l = await lifeboat(cfg, 'list');
  assert.equal(l.code, 0, l.stderr);
  return (l.doc.recoveryPoints as { id: string }[]).map((p) => p.id).sort();
}

async function pruneOk(cfg: TestConfig): Promise<PruneResult> {
  // 1s grace: the data of the forgotten points is seconds old in a test, not a day.
  const p = await lifeboat(cfg, 'prune', '--wait', '--grace', '1s');
  assert.equal(p.code, 0, `${p.stderr}\n${JSON.stringify(p.doc)}`);
  return p.doc.result as PruneResult;
}

async function scenario(b: Backend) {
  const { cfg } = b;
  const db = b.name === 'MinIO' ? 1 : 0;
  const w = await startWorkerFor(cfg.config);
  let repo: Repository | undefined;
  try {
    const init = await lifeboat(cfg, 'init');
    assert.equal(init.code, 0, init.stderr);
    const snapshots: Map<string, string>[] = [];
    for (let i = 0; i < 3; i++) {
      await seedRedis(redis.url, `${b.name}-v${i}`, db);
      snapshots.push(await redisSnapshot(redis.url, db));
      const r = await lifeboat(cfg, 'backup', '--wait');
      assert.equal(r.code, 0, r.stderr);
    }
    const [oldest, middle, newest] = await ids(cfg);
    assert.equal((await lifeboat(cfg, 'hold', oldest, '--reason', 'case 42')).code, 0);
    await sleep(1500); // past the 1s grace

    // Dry run: the plan and the prediction, nothing removed.
    const beforeDry = await b.objects();
    const dry = await lifeboat(cfg, 'prune', '--dry-run', '--grace', '1s');
    assert.equal(dry.code, 0, dry.stderr);
    const plan = dry.doc.plan as { id: string; keep: boolean; reasons: string[] }[];
    assert.deepEqual(
      plan.map((d) => [d.id, d.keep, d.reasons]),
      [
        [newest, true, ['meta: last 1', 'meta: newest verified']],
        [middle, false, []],
        [oldest, true, ['hold: case 42']],
      ],
    );
    const predicted = dry.doc.data as { deletedBytes: number; deletedChunks: number; deletedIndexes: number };
    assert.ok(predicted.deletedBytes > 0, 'the dry run predicts nothing to free');
    assert.deepEqual(await b.objects(), beforeDry, 'the dry run changed the repository');
    assert.deepEqual(await ids(cfg), [oldest, middle, newest]);

    // The real prune: the middle point goes, the held one stays.
    const first = await pruneOk(cfg);
    const afterFirst = await b.objects();
    assert.deepEqual(first.forgotten, [middle]);
    assert.equal(first.pointsRemoved, 1);
    assert.equal(first.freedBytes, dataBytes(beforeDry) - dataBytes(afterFirst), 'freed bytes ≠ bytes that went');
    assert.equal(first.freedBytes, predicted.deletedBytes, 'the dry run predicted other bytes than were freed');
    assert.equal(first.deletedObjects, predicted.deletedChunks + predicted.deletedIndexes);
    assert.deepEqual(await ids(cfg), [oldest, newest]);

    // Everything left verifies with read-data, and the held point restores exactly.
    repo = await openRepository(
      b.name === 'MinIO'
        ? {
            url: cfg.config.repository.url,
            s3: {
              endpoint: testEnv().minio.endpoint,
              region: testEnv().minio.region,
              forcePathStyle: true,
              credentials: {
                accessKeyId: testEnv().minio.accessKeyId,
                secretAccessKey: testEnv().minio.secretAccessKey,
              },
            },
          }
        : { url: cfg.config.repository.url },
      'pw',
    );
    const v = await repo.verify({ readData: true });
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.equal(v.recoveryPoints, 2);
    const rs = await lifeboat(cfg, 'restore', oldest, '--wait', '--no-safety-backup');
    assert.equal(rs.code, 0, rs.stderr);
    assert.deepEqual(snapshotDiff(await redisSnapshot(redis.url, db), snapshots[0]), []);

    // A second prune with the hold still there removes nothing more.
    const again = await pruneOk(cfg);
    assert.deepEqual([again.pointsRemoved, again.freedBytes], [0, 0]);

    // Unhold: the next prune removes it.
    assert.equal((await lifeboat(cfg, 'unhold', oldest)).code, 0);
    const beforeThird = await b.objects();
    const third = await pruneOk(cfg);
    assert.deepEqual(third.forgotten, [oldest]);
    assert.ok(third.freedBytes > 0);
    assert.equal(third.freedBytes, dataBytes(beforeThird) - dataBytes(await b.objects()));
    assert.deepEqual(await ids(cfg), [newest]);

    // Each run left its record (what the metrics read).
    const records = await repo.records.list<PruneResult>(PRUNE_RECORD_KIND);
    assert.deepEqual(
      records.records.map((r) => [r.body.ok, r.body.pointsRemoved, r.body.freedBytes]),
      [
        [true, 1, first.freedBytes],
        [true, 0, 0],
        [true, 1, third.freedBytes],
      ],
    );

    // stats agrees with the backend and the points.
    const st = await lifeboat(cfg, 'stats');
    assert.equal(st.code, 0, st.stderr);
    const stats = st.doc.stats as {
      bytes: number;
      objects: number;
      recoveryPoints: number;
      logicalBytes: number;
      dedupRatio: number;
      chunkBytes: number;
      sources: {
        source: string;
        recoveryPoints: number;
        logicalBytes: number;
        oldest: { id: string };
        newest: { id: string };
      }[];
    };
    const objects = await b.objects();
    assert.equal(stats.objects, objects.size);
    assert.equal(
      stats.bytes,
      [...objects.values()].reduce((a, x) => a + x, 0),
    );
    const rp = await repo.getRecoveryPoint(newest);
    const logical = rp.artifacts.reduce((n, a) => n + a.size, 0);
    assert.equal(stats.recoveryPoints, 1);
    assert.equal(stats.logicalBytes, logical);
    assert.equal(stats.dedupRatio, logical / stats.chunkBytes);
    assert.deepEqual(
      stats.sources.map((s) => [s.source, s.recoveryPoints, s.logicalBytes, s.oldest.id, s.newest.id]),
      [['meta', 1, logical, newest, newest]],
    );
  } finally {
    await repo?.close();
    await w.stop();
  }
}

test('forget + prune on a local disk: held point survives, unheld goes next time; freed bytes = bytes gone', async () => {
  await scenario(localBackend());
});

test('forget + prune on MinIO: held point survives, unheld goes next time; freed bytes = bytes gone', async () => {
  await scenario(minioBackend());
});

/** A writer SIGKILLed mid-write (test/repository/fixtures/crash-writer.ts): leaves its lock, maybe temp files. */
async function killWriter(repoUrl: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'test', 'repository', 'fixtures', 'crash-writer.ts')],
    {
      cwd: projectRoot,
      env: { ...process.env, LIFEBOAT_CRASH_REPO: JSON.stringify({ url: repoUrl }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /written (\d+)/.exec(d.toString());
      if (m && Number(m[1]) > 4 << 20 && child.exitCode === null) child.kill('SIGKILL');
    });
    child.once('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited before being killed: ${stderr}`)),
    );
  });
}

test('stale locks and .tmp files of killed writers: kept while they may be alive, removed once provably dead', async () => {
  const b = localBackend();
  const { cfg } = b;
  const w = await startWorkerFor(cfg.config);
  try {
    assert.equal((await lifeboat(cfg, 'init')).code, 0);
    await seedRedis(redis.url, 'stale', 0);
    assert.equal((await lifeboat(cfg, 'backup', '--wait')).code, 0);
    const url = cfg.config.repository.url;
    // Three writers killed for real, each leaving its lock behind.
    for (let i = 0; i < 3; i++) await killWriter(url);
    // (A kill that lands while a writer rewrites its lock also leaves that write's temp file: not a lock.)
    const lockFiles = [...(await b.objects()).keys()].filter((k) => k.startsWith('locks/'));
    const lockTmps = lockFiles.filter((k) => k.includes('/.tmp-'));
    const locks = lockFiles.filter((k) => !k.includes('/.tmp-'));
    assert.equal(locks.length, 3, `expected 3 locks left by killed writers, found ${locks.join(', ')}`);
    // Temp files as an interrupted put leaves them: one long dead, one being written right now.
    const root = (cfg.config.repository as { path: string }).path;
    const deadTmp = 'data/ab/.tmp-9f3c2a1b0d4e5f60';
    const freshTmp = 'data/ac/.tmp-1a2b3c4d5e6f7081';
    for (const k of [deadTmp, freshTmp]) {
      await fs.mkdir(path.dirname(path.join(root, k)), { recursive: true });
      await fs.writeFile(path.join(root, k), Buffer.alloc(70_000, 7));
    }
    await b.age!(deadTmp, 2 * 86_400_000);

    // Fresh locks: their writers died seconds ago, which nothing can tell from a slow writer yet.
    const dry = await lifeboat(cfg, 'prune', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(
      [
        (dry.doc.data as { deletedLocks: number }).deletedLocks,
        (dry.doc.data as { deletedPartials: number }).deletedPartials,
      ],
      [0, 1],
    );
    const p1 = await lifeboat(cfg, 'prune', '--wait', '--grace', '1s');
    // Live-looking writer locks that never acknowledge: the prune deletes no data (deferred) after waiting.
    const r1 = p1.doc.result as PruneResult | undefined;
    const left1 = [...(await b.objects()).keys()];
    assert.ok(
      locks.every((l) => left1.includes(l)),
      'a lock not yet past its expiry was removed',
    );
    assert.ok(!left1.includes(deadTmp), 'the dead temp file is still there');
    assert.ok(left1.includes(freshTmp), 'a temp file still being written was removed');
    assert.equal(r1?.deletedTempFiles, 1, JSON.stringify(p1.doc));

    // Ten minutes later (lockStaleMs): nobody refreshed them, so their holders are dead.
    for (const l of [...locks, ...lockTmps]) await b.age!(l, 11 * 60_000);
    const p2 = await lifeboat(cfg, 'prune', '--wait', '--grace', '1s');
    assert.equal(p2.code, 0, p2.stderr);
    const r2 = p2.doc.result as PruneResult;
    assert.equal(r2.deletedLocks, 3);
    assert.equal(r2.ok, true);
    const left2 = [...(await b.objects()).keys()];
    assert.deepEqual(
      left2.filter((k) => k.startsWith('locks/')),
      [],
    );
    // The killed writers' chunks (never committed) went with them; the backup still verifies.
    const repo = await openRepository({ url }, 'pw');
    try {
      const v = await repo.verify({ readData: true });
      assert.equal(v.ok, true, JSON.stringify(v.problems));
    } finally {
      await repo.close();
    }
  } finally {
    await w.stop();
  }
});

test('the prune schedule starts pruneWorkflow for real: trigger "schedule", the policy applied, a record kept', async () => {
  const prefix = `lbprune-${randomUUID().slice(0, 8)}-`;
  const { cfg } = localBackend({ schedules: { prune: { every: '24h' } } });
  const w = await startWorkerFor(cfg.config);
  const lb = createLifeboatClient(cfg.config, { scheduleIdPrefix: prefix });
  try {
    assert.equal((await lifeboat(cfg, 'init')).code, 0);
    for (const v of ['s1', 's2']) {
      await seedRedis(redis.url, v, 0);
      assert.equal((await lifeboat(cfg, 'backup', '--wait')).code, 0);
    }
    const [older, newer] = await ids(cfg);
    assert.deepEqual((await lb.schedules.apply()).created, [`${prefix}prune`]);
    const schedule = w.client.schedule.getHandle(`${prefix}prune`);
    await schedule.trigger();
    let run: { workflowId: string; firstExecutionRunId: string } | undefined;
    for (let i = 0; i < 300 && !run; i++) {
      run = (await schedule.describe()).info.recentActions[0]?.action.workflow;
      if (!run) await sleep(100);
    }
    assert.ok(run, 'the triggered schedule started no workflow');
    assert.match(run.workflowId, new RegExp(`^${prefix}prune`));
    const h = w.client.workflow.getHandle(run.workflowId, run.firstExecutionRunId);
    assert.equal((await h.describe()).type, 'pruneWorkflow');
    const result = (await h.result()) as PruneResult;
    assert.equal(result.ok, true);
    assert.equal(result.trigger, 'schedule');
    assert.deepEqual(result.forgotten, [older]);
    assert.deepEqual(await ids(cfg), [newer]);
    const repo = await openRepository({ url: cfg.config.repository.url }, 'pw');
    try {
      const rec = await repo.records.get<PruneResult>(PRUNE_RECORD_KIND, result.recordId);
      assert.equal(rec?.body.trigger, 'schedule');
    } finally {
      await repo.close();
    }
  } finally {
    await w.client.schedule
      .getHandle(`${prefix}prune`)
      .delete()
      .catch(() => undefined);
    await lb.close();
    await w.stop();
  }
});
