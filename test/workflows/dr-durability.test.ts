import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import { backupWorkflow } from '../../workflows';
import { createDrClient, type DrClient } from '../../client/dr';
import {
  makeStores,
  qdrantSnapshot,
  redisSnapshot,
  seedQdrant,
  seedRedis,
  snapshotDiff,
  writeFaissIndex,
  type Stores,
} from './helpers';
import { spawnWorker, readLog, type WorkerProcess } from './worker-process';

/** SIGKILL of the worker (its own process) while the DR recovers: a new worker finishes it, exactly. */

let stores: Stores;
let connection: Connection;
let client: Client;
let dr: DrClient;
let worker: WorkerProcess | undefined;

before(async () => {
  stores = await makeStores('drk');
  connection = await Connection.connect({ address: stores.cfg.config.temporal.address });
  client = new Client({ connection, namespace: stores.cfg.config.temporal.namespace });
  dr = createDrClient(stores.cfg.config, { temporalClient: client });
});

after(async () => {
  await worker?.kill();
  await connection?.close();
  await stores?.stop();
});

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 240_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; worker log:\n${worker ? readLog(worker.log).slice(-3000) : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('SIGKILL of the worker during recovery: a new worker completes the DR and every store is exact', async () => {
  const log = (n: number) => path.join(stores.cfg.dir, `worker-${n}.log`);
  worker = spawnWorker(stores.cfg.file, stores.cfg.env, log(1));
  await seedRedis(stores.redis.url, 'k');
  mkdirSync(stores.faissDir, { recursive: true });
  const faiss = writeFaissIndex(stores.faissFile, 9);
  await seedQdrant(stores.qdrant, stores.collection, 9);
  const redisBefore = await redisSnapshot(stores.redis.url);
  const qdrantBefore = await qdrantSnapshot(stores.qdrant, stores.collection);
  await (
    await client.workflow.start(backupWorkflow, {
      taskQueue: stores.cfg.taskQueue,
      workflowId: `test-drk-backup-${randomUUID().slice(0, 8)}`,
      args: [{}],
    })
  ).result();
  const r = new Redis(stores.redis.url);
  await r.flushall();
  r.disconnect();
  rmSync(stores.faissFile);
  await stores.qdrant.deleteCollection(stores.collection);

  const incident = `KILL-${randomUUID().slice(0, 6)}`;
  await dr.declare({ incidentId: incident, severity: 'sev1', declaredBy: 'k', reason: 'sigkill test' });
  const s = await waitFor('approval', async () => {
    const st = await dr.status(incident);
    return st.phase === 'awaiting-approval' ? st : undefined;
  });
  await dr.approve(incident, { as: 'dana', planVersion: s.plan!.version });
  await waitFor('recovering', async () => ((await dr.status(incident)).phase === 'recovering' ? true : undefined));
  await worker.kill('SIGKILL');
  worker = spawnWorker(stores.cfg.file, stores.cfg.env, log(2));
  const report = await dr.result(incident);
  assert.equal(report.outcome, 'recovered', report.reason);
  assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), redisBefore), []);
  assert.ok(readFileSync(stores.faissFile).equals(faiss), 'FAISS file bytes');
  assert.equal(await qdrantSnapshot(stores.qdrant, stores.collection), qdrantBefore);
});
