/**
 * Scheduled and manual backups of the same sources never run at once: a
 * backup schedule's run starts the backup under the id a manual backup uses,
 * so whichever comes second is refused (manual) or skipped (scheduled).
 * Real dev server, real worker, real Redis, a real Temporal Schedule.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { backupWorkflow, progressQuery, scheduledBackupWorkflow } from '../../workflows';
import type { ScheduledBackupResult } from '../../workflows/types';
import { createLifeboatClient, type LifeboatClient } from '../../client';
import { BackupAlreadyRunningError } from '../../client/errors';
import { startRedis, type RedisServer } from '../servers/redis';
import { initRepository, openRepository } from '../../repository';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { seedRedis, startWorkerFor } from './helpers';
import { Redis } from 'ioredis';

const uid = randomUUID().slice(0, 8);
// Unique source name: backup ids derive from it, and the dev server is shared with other test files.
const SOURCE = `sched-${uid}`;
const BACKUP_ID = `lifeboat-backup-${SOURCE}`;
const PREFIX = `lbsched-${uid}-`;
let redis: RedisServer;
let cfg: TestConfig;
let w: Awaited<ReturnType<typeof startWorkerFor>>;
let lb: LifeboatClient;
const cleanup: WorkflowHandle[] = [];

before(async () => {
  redis = await startRedis(path.join(scratchDir('scheduled-backup'), 'redis'));
  await seedRedis(redis.url, 'sched');
  cfg = makeTestConfig({
    // Two sources, the schedule covering one: a backup of every source would be lifeboat-backup-all, which other test files use too.
    sources: [
      { name: SOURCE, type: 'redis', url: redis.url, db: 0 },
      { name: `other-${uid}`, type: 'redis', url: redis.url, db: 1 },
    ],
    extra: { schedules: { backup: { every: '24h', sources: [SOURCE] } } },
  });
  await (await initRepository({ url: cfg.config.repository.url }, Object.values(cfg.env)[0])).close();
  w = await startWorkerFor(cfg.config);
  lb = createLifeboatClient(cfg.config, { scheduleIdPrefix: PREFIX });
});

after(async () => {
  await Promise.allSettled(cleanup.map((h) => h.terminate('test cleanup')));
  await w?.client.schedule
    .getHandle(`${PREFIX}backup`)
    .delete()
    .catch(() => undefined);
  await lb?.close();
  await w?.stop();
  await redis?.stop();
});

/** Waits for the schedule's first action and returns a handle on the run it started. */
async function firstScheduledRun(): Promise<WorkflowHandle<typeof scheduledBackupWorkflow>> {
  const schedule = w.client.schedule.getHandle(`${PREFIX}backup`);
  for (let i = 0; i < 200; i++) {
    const d = await schedule.describe();
    const run = d.info.recentActions[0]?.action;
    if (run) return w.client.workflow.getHandle(run.workflow.workflowId, run.workflow.firstExecutionRunId);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the triggered schedule started no workflow');
}

test('a triggered backup schedule runs the backup as a child under the manual backup id and commits a recovery point', async () => {
  assert.deepEqual((await lb.schedules.apply()).created, [`${PREFIX}backup`]);
  await w.client.schedule.getHandle(`${PREFIX}backup`).trigger();
  const run = await firstScheduledRun();
  assert.match(run.workflowId, new RegExp(`^${PREFIX}scheduled-backup-`));
  const out = (await run.result()) as ScheduledBackupResult;
  assert.equal(out.status, 'completed', JSON.stringify(out));
  assert.equal(out.workflowId, BACKUP_ID);
  if (out.status !== 'completed') return;

  // The recovery point exists, holds the source, and was labelled as scheduled.
  const repo = await openRepository({ url: cfg.config.repository.url }, Object.values(cfg.env)[0]);
  try {
    const rp = await repo.getRecoveryPoint(out.result.recoveryPointId);
    assert.deepEqual([...new Set(rp.artifacts.map((a) => a.source))], [SOURCE]);
    assert.equal(rp.labels?.trigger, 'schedule');
    assert.equal(rp.labels?.workflowId, BACKUP_ID);
  } finally {
    await repo.close();
  }
});

test('while a manual backup of the same sources runs, a scheduled run is skipped and says why; while a scheduled one runs, a manual one is refused', async () => {
  // A manual backup that stays running: started on a queue no worker polls, under the id the client gives it.
  const blocker = await w.client.workflow.start(backupWorkflow, {
    taskQueue: `no-worker-${uid}`,
    workflowId: BACKUP_ID,
    args: [{ sources: [SOURCE] }],
  });
  cleanup.push(blocker);
  const skipped = await w.client.workflow.execute(scheduledBackupWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: `${PREFIX}sched-run-${uid}`,
    args: [{ sources: [SOURCE], trigger: 'schedule' }],
  });
  assert.equal(skipped.status, 'skipped');
  assert.match(
    (await w.client.workflow.getHandle(`${PREFIX}sched-run-${uid}`).query(progressQuery)).phase,
    /^skipped: a backup of the same sources is already running/,
  );
  assert.equal(skipped.workflowId, BACKUP_ID);
  assert.match(skipped.status === 'skipped' ? skipped.reason : '', new RegExp(`already running as ${BACKUP_ID}`));
  assert.equal((await blocker.describe()).status.name, 'RUNNING', 'the running backup was left alone');
  await blocker.terminate('test: the manual backup is over');

  // Now the other way round. Redis is paused, so the scheduled run's backup (its child) stays running while a manual one is asked for.
  const ctl = new Redis(redis.url);
  try {
    // Reads are held too (ALL), for 15 s: margin for a slow machine to start the child; it cannot be lifted early (UNPAUSE is held as well).
    await ctl.call('CLIENT', 'PAUSE', '15000', 'ALL');
    const run = await w.client.workflow.start(scheduledBackupWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: `${PREFIX}sched-run2-${uid}`,
      args: [{ sources: [SOURCE], trigger: 'schedule' }],
    });
    for (let i = 0; ; i++) {
      const child = await w.client.workflow
        .getHandle(BACKUP_ID)
        .describe()
        .catch(() => undefined);
      if (child?.status.name === 'RUNNING' && child.runId !== blocker.firstExecutionRunId) break;
      if (i > 200) assert.fail('the scheduled run never started its backup');
      await new Promise((r) => setTimeout(r, 50));
    }
    await assert.rejects(
      lb.backup({ sources: [SOURCE] }),
      (e: unknown) => e instanceof BackupAlreadyRunningError && e.workflowId === BACKUP_ID,
    );
    const done = await run.result();
    assert.equal(done.status, 'completed', JSON.stringify(done));
  } finally {
    ctl.disconnect();
  }
});
