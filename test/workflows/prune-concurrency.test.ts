/**
 * Prune against a busy repository, for real: it runs while a backup writes (reusing the very
 * chunks the prune condemns) and while a restore reads, and its worker is SIGKILLed in the middle.
 * Afterwards every recovery point verifies with --read-data, the concurrent backup restores
 * exactly, and the bytes reported freed equal the bytes that left the disk. Garbage is made old
 * by setting file times back two days (the default 24 h grace period then applies as in
 * production); the repository uses small chunks so a prune has thousands of objects to work on.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Redis } from 'ioredis';
import { initRepository, openRepository, type Repository } from '../../repository';
import { backupWorkflow, pruneWorkflow, restoreWorkflow } from '../../workflows';
import type { PruneResult } from '../../lib/prune';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { startRedis, type RedisServer } from '../servers/redis';
import { redisSnapshot, snapshotDiff, startWorkerFor } from './helpers';
import { readLog, spawnWorker, type WorkerProcess } from './worker-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const step = (what: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
const DAY = 86_400_000;

let redis: RedisServer;
let cfg: TestConfig;
let root: string;
let repo: Repository;
const workers: WorkerProcess[] = [];

/** A deterministic dataset of `n` keys: the same seed gives the same bytes (so the same chunks). */
async function seed(db: number, seedName: string, n = 24_000) {
  const r = new Redis(redis.url, { db });
  try {
    await r.flushdb();
    for (let b = 0; b < n; b += 2000) {
      const p = r.pipeline();
      for (let i = b; i < Math.min(n, b + 2000); i++) p.set(`k:${i}`, `${seedName}:${i}:${'x'.repeat(180)}`);
      await p.exec();
    }
    await r.hset('h', { seed: seedName });
  } finally {
    r.disconnect();
  }
}

async function files(rel = ''): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (r: string) => {
    for (const e of await fs.readdir(path.join(root, r), { withFileTypes: true }).catch(() => [])) {
      const k = r ? `${r}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(k);
      else {
        const st = await fs.stat(path.join(root, k)).catch(() => undefined);
        if (st) out.set(k, st.size);
      }
    }
  };
  await walk(rel);
  return out;
}

const dataBytes = (m: Map<string, number>) =>
  [...m].filter(([k]) => k.startsWith('data/') || k.startsWith('artifacts/')).reduce((n, [, s]) => n + s, 0);

/** "Two days pass": every object's mtime goes back, so unreferenced ones are past the grace period. */
async function ageEverything() {
  const t = new Date(Date.now() - 2 * DAY);
  for (const k of (await files()).keys()) await fs.utimes(path.join(root, k), t, t);
}

async function verifyAll(expectedPoints: number) {
  const v = await repo.verify({ readData: true });
  assert.equal(v.ok, true, JSON.stringify(v.problems.slice(0, 5)));
  assert.equal(v.recoveryPoints, expectedPoints);
}

async function restoreInto(client: Client, recoveryPointId: string, db: number) {
  const h = await client.workflow.start(restoreWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `pc-restore-${randomUUID().slice(0, 8)}`,
    args: [{ recoveryPointId, targets: { meta: { redisDb: db } }, skipSafetyBackup: true }],
  });
  const r = await h.result();
  assert.equal(r.ok, true, JSON.stringify(r));
}

async function backup(client: Client): Promise<string> {
  const h = await client.workflow.start(backupWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `pc-backup-${randomUUID().slice(0, 8)}`,
    args: [{}],
  });
  return (await h.result()).recoveryPointId;
}

before(async () => {
  const dir = scratchDir('prune-concurrency');
  redis = await startRedis(path.join(dir, 'redis'));
  cfg = makeTestConfig({
    sources: [{ name: 'meta', type: 'redis', url: redis.url, db: 0 }],
    password: 'pw',
    // The policy keeps everything: these tests forget by hand, so the prune is about data only.
    extra: { retention: { keepLast: 50 } },
  });
  root = (cfg.config.repository as { path: string }).path;
  // Small chunks: thousands of objects for the prune to plan, condemn and delete.
  await (
    await initRepository({ url: root }, 'pw', { chunker: { minSize: 1024, normalSize: 2048, maxSize: 8192 } })
  ).close();
  repo = await openRepository({ url: root }, 'pw');
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await repo?.close();
  await redis?.stop();
});

test('prune while a backup writes (reusing condemned chunks) and a restore reads: nothing lost', async () => {
  const w = await startWorkerFor(cfg.config);
  try {
    await seed(0, 'one');
    const one = await redisSnapshot(redis.url, 0);
    const p1 = await backup(w.client);
    await seed(0, 'two');
    const two = await redisSnapshot(redis.url, 0);
    const p2 = await backup(w.client);
    step(`backed up ${p1}, ${p2}`);
    await repo.forget(p1);
    await ageEverything();
    const chunksBefore = [...(await files('data')).keys()].length;

    // The live data is "one" again: the new backup dedups against exactly what the prune condemns.
    await seed(0, 'one');
    // A slow writer (in this process) holds the prune in "waiting for writers" once it has
    // published its condemned list, so the backup below starts while those chunks are condemned.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slow = repo.writeArtifact(
      (async function* () {
        yield Buffer.from('slow writer');
        await released;
      })(),
      { source: 'other', kind: 'test', name: 'slow' },
    );
    const prune = await w.client.workflow.start(pruneWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: `pc-prune-${randomUUID().slice(0, 8)}`,
      args: [{}],
    });
    for (let i = 0; ; i++) {
      if ((await fs.readdir(path.join(root, 'condemned')).catch(() => [] as string[])).length) break;
      assert.ok(i < 3000, 'the prune never published its condemned list');
      await sleep(20);
    }
    step('the prune has condemned the forgotten point; backup and restore start now');
    const running = Promise.all([backup(w.client), restoreInto(w.client, p2, 1)]);
    await sleep(3000);
    release();
    await slow;
    const [[p3], pruned] = await Promise.all([running, prune.result() as Promise<PruneResult>]);
    step(
      `concurrent: backup ${p3}, restore of ${p2}, prune freed ${pruned.deletedObjects} objects / ${pruned.freedBytes} bytes (of ${chunksBefore} chunks)`,
    );
    assert.equal(pruned.ok, true, JSON.stringify(pruned));
    // It really deleted the chunks the concurrent backup wanted to reuse (that backup stored them again).
    assert.ok(pruned.deletedObjects > chunksBefore / 4, JSON.stringify(pruned));
    assert.deepEqual(snapshotDiff(await redisSnapshot(redis.url, 1), two), [], 'the concurrent restore is exact');

    // Every point verifies, reading every chunk; the concurrent backup restores exactly.
    await verifyAll(2);
    await restoreInto(w.client, p3, 2);
    assert.deepEqual(snapshotDiff(await redisSnapshot(redis.url, 2), one), [], 'the concurrent backup is exact');

    // And a prune afterwards (all quiet) finds "one"'s chunks referenced again and still keeps them.
    await ageEverything();
    const again = (await (
      await w.client.workflow.start(pruneWorkflow, {
        taskQueue: cfg.taskQueue,
        workflowId: `pc-prune-${randomUUID().slice(0, 8)}`,
        args: [{}],
      })
    ).result()) as PruneResult;
    assert.equal(again.ok, true);
    await verifyAll(2);
  } finally {
    await w.stop();
  }
});

test('SIGKILL of the worker mid-prune: the workflow completes, nothing referenced is gone, freed bytes exact', async () => {
  const { Connection, Client } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: cfg.config.temporal.address });
  const client = new Client({ connection, namespace: cfg.config.temporal.namespace });
  const spawn = (tag: string) => {
    const w = spawnWorker(cfg.file, cfg.env, path.join(cfg.dir, `worker-${tag}.log`));
    workers.push(w);
    return w;
  };
  let w = spawn('1');
  try {
    // Garbage: two datasets' worth of chunks, every point but the newest forgotten.
    await seed(0, 'three');
    const kept = await redisSnapshot(redis.url, 0);
    const keep = await backup(client);
    await seed(0, 'four');
    const four = await backup(client);
    // Packs keep a Redis backup to a handful of objects: a point of 1,500 loose chunks (pieces of
    // 80 KiB, each its own chunk) gives the prune enough deletes to be killed in the middle of them.
    const filler = await repo.writeArtifact(
      (async function* () {
        for (let i = 0; i < 1500; i++) yield randomBytes(80 * 1024);
      })(),
      { source: 'filler', kind: 'file', name: 'filler' },
      { chunking: 'records' },
    );
    const { written: _written, ...fillerRef } = filler;
    await repo.commitRecoveryPoint({ artifacts: [fillerRef] });
    for (const p of await repo.listRecoveryPoints()) if (p.id !== keep) await repo.forget(p.id);
    await ageEverything();
    const before = await files();
    step(`garbage ready: ${[...before.keys()].filter((k) => k.startsWith('data/')).length} chunks; ${four} forgotten`);

    const h = await client.workflow.start(pruneWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: `pc-prune-kill-${randomUUID().slice(0, 8)}`,
      args: [{}],
    });
    // Kill the worker the moment the prune has published what it will delete: it is deleting now.
    const chunks0 = [...before.keys()].filter((k) => k.startsWith('data/')).length;
    let published = false;
    for (const deadline = Date.now() + 180_000; !published && Date.now() < deadline; await sleep(2))
      published = (await fs.readdir(path.join(root, 'condemned')).catch(() => [] as string[])).length > 0;
    assert.ok(published, 'the prune never published its condemned list');
    // A few ms into deleting (thousands of deletes take far longer), so the retry must take over a
    // lock whose run had already deleted part of its list, and still count the freed bytes exactly.
    await sleep(30);
    await w.kill('SIGKILL');
    const deletedBeforeKill = chunks0 - [...(await files('data')).keys()].length;
    step(`killed the worker mid-prune (${deletedBeforeKill} chunks deleted by then)`);
    w = spawn('2');
    const result = (await h.result()) as PruneResult;
    step(`prune finished: ${result.deletedObjects} objects, ${result.freedBytes} bytes, attempts ${result.attempts}`);
    assert.ok(result.attempts >= 2, `the killed prune activity was not retried (attempts ${result.attempts})`);
    assert.equal(result.ok, true, JSON.stringify(result));
    const after = await files();
    assert.equal(result.freedBytes, dataBytes(before) - dataBytes(after), 'freed bytes ≠ bytes that left the disk');
    assert.ok(result.freedBytes > 0);
    assert.deepEqual(
      // (A temp file the kill cut off mid-rewrite may stay: it is seconds old, not provably dead yet.)
      [...after.keys()].filter((k) => k.startsWith('locks/') && !k.startsWith('locks/.tmp-')),
      [],
      'the dead attempt left its lock behind',
    );

    // Nothing referenced is gone: the kept point reads back whole and restores exactly.
    await verifyAll(1);
    await restoreInto(client, keep, 4);
    assert.deepEqual(snapshotDiff(await redisSnapshot(redis.url, 4), kept), []);
  } catch (e) {
    throw new Error(
      `${(e as Error).stack}\nworker logs:\n${readLog(path.join(cfg.dir, 'worker-1.log')).slice(-2000)}\n${readLog(path.join(cfg.dir, 'worker-2.log')).slice(-2000)}`,
    );
  } finally {
    await w.kill('SIGTERM');
    await connection.close();
  }
});
