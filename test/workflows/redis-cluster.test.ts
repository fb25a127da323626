/**
 * A Redis Cluster source through the real workflows: backup reads every
 * master, restore clears the source's keys on every master and puts each key
 * back on its slot's master. The harness' cluster is shared with other test
 * files, so the source's pattern keeps everything under a unique prefix — and
 * a key outside it shows the pattern is honoured.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { backupWorkflow, restoreWorkflow } from '../../workflows';
import { initRepository } from '../../repository';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { testEnv } from '../harness/env';
import { bulkSnapshot } from '../sources/redis-helpers';
import { snapshotDiff, startWorkerFor } from './helpers';

const prefix = `lbwf-${randomUUID().slice(0, 8)}:`;
const outside = `lbwf-outside-${randomUUID().slice(0, 8)}`;
const seeds = testEnv().redisCluster.seeds;
let cluster: Cluster;
let masters: Redis[];
let cfg: TestConfig;
let w: Awaited<ReturnType<typeof startWorkerFor>>;

/** The source's keys, read master by master. */
async function snapshot(): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const m of masters) for (const [k, v] of await bulkSnapshot(m, `${prefix}*`)) all.set(k, v);
  return all;
}

before(async () => {
  for (let attempt = 1; ; attempt++) {
    // A first connection dropped while the machine is loaded is retried.
    cluster = new Cluster(seeds);
    try {
      await cluster.ping();
      break;
    } catch (e) {
      cluster.disconnect();
      if (attempt === 3) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  masters = cluster.nodes('master').map((n) => new Redis({ host: n.options.host, port: n.options.port }));
  assert.equal(masters.length, 3);
  const ops: Promise<unknown>[] = [];
  for (let i = 0; i < 2000; i++) {
    const k = `${prefix}k${i}`;
    if (i % 4 === 0) ops.push(cluster.hset(k, 'f', String(i), 'g', 'x'.repeat(100)));
    else if (i % 4 === 1) ops.push(cluster.sadd(k, 'a', String(i)));
    else ops.push(cluster.set(k, `value-${i}`));
    if (i % 7 === 0) ops.push(cluster.pexpireat(k, Date.now() + 3_600_000 + i));
  }
  ops.push(cluster.set(outside, 'not in the pattern'));
  await Promise.all(ops);
  cfg = makeTestConfig({
    sources: [
      { name: 'shards', type: 'redis', cluster: seeds.map((s) => `${s.host}:${s.port}`), pattern: `${prefix}*` },
    ],
  });
  await (await initRepository({ url: cfg.config.repository.url }, Object.values(cfg.env)[0])).close();
  w = await startWorkerFor(cfg.config);
});

after(async () => {
  await w?.stop();
  for (const m of masters ?? []) {
    for (const hex of (await bulkSnapshot(m, `${prefix}*`)).keys()) await m.del(Buffer.from(hex, 'hex'));
    m.disconnect();
  }
  await cluster?.del(outside).catch(() => undefined);
  cluster?.disconnect();
});

test('cluster source: backup covers every master, restore after changes puts back exactly the backed-up keys and leaves keys outside the pattern alone', async () => {
  const before = await snapshot();
  assert.equal(before.size, 2000);
  const b = await w.client.workflow.execute(backupWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `test-cluster-backup-${randomUUID().slice(0, 8)}`,
    args: [{}],
  });
  assert.equal(b.sources[0].items, 2000);

  // Changes on every master: deleted, changed and new keys, and the key outside the pattern changes too.
  const ops: Promise<unknown>[] = [];
  for (let i = 0; i < 2000; i += 3) ops.push(cluster.del(`${prefix}k${i}`));
  for (let i = 1; i < 2000; i += 10) ops.push(cluster.set(`${prefix}k${i}`, 'changed'));
  for (let i = 0; i < 300; i++) ops.push(cluster.set(`${prefix}new${i}`, 'created after the backup'));
  ops.push(cluster.set(outside, 'changed outside the pattern'));
  await Promise.all(ops);
  assert.notEqual(snapshotDiff(await snapshot(), before).length, 0);

  const res = await w.client.workflow.execute(restoreWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `test-cluster-restore-${randomUUID().slice(0, 8)}`,
    args: [{ recoveryPointId: b.recoveryPointId }],
  });
  assert.equal(res.ok, true, JSON.stringify(res));
  assert.deepEqual(snapshotDiff(await snapshot(), before), []);
  assert.equal(await cluster.get(outside), 'changed outside the pattern');
});
