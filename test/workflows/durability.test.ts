/**
 * Durability: the worker is SIGKILLed in the middle of a backup and of a
 * restore, and the Temporal server is restarted mid-workflow; a new worker
 * (or the restarted server) finishes the job and the data is exact.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { Redis } from 'ioredis';
import { backupWorkflow, restoreWorkflow } from '../../workflows';
import { startRedis, type RedisServer } from '../servers/redis';
import { startTemporalDevServer } from '../servers/temporal';
import { freePort } from '../servers/process';
import { initRepository } from '../../repository';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { redisSnapshot, sha256, snapshotDiff, writeFaissIndex } from './helpers';
import { spawnWorker, readLog, type WorkerProcess } from './worker-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const step = (what: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
let dir: string;
let redis: RedisServer;
let faissFile: string;
let faissBytes: Buffer;
let cfg: TestConfig;
let connection: Connection;
let client: Client;
const workers: WorkerProcess[] = [];

/** Enough data that a backup or restore takes a few seconds. */
async function seedBig(url: string) {
  const r = new Redis(url);
  await r.flushall();
  const value = 'v'.repeat(200);
  for (let batch = 0; batch < 30; batch++) {
    const p = r.pipeline();
    for (let i = 0; i < 10_000; i++) p.set(`k:${batch}:${i}`, `${value}${batch}:${i}`);
    for (let i = 0; i < 100; i++) p.hset(`h:${batch}:${i}`, { a: String(i), b: value });
    await p.exec();
  }
  await r.set('with-ttl', 'x', 'PX', 3_600_000);
  r.disconnect();
}

/** Waits until an activity of `type` is running, by polling the workflow's pending activities. */
async function waitForActivity(h: WorkflowHandle, type: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const d = await h.describe();
    const p = d.raw.pendingActivities?.find((a) => a.activityType?.name === type);
    // Started (not just scheduled) by a worker.
    if (p?.lastStartedTime) return;
    await sleep(50);
  }
  throw new Error(`activity ${type} never started`);
}

/** Highest attempt number an activity of `type` reached, from the history. */
async function maxAttempt(h: WorkflowHandle, type: string): Promise<number> {
  const events = (await h.fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  let max = 0;
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes)
      scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    const st = e.activityTaskStartedEventAttributes;
    if (st && scheduled.get(String(st.scheduledEventId)) === type) max = Math.max(max, st.attempt ?? 0);
  }
  return max;
}

before(async () => {
  dir = scratchDir('durability');
  redis = await startRedis(path.join(dir, 'redis'));
  faissFile = path.join(dir, 'faiss', 'big.index');
  mkdirSync(path.dirname(faissFile), { recursive: true });
  await seedBig(redis.url);
  faissBytes = writeFaissIndex(faissFile, 7, 200_000);
  cfg = makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: redis.url, db: 0 },
      { name: 'vectors', type: 'faiss', path: faissFile, probe: false },
    ],
  });
  await (await initRepository({ url: cfg.config.repository.url }, Object.values(cfg.env)[0])).close();
  connection = await Connection.connect({ address: cfg.config.temporal.address });
  client = new Client({ connection });
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await connection?.close();
  await redis?.stop();
});

const newWorker = (tag: string) => {
  const w = spawnWorker(cfg.file, cfg.env, path.join(dir, `worker-${tag}.log`));
  workers.push(w);
  return w;
};

test('SIGKILL of the worker mid-backup and mid-restore: a new worker finishes both, data exact', async () => {
  const redisBefore = await redisSnapshot(redis.url);

  step('seeded');
  let w = newWorker('1');
  const backup = await client.workflow.start(backupWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `dur-backup-${randomUUID().slice(0, 8)}`,
    args: [{}],
  });
  await waitForActivity(backup, 'backupSource');
  await sleep(300);
  await w.kill('SIGKILL');
  step('killed worker mid-backup');
  w = newWorker('2');
  const b = await backup.result();
  step('backup finished');
  assert.ok(
    (await maxAttempt(backup, 'backupSource')) >= 2,
    'the killed backup activity was retried by the new worker',
  );
  assert.equal(b.sources.find((s) => s.source === 'meta')!.items, 303_001);

  // Damage the live data, then restore with a crash in the middle.
  const r = new Redis(redis.url);
  await r.flushall();
  await r.set('junk', '1');
  r.disconnect();
  writeFaissIndex(faissFile, 8, 1000);

  const restore = await client.workflow.start(restoreWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `dur-restore-${randomUUID().slice(0, 8)}`,
    args: [{ recoveryPointId: b.recoveryPointId }],
  });
  await waitForActivity(restore, 'restoreSource');
  await sleep(300);
  await w.kill('SIGKILL');
  step('killed worker mid-restore');
  w = newWorker('3');
  const res = await restore.result();
  step('restore finished');
  assert.equal(res.ok, true, JSON.stringify(res));
  assert.ok(
    (await maxAttempt(restore, 'restoreSource')) >= 2 || (await maxAttempt(restore, 'safetyBackup')) >= 2,
    'an activity was cut off and retried',
  );

  assert.deepEqual(
    snapshotDiff(await redisSnapshot(redis.url), redisBefore),
    [],
    'Redis equals its state at backup time',
  );
  assert.equal(sha256(readFileSync(faissFile)), sha256(faissBytes));
  await w.kill('SIGTERM');
});

test('restarting the Temporal server (same database) mid-workflow: the backup still finishes', async () => {
  const sdir = scratchDir('temporal-restart');
  const port = await freePort();
  const dbFile = path.join(sdir, 'temporal.db');
  let server = await startTemporalDevServer({ dbFile, port });
  const own = makeTestConfig({
    sources: [{ name: 'meta', type: 'redis', url: redis.url, db: 0 }],
    extra: {},
  });
  // Same repository as above, other Temporal server.
  const raw = readFileSync(own.file, 'utf8').replace(/address: .*/, `address: 127.0.0.1:${port}`);
  const file = path.join(sdir, 'lifeboat.yaml');
  (await import('node:fs')).writeFileSync(file, raw);
  await (await initRepository({ url: own.config.repository.url }, Object.values(own.env)[0])).close();
  const w = spawnWorker(file, own.env, path.join(sdir, 'worker.log'));
  workers.push(w);
  let conn = await Connection.connect({ address: `127.0.0.1:${port}` });
  try {
    const c = new Client({ connection: conn });
    const workflowId = `dur-restart-${randomUUID().slice(0, 8)}`;
    const h = await c.workflow.start(backupWorkflow, { taskQueue: own.taskQueue, workflowId, args: [{}] });
    await waitForActivity(h, 'backupSource');
    await server.stop();
    await sleep(1000);
    server = await startTemporalDevServer({ dbFile, port });
    await conn.close();
    conn = await Connection.connect({ address: `127.0.0.1:${port}` });
    const res = await new Client({ connection: conn }).workflow.getHandle(workflowId).result();
    assert.match(res.recoveryPointId, /^\d{8}T\d{6}Z-/);
    assert.equal(res.sources[0].items, 303_001);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nworker log:\n${readLog(path.join(sdir, 'worker.log')).slice(-3000)}`);
  } finally {
    await w.kill('SIGTERM');
    await conn.close();
    await server.stop();
  }
});
