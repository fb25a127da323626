import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError, type ApplicationFailure } from '@temporalio/client';
import { createActivities } from '../../activities';
import { createLifeboatWorker } from '../../workers/worker';
import { backupWorkflow } from '../../workflows';
import { createDrClient, type DrClient } from '../../client/dr';
import { ErrorCode } from '../../lib/error-codes';
import type { DrReport } from '../../lib/dr';
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

/**
 * The last group fails and its restore child cannot roll one of its targets back: another writer
 * replaced the FAISS index file between the restore and the rollback (done here, in the worker,
 * right before the real compensation runs, so the timing is exact). The real FAISS rollback then
 * refuses to destroy that newer file. The DR must report that group as `rollback-failed` (not as
 * rolled back), still roll the earlier group back, and fail with ROLLBACK_FAILED naming the source
 * and its safety point.
 */

let stores: Stores;
let dr: DrClient;
let stop: () => Promise<void>;
let client: Client;
let replacement: Buffer | undefined;

before(async () => {
  stores = await makeStores('drr');
  const config = stores.cfg.config;
  const activities = createActivities({ config, testHooks: { injectedFailures: true } });
  const compensate = activities.compensateRestore;
  activities.compensateRestore = async (input) => {
    if (input.source === 'vectors' && !replacement) {
      // Someone else writes a new index (a new file renamed over the target, as index builders do).
      const tmp = `${stores.faissFile}.other-writer`;
      writeFaissIndex(tmp, 77);
      renameSync(tmp, stores.faissFile);
      replacement = readFileSync(stores.faissFile);
    }
    return compensate(input);
  };
  const { worker, connection: wc } = await createLifeboatWorker({
    address: config.temporal.address,
    taskQueue: config.temporal.taskQueue,
    activities,
    preferBundle: false,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
  dr = createDrClient(config, { temporalClient: client });
  stop = async () => {
    worker.shutdown();
    await running;
    await activities.closeActivities();
    await wc.close();
    await connection.close();
  };
});

after(async () => {
  await stop?.();
  await stores?.stop();
});

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 180_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test("a group whose child's own rollback fails is reported rollback-failed; the earlier group is still rolled back", async () => {
  await seedRedis(stores.redis.url, 's4');
  mkdirSync(stores.faissDir, { recursive: true });
  writeFaissIndex(stores.faissFile, 4);
  await seedQdrant(stores.qdrant, stores.collection, 4);
  await (
    await client.workflow.start(backupWorkflow, {
      taskQueue: stores.cfg.taskQueue,
      workflowId: `test-drr-backup-${randomUUID().slice(0, 8)}`,
      args: [{}],
    })
  ).result();
  // The state before the DR (different from the backup), which every rolled-back store must show again.
  await seedRedis(stores.redis.url, 's5');
  writeFaissIndex(stores.faissFile, 5);
  await seedQdrant(stores.qdrant, stores.collection, 5);
  const redisBefore = await redisSnapshot(stores.redis.url);
  const qdrantBefore = await qdrantSnapshot(stores.qdrant, stores.collection);

  const incident = `RBF-${randomUUID().slice(0, 6)}`;
  await dr.declare({
    incidentId: incident,
    severity: 'sev1',
    sources: ['meta', 'vectors', 'docs'],
    declaredBy: 'fay',
    reason: 'failing recovery whose rollback fails',
    injectVerifyFailure: 'docs',
  });
  const s = await waitFor('approval', async () => {
    const st = await dr.status(incident);
    return st.phase === 'awaiting-approval' ? st : undefined;
  });
  assert.deepEqual(
    s.plan!.groups.map((g) => g.sources),
    [['meta'], ['docs', 'vectors']],
  );
  await dr.approve(incident, { as: 'fay', planVersion: s.plan!.version });

  await assert.rejects(dr.result(incident), (e: Error) => {
    assert.ok(e instanceof WorkflowFailedError, String(e));
    const cause = e.cause as ApplicationFailure;
    assert.equal(cause.type, ErrorCode.ROLLBACK_FAILED, cause.message);
    assert.match(cause.message, /group 2 failed/);
    assert.match(cause.message, /ROLLBACK FAILED: vectors: .*replaced by someone else/s);
    return true;
  });
  assert.ok(replacement, 'the other writer ran');

  const report = (await dr.report(incident)) as DrReport;
  assert.equal(report.outcome, 'failed');
  assert.deepEqual(
    report.groups.map((g) => [g.index, g.status]),
    [
      [1, 'rolled-back'],
      [2, 'rollback-failed'],
    ],
  );
  assert.deepEqual([...report.rolledBack].sort(), ['docs', 'meta'], 'vectors is not claimed rolled back');
  assert.equal(report.rollbackFailures.length, 1, JSON.stringify(report.rollbackFailures));
  assert.match(report.rollbackFailures[0], /^vectors: .* restore it from safety point \d{8}T\d{6}Z-\w+$/);
  assert.match(report.groups[1].error ?? '', /verification of docs failed/);
  // The earlier group and the child's other source are back exactly; the other writer's file is kept.
  assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), redisBefore), []);
  assert.equal(await qdrantSnapshot(stores.qdrant, stores.collection), qdrantBefore);
  assert.ok(readFileSync(stores.faissFile).equals(replacement!), 'the newer FAISS file was not destroyed');
  const st = await dr.status(incident);
  assert.equal(st.phase, 'failed');
});
