/**
 * Issue 10: a drill that is cancelled in the middle of its restore, and one whose worker is
 * SIGKILLed in the middle of its restore. Real servers and a worker in its own process (so it
 * can die like a crashed machine). Either way every scratch target goes — the throw-away
 * redis-server, the scratch folder, the temporary collection — and production is never written.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { CancelledFailure, Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { QdrantClient } from '@qdrant/js-client-rest';
import { Redis } from 'ioredis';
import { backupWorkflow, drillWorkflow } from '../../workflows';
import { drillIdFor, type DrillRecord } from '../../lib/drill';
import { initRepository } from '../../repository';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir, testEnv } from '../harness/env';
import { startRedis, type RedisServer } from '../servers/redis';
import { qdrantSnapshot, redisSnapshot, seedQdrant, snapshotDiff } from './helpers';
import { spawnWorker, readLog, type WorkerProcess } from './worker-process';
import {
  assertNothingLeft,
  drillCollections,
  drillDir,
  processesMentioning,
  scratchRedisPorts,
  storedDrillRecord,
} from './drill-helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir: string;
let redis: RedisServer;
let qdrant: QdrantClient;
let collection: string;
let cfg: TestConfig;
let connection: Connection;
let client: Client;
let pointId: string;
const workers: WorkerProcess[] = [];

/** Enough keys that restoring them into the scratch server takes a few seconds. */
async function seedBig(url: string) {
  const r = new Redis(url);
  await r.flushall();
  const value = 'v'.repeat(200);
  for (let batch = 0; batch < 20; batch++) {
    const p = r.pipeline();
    for (let i = 0; i < 10_000; i++) p.set(`k:${batch}:${i}`, `${value}${batch}:${i}`);
    await p.exec();
  }
  r.disconnect();
}

const newWorker = (tag: string) => {
  const w = spawnWorker(cfg.file, cfg.env, path.join(dir, `worker-${tag}.log`));
  workers.push(w);
  return w;
};
const logs = () => workers.map((w) => readLog(w.log).slice(-2000)).join('\n---\n');

before(async () => {
  dir = scratchDir('drill-durability');
  redis = await startRedis(path.join(dir, 'redis'));
  await seedBig(redis.url);
  collection = `drilldur-${randomUUID().slice(0, 6)}`;
  qdrant = new QdrantClient({ url: testEnv().qdrant.url, checkCompatibility: false });
  await seedQdrant(qdrant, collection, 3);
  cfg = makeTestConfig({
    sources: [
      // Qdrant first, so its temporary collection exists while the big Redis keyspace is restored.
      { name: 'docs', type: 'qdrant', url: testEnv().qdrant.url, collection, mode: 'snapshot', restoreOrder: 1 },
      { name: 'meta', type: 'redis', url: redis.url, db: 0, restoreOrder: 2 },
    ],
  });
  await (await initRepository({ url: cfg.config.repository.url }, Object.values(cfg.env)[0])).close();
  connection = await Connection.connect({ address: cfg.config.temporal.address });
  client = new Client({ connection, namespace: cfg.config.temporal.namespace });
  newWorker('0');
  const b = await client.workflow.execute(backupWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `drilldur-backup-${randomUUID().slice(0, 8)}`,
    args: [{}],
  });
  pointId = b.recoveryPointId;
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await connection?.close();
  await redis?.stop();
});

async function production() {
  return { redis: await redisSnapshot(redis.url), qdrant: await qdrantSnapshot(qdrant, collection) };
}

/** Waits until the drill's child restore runs restoreSource (started by a worker, not just scheduled). */
async function waitForRestoreSource(drill: WorkflowHandle, timeoutMs = 120_000): Promise<WorkflowHandle> {
  const child = client.workflow.getHandle(`${drill.workflowId}-restore`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const d = await child.describe().catch(() => undefined);
    if (d?.raw.pendingActivities?.some((a) => a.activityType?.name === 'restoreSource' && a.lastStartedTime))
      return child;
    if (d && d.status.name !== 'RUNNING') throw new Error(`the drill's restore ended (${d.status.name}) first`);
    await sleep(100);
  }
  throw new Error(`restoreSource of ${drill.workflowId} never started\n${logs()}`);
}

/** The scratch targets the drill has set up, as seen from outside (the drill's folder and processes, collections). */
async function scratchInUse(drillId: string) {
  const folder = drillDir(cfg.config, drillId);
  return {
    folder: existsSync(folder),
    processes: processesMentioning(folder).length,
    collections: (await drillCollections(qdrant, drillId)).length,
  };
}

const drillIdOf = async (h: WorkflowHandle): Promise<string> => {
  const d = await h.describe();
  // The id is the start time plus the run id's tail (lib/drill.ts drillIdFor).
  return drillIdFor(d.startTime, d.runId);
};

test('a drill cancelled in the middle of its restore removes every scratch target and records the cancellation', async () => {
  const before = await production();
  const h = await client.workflow.start(drillWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `drilldur-cancel-${randomUUID().slice(0, 8)}`,
    args: [{ trigger: 'test' }],
  });
  const restore = await waitForRestoreSource(h);
  const drillId = await drillIdOf(h);
  // Wait until the temporary collection exists too: then all three kinds of scratch target are there.
  for (let i = 0; i < 600 && (await scratchInUse(drillId)).collections === 0; i++) await sleep(100);
  const inUse = await scratchInUse(drillId);
  assert.deepEqual(
    { folder: inUse.folder, server: inUse.processes > 0, collection: inUse.collections > 0 },
    { folder: true, server: true, collection: true },
    'the drill had its scratch targets when it was cancelled',
  );
  assert.equal((await restore.describe()).status.name, 'RUNNING', 'still restoring when cancelled');
  await h.cancel();

  const e = await h.result().then(
    () => assert.fail('a cancelled drill does not complete'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof WorkflowFailedError && e.cause instanceof CancelledFailure, String(e));
  const rec = (await storedDrillRecord(cfg.config, drillId)) as DrillRecord;
  assert.ok(rec, 'the cancelled drill is recorded');
  assert.equal(rec.verdict, 'cancelled');
  assert.deepEqual((await h.describe()).searchAttributes.LifeboatPhase, ['cancelled']);
  assert.ok(rec.reasons.includes('drill was cancelled'), rec.reasons.join('; '));
  assert.equal(rec.recoveryPointId, pointId);
  assert.equal(rec.cleanup.ok, true, rec.cleanup.failures.join('; '));
  assert.ok(
    rec.cleanup.removed.some((x) => /redis-server pid \d+ \(meta\) stopped/.test(x)),
    rec.cleanup.removed.join('; '),
  );
  // The collection may already be gone with the cancelled restore's own rollback; either way none is left.
  await assertNothingLeft(cfg.config, drillId, { ports: scratchRedisPorts(rec), qdrant });
  const after = await production();
  assert.deepEqual(snapshotDiff(after.redis, before.redis), [], 'production Redis unchanged');
  assert.equal(after.qdrant, before.qdrant, 'production Qdrant unchanged');
});

test('SIGKILL of the worker in the middle of a drill: a new worker completes the drill, which passes and cleans up', async () => {
  const before = await production();
  const h = await client.workflow.start(drillWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `drilldur-kill-${randomUUID().slice(0, 8)}`,
    args: [{ trigger: 'test' }],
  });
  const restore = await waitForRestoreSource(h);
  await sleep(300);
  for (const w of workers) await w.kill('SIGKILL');
  const drillId = await drillIdOf(h);
  // The throw-away redis-server is detached: it outlives the worker, for the retried restore to use.
  assert.ok((await scratchInUse(drillId)).processes > 0, 'the scratch redis-server survived the worker');
  newWorker('after-kill');
  let r: DrillRecord;
  try {
    r = await h.result();
  } catch (e) {
    throw new Error(`${String(e)}\n${logs()}`);
  }
  assert.equal(r.verdict, 'passed', r.reasons.join('; '));
  assert.equal(r.recoveryPointId, pointId);
  const events = (await restore.fetchHistory()).events ?? [];
  assert.ok(
    events.some((ev) => (ev.activityTaskStartedEventAttributes?.attempt ?? 0) >= 2),
    'an activity of the restore was cut off and retried by the new worker',
  );
  const byName = Object.fromEntries(r.sources.map((s) => [s.source, s]));
  assert.equal(byName.meta.items, 200_000);
  assert.equal(byName.docs.items, 200);
  assert.equal(r.cleanup.ok, true, r.cleanup.failures.join('; '));
  await assertNothingLeft(cfg.config, drillId, { ports: scratchRedisPorts(r), qdrant });
  assert.deepEqual(await storedDrillRecord(cfg.config, drillId), r);
  const after = await production();
  assert.deepEqual(snapshotDiff(after.redis, before.redis), [], 'production Redis unchanged');
  assert.equal(after.qdrant, before.qdrant, 'production Qdrant unchanged');
});
