import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import type { RedisServer } from '../servers/redis';
import { testEnv } from '../harness/env';
import { backupRedis, restoreRedis, fingerprintRedis, RedisOptionsError } from '../../sources/redis';
import { keySlot } from '../../sources/redis/slot';
import { server, client, collect, bulkSnapshot, BAD_UTF8, closeClients } from './redis-helpers';

// The harness' 3-master cluster is shared with other test files: everything here lives under a unique prefix.
const prefix = `lbt-${randomUUID().slice(0, 8)}:`;
const pattern = `${prefix}*`;
const seeds = testEnv().redisCluster.seeds;
let cluster: Cluster;
let masters: { node: Redis; ranges: [number, number][] }[];
let single: RedisServer;

/** CLUSTER SLOTS through a fresh client; a first connection dropped while the machine is loaded is retried. */
async function connectCluster(): Promise<[number, number, [string, number]][]> {
  for (let attempt = 1; ; attempt++) {
    cluster = new Cluster(seeds, { redisOptions: { protocol: 2 } });
    try {
      return (await cluster.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    } catch (e) {
      cluster.disconnect();
      if (attempt === 3) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

before(async () => {
  const slots = await connectCluster();
  const byAddr = new Map<string, [number, number][]>();
  for (const [a, b, [host, port]] of slots) {
    const key = `${host}:${port}`;
    byAddr.set(key, [...(byAddr.get(key) ?? []), [a, b]]);
  }
  masters = [...byAddr].map(([addr, ranges]) => ({ node: client(`redis://${addr}`), ranges }));
  assert.equal(masters.length, 3);
  single = await server('cluster-single');
  const ops: Promise<unknown>[] = [];
  for (let i = 0; i < 3000; i++) {
    const k = `${prefix}k${i}`;
    if (i % 5 === 0) ops.push(cluster.hset(k, 'f', String(i), 'g', BAD_UTF8));
    else if (i % 5 === 1) ops.push(cluster.rpush(k, 'a', String(i)));
    else if (i % 5 === 2) ops.push(cluster.zadd(k, i, 'm', -1, 'n'));
    else ops.push(cluster.set(k, `value-${i}`));
    if (i % 9 === 0) ops.push(cluster.pexpireat(k, Date.now() + 3_600_000 + i));
  }
  ops.push(cluster.set(Buffer.concat([Buffer.from(prefix), BAD_UTF8]), BAD_UTF8));
  ops.push(cluster.sadd(`${prefix}{tagged}a`, 'x', 'y'), cluster.set(`${prefix}{tagged}b`, 'z'));
  await Promise.all(ops);
});

after(async () => {
  // Remove this file's keys from the shared cluster first: closeClients() closes the master connections too.
  for (const m of masters ?? []) {
    const mine = (await bulkSnapshot(m.node, pattern)).keys();
    for (const hex of mine) await m.node.del(Buffer.from(hex, 'hex'));
  }
  closeClients();
  cluster?.disconnect();
  await single?.stop();
});

/** Our keys, read master by master, as one map. */
async function clusterSnapshot() {
  const all = new Map<string, string>();
  for (const m of masters) for (const [k, v] of await bulkSnapshot(m.node, pattern)) all.set(k, v);
  return all;
}

test('cluster backup covers every master; restore puts each key on its slot master; data and digests equal', async () => {
  const before = await clusterSnapshot();
  assert.equal(before.size, 3003);
  const perMaster = await Promise.all(masters.map(async (m) => (await bulkSnapshot(m.node, pattern)).size));
  assert.ok(
    perMaster.every((n) => n > 500),
    `keys spread over the masters: ${perMaster}`,
  );

  const b = backupRedis({ cluster: seeds, pattern });
  const bytes = await collect(b.stream);
  const info = await b.done;
  assert.equal(info.cluster, true);
  assert.equal(info.keys, 3003);
  assert.deepEqual(await fingerprintRedis({ cluster: seeds, pattern }), info.fingerprint);

  for (const m of masters)
    for (const hex of (await bulkSnapshot(m.node, pattern)).keys()) await m.node.del(Buffer.from(hex, 'hex'));
  assert.equal((await clusterSnapshot()).size, 0);

  const res = await restoreRedis([bytes], { cluster: seeds });
  assert.equal(res.restored, 3003);
  for (const m of masters) {
    for (const hex of (await bulkSnapshot(m.node, pattern)).keys()) {
      const slot = keySlot(Buffer.from(hex, 'hex'));
      assert.ok(
        m.ranges.some(([a, z]) => slot >= a && slot <= z),
        `key ${hex} (slot ${slot}) is on the master that serves its slot`,
      );
    }
  }
  assert.deepEqual(await clusterSnapshot(), before, 'every key, type, value and expiry equal');
  assert.deepEqual(await fingerprintRedis({ cluster: seeds, pattern }), info.fingerprint);
  assert.deepEqual(res.fingerprint, info.fingerprint);
});

test('cluster → standalone and standalone → cluster give the same fingerprint and data', async () => {
  const fromCluster = backupRedis({ cluster: seeds, pattern });
  const bytes = await collect(fromCluster.stream);
  const clusterInfo = await fromCluster.done;
  await restoreRedis([bytes], { url: single.url });
  const s = client(single.url);
  assert.deepEqual(
    await fingerprintRedis({ url: single.url }),
    clusterInfo.fingerprint,
    'same digest on a standalone server',
  );
  assert.deepEqual(await bulkSnapshot(s), await clusterSnapshot());

  // And back: a standalone backup restored into the cluster, after removing our keys there.
  const fromSingle = backupRedis({ url: single.url });
  const bytes2 = await collect(fromSingle.stream);
  const singleInfo = await fromSingle.done;
  assert.deepEqual(singleInfo.fingerprint, clusterInfo.fingerprint);
  for (const m of masters)
    for (const hex of (await bulkSnapshot(m.node, pattern)).keys()) await m.node.del(Buffer.from(hex, 'hex'));
  await restoreRedis([bytes2], { cluster: seeds });
  assert.deepEqual(await fingerprintRedis({ cluster: seeds, pattern }), clusterInfo.fingerprint);
  s.disconnect();
});

test('a cluster has only db 0: restoring a multi-db backup needs a dbMap', async () => {
  const s = client(single.url, 3);
  await s.set('x', '1');
  const multi = await collect(backupRedis({ url: single.url, db: 'all' }).stream);
  await assert.rejects(
    restoreRedis([multi], { cluster: seeds }),
    (e: Error) => e instanceof RedisOptionsError && /only has db 0; db 3 would go to db 3/.test(e.message),
  );
  s.disconnect();
});
