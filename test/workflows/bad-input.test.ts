/**
 * Bad input through the real workflows: each fails at once (no retries), with
 * a message that names the problem, and changes nothing — no recovery point,
 * no touched target, no secret in the history.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { backupWorkflow, restoreWorkflow } from '../../workflows';
import { startRedis, type RedisServer } from '../servers/redis';
import { freePort } from '../servers/process';
import { initRepository, openRepository } from '../../repository';
import { makeTestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { historyText, rootMessage, seedRedis, sha256, startWorkerFor, writeFaissIndex } from './helpers';

let redis: RedisServer;
let dir: string;
const id = (kind: string) => `test-bad-${kind}-${randomUUID().slice(0, 8)}`;

before(async () => {
  dir = scratchDir('bad-input');
  redis = await startRedis(path.join(dir, 'redis'));
  await seedRedis(redis.url, 'bad');
});

after(async () => {
  await redis?.stop();
});

/** Attempts of every activity in the history, by type. */
async function attempts(h: WorkflowHandle): Promise<Record<string, number>> {
  const events = (await h.fetchHistory()).events ?? [];
  const types = new Map<string, string>();
  const out: Record<string, number> = {};
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) types.set(String(e.eventId), s.activityType?.name ?? '');
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const t = types.get(String(st.scheduledEventId)) ?? '?';
      out[t] = Math.max(out[t] ?? 0, st.attempt ?? 0);
    }
  }
  return out;
}

async function failure(h: WorkflowHandle): Promise<WorkflowFailedError> {
  return h.result().then(
    () => assert.fail('the workflow should have failed'),
    (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError, String(e));
      return e;
    },
  );
}

test('a worker with the wrong repository password: the backup fails at once saying so, the password is nowhere in the history, nothing is written', async () => {
  const right = `right-${randomUUID()}`;
  const wrong = `wrong-${randomUUID()}`;
  const cfg = makeTestConfig({ sources: [{ name: 'meta', type: 'redis', url: redis.url, db: 0 }], password: wrong });
  await (await initRepository({ url: cfg.config.repository.url }, right)).close();
  const w = await startWorkerFor(cfg.config);
  try {
    const h = await w.client.workflow.start(backupWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: id('password'),
      args: [{}],
    });
    const err = await failure(h);
    assert.match(rootMessage(err), /wrong password/i);
    assert.ok(
      Object.values(await attempts(h)).every((n) => n === 1),
      `no retries: ${JSON.stringify(await attempts(h))}`,
    );
    const history = await historyText(h);
    assert.ok(!history.includes(wrong) && !history.includes(right), 'no password in the workflow history');
  } finally {
    await w.stop();
  }
  const repo = await openRepository({ url: cfg.config.repository.url }, right);
  try {
    assert.deepEqual(await repo.listRecoveryPoints(), []);
  } finally {
    await repo.close();
  }
});

test('an unreachable Redis source: the backup fails at once naming the address, and commits no recovery point', async () => {
  const port = await freePort();
  const cfg = makeTestConfig({ sources: [{ name: 'gone', type: 'redis', url: `redis://127.0.0.1:${port}`, db: 0 }] });
  const password = Object.values(cfg.env)[0];
  await (await initRepository({ url: cfg.config.repository.url }, password)).close();
  const w = await startWorkerFor(cfg.config);
  try {
    const h = await w.client.workflow.start(backupWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: id('unreachable'),
      args: [{}],
    });
    const err = await failure(h);
    assert.match(rootMessage(err), new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.equal((await attempts(h)).backupSource, 1, 'an unreachable server is not retried for minutes');
  } finally {
    await w.stop();
  }
  const repo = await openRepository({ url: cfg.config.repository.url }, password);
  try {
    assert.deepEqual(await repo.listRecoveryPoints(), []);
  } finally {
    await repo.close();
  }
});

test('restoring a FAISS index over one of another dimension fails in pre-flight, naming both dimensions; the file and the repository are untouched', async () => {
  const faissDir = path.join(dir, 'faiss');
  mkdirSync(faissDir, { recursive: true });
  const file = path.join(faissDir, 'dims.index');
  writeFaissIndex(file, 31); // d=16
  const cfg = makeTestConfig({ sources: [{ name: 'vectors', type: 'faiss', path: file, probe: false }] });
  const password = Object.values(cfg.env)[0];
  await (await initRepository({ url: cfg.config.repository.url }, password)).close();
  const w = await startWorkerFor(cfg.config);
  try {
    const b = await w.client.workflow.execute(backupWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: id('dims-backup'),
      args: [{}],
    });

    // The application moved to 8-dimensional vectors since.

    const faiss = require('faiss-node') as typeof import('faiss-node');
    const idx = new faiss.IndexFlatL2(8);
    idx.add(Array.from({ length: 8 * 50 }, (_, i) => Math.sin(i)));
    idx.write(file);
    const current = sha256(readFileSync(file));

    const h = await w.client.workflow.start(restoreWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: id('dims-restore'),
      args: [{ recoveryPointId: b.recoveryPointId }],
    });
    const err = await failure(h);
    assert.match(rootMessage(err), /dimension mismatch .*the backup has d=16, the current index has d=8/);
    assert.equal(sha256(readFileSync(file)), current, 'the index file is untouched');
    assert.equal((await attempts(h)).safetyBackup, undefined, 'nothing ran past the pre-flight');
  } finally {
    await w.stop();
  }
  const repo = await openRepository({ url: cfg.config.repository.url }, password);
  try {
    assert.equal((await repo.listRecoveryPoints()).length, 1, 'no safety recovery point was taken');
  } finally {
    await repo.close();
  }
});
