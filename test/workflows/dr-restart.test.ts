import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { backupWorkflow } from '../../workflows';
import { createDrClient } from '../../client/dr';
import { scratchDir } from '../harness/env';
import { startTemporalDevServer, type TemporalDevServer } from '../servers/temporal';
import { makeStores, redisSnapshot, seedRedis, snapshotDiff, startWorkerFor, type Stores } from './helpers';

/**
 * A Temporal dev-server restart while a DR waits for approval: the shared server of the test run
 * cannot be restarted, so this file starts its own (SQLite file database), with its own worker.
 * The server is stopped and started again on the same database and port; the incident is still
 * waiting with the same plan, the approval is accepted, and Redis is restored exactly.
 */

let server: TemporalDevServer | undefined;
let stores: Stores;
let w: Awaited<ReturnType<typeof startWorkerFor>> | undefined;
let dbFile: string;

before(async () => {
  dbFile = path.join(scratchDir('drt-temporal'), 'temporal.db');
  server = await startTemporalDevServer({ dbFile });
  stores = await makeStores('drt', [], {
    temporal: {
      address: server.address,
      namespace: server.namespace,
      taskQueue: `lifeboat-drt-${randomUUID().slice(0, 8)}`,
    },
  });
});

after(async () => {
  await w?.stop().catch(() => undefined);
  await server?.stop();
  await stores?.stop();
});

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 180_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('Temporal dev-server restart while the DR waits for approval: it keeps waiting, is approved, restores exactly', async () => {
  const config = stores.cfg.config;
  w = await startWorkerFor(config);
  await seedRedis(stores.redis.url, 'restart');
  const original = await redisSnapshot(stores.redis.url);
  const rp = (
    await (
      await w.client.workflow.start(backupWorkflow, {
        taskQueue: config.temporal.taskQueue,
        workflowId: `test-drt-backup-${randomUUID().slice(0, 8)}`,
        args: [{ sources: ['meta'] }],
      })
    ).result()
  ).recoveryPointId;
  const r = new Redis(stores.redis.url);
  await r.flushall();
  r.disconnect();

  const incident = `RST-${randomUUID().slice(0, 6)}`;
  let dr = createDrClient(config, { temporalClient: w.client });
  await dr.declare({ incidentId: incident, severity: 'sev1', sources: ['meta'], declaredBy: 'r', reason: 'restart' });
  const waiting = await waitFor('approval', async () => {
    const s = await dr.status(incident);
    return s.phase === 'awaiting-approval' ? s : undefined;
  });
  assert.equal(waiting.plan!.recoveries[0].recoveryPointId, rp);

  // Stop the worker first (it would only log poll errors while the server is down), then the server.
  await w.stop();
  w = undefined;
  const address = server!.address;
  await server!.stop();
  server = await startTemporalDevServer({ dbFile, port: Number(address.split(':')[1]) });
  assert.equal(server.address, address, 'same address after the restart');
  w = await startWorkerFor(config);
  dr = createDrClient(config, { temporalClient: w.client });

  const after = await waitFor('the incident after the restart', async () => {
    const s = await dr.status(incident);
    return s.phase === 'awaiting-approval' ? s : undefined;
  });
  assert.equal(after.plan!.version, waiting.plan!.version, 'the same plan survived the restart');
  assert.equal(after.workflowStatus, 'RUNNING');
  assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), new Map()), [], 'nothing restored yet');

  await dr.approve(incident, { as: 'erin', planVersion: after.plan!.version });
  const report = await dr.result(incident);
  assert.equal(report.outcome, 'recovered', report.reason);
  assert.equal(report.approvedBy, 'erin');
  assert.deepEqual(
    report.groups.map((g) => [g.sources, g.recoveryPointId, g.status]),
    [[['meta'], rp, 'restored']],
  );
  assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), original), []);
  assert.ok(
    report.validation.every((v) => v.ok),
    JSON.stringify(report.validation),
  );
});
