import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client, Connection, ScheduleNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { initRepository, type Repository } from '../../repository';
import { createLifeboatClient } from '../../client/api';
import {
  BackupAlreadyRunningError,
  SourceNotInRecoveryPointError,
  UnknownScheduleError,
  UsageError,
} from '../../client/errors';
import { UnknownSourceError } from '../../config';
import { EXIT_CODES } from '../../client/exit-codes';
import { runCli } from '../../client/program';
import { SA } from '../../workflows/search-attributes';
import { testEnv, scratchDir } from '../harness/env';
import { memoryIo, runBin, singleJson, testConfig, writeTestConfig, type TestConfigOptions } from './helpers';

const PASSWORD = 'temporal-test-password';
const uid = randomBytes(4).toString('hex');
// Unique source names: workflow ids derive from them, and the dev server is shared with other test files.
const SOURCES = [
  { name: `sess-${uid}`, type: 'redis', url: 'redis://127.0.0.1:1' },
  { name: `feat-${uid}`, type: 'redis', url: 'redis://127.0.0.1:2' },
  { name: `emb-${uid}`, type: 'faiss', path: '/var/lib/app/index.faiss' },
];
const [SESS, FEAT, EMB] = SOURCES.map((s) => s.name);

let connection: Connection;
let temporal: Client;
let dir: string;
let repoPath: string;
let repo: Repository;
const started: WorkflowHandle[] = [];

const opts = (o: Partial<TestConfigOptions> = {}): TestConfigOptions => ({
  address: testEnv().temporal.address,
  namespace: testEnv().temporal.namespace,
  // No worker polls this queue: workflows stay RUNNING, which is what these tests need.
  taskQueue: `no-worker-${uid}`,
  repoUrl: repoPath,
  passwordEnv: `LIFEBOAT_TEST_PW_${uid}`,
  sources: SOURCES,
  ...o,
});

async function startInput(h: WorkflowHandle): Promise<unknown> {
  const history = await h.fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  return (await decodeArrayFromPayloads(temporal.options.loadedDataConverter, payloads))[0];
}

before(async () => {
  process.env[`LIFEBOAT_TEST_PW_${uid}`] = PASSWORD;
  connection = await Connection.connect({ address: testEnv().temporal.address });
  temporal = new Client({ connection, namespace: testEnv().temporal.namespace });
  dir = scratchDir('client-temporal');
  repoPath = path.join(dir, 'repo');
  repo = await initRepository({ url: repoPath }, PASSWORD, { scrypt: { N: 1024 } });
});

after(async () => {
  await Promise.allSettled(started.map((h) => h.terminate('test cleanup')));
  await repo?.close();
  await connection?.close();
});

describe('backup: one at a time per set of sources', () => {
  test('a second backup of the same sources fails with BackupAlreadyRunningError naming the running workflow and its start time', async () => {
    const config = testConfig(opts());
    // Someone else's backup of the same source, started directly (no worker runs it).
    const other = await temporal.workflow.start('backupWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId: `lifeboat-backup-${SESS}`,
      args: [{ sources: [SESS] }],
    });
    started.push(other);
    const otherStart = (await other.describe()).startTime;

    const lb = createLifeboatClient(config);
    try {
      await assert.rejects(lb.backup({ sources: [SESS] }), (e: unknown) => {
        assert.ok(e instanceof BackupAlreadyRunningError, String(e));
        assert.equal(e.workflowId, `lifeboat-backup-${SESS}`);
        assert.equal(e.runId, other.firstExecutionRunId);
        assert.equal(e.startedAt?.toISOString(), otherStart.toISOString());
        assert.match(e.message, new RegExp(`lifeboat-backup-${SESS} started at ${otherStart.toISOString()}`));
        return true;
      });

      // Through the CLI: exit 4 and one JSON document naming the workflow.
      const r = await runBin(['backup', '--source', SESS, '--json'], {
        LIFEBOAT_CONFIG: writeTestConfig(dir, opts()),
        [`LIFEBOAT_TEST_PW_${uid}`]: PASSWORD,
      });
      assert.equal(r.code, EXIT_CODES.alreadyRunning, r.stderr);
      const doc = singleJson(r.stdout);
      assert.equal(doc.error.name, 'BackupAlreadyRunningError');
      assert.equal(doc.error.workflowId, `lifeboat-backup-${SESS}`);
      assert.equal(doc.error.startedAt, otherStart.toISOString());

      // Once the first has closed, a new backup of the same sources may start.
      await other.terminate('done');
      const next = await lb.backup({ sources: [SESS] });
      started.push(temporal.workflow.getHandle(next.workflowId));
      assert.equal(next.workflowId, `lifeboat-backup-${SESS}`);
      assert.notEqual(next.runId, other.firstExecutionRunId);
    } finally {
      await lb.close();
    }
  });

  test('backup sets search attributes, a readable summary and a sources-derived id; different sources run side by side', async () => {
    const lb = createLifeboatClient(testConfig(opts()));
    try {
      const op = await lb.backup({ sources: [FEAT, EMB], tags: ['pre-deploy'], trigger: 'test' });
      const h = temporal.workflow.getHandle(op.workflowId);
      started.push(h);
      assert.equal(op.workflowId, `lifeboat-backup-${[FEAT, EMB].sort().join('+')}`);
      const d = await h.describe();
      assert.equal(d.typedSearchAttributes.get(SA.kind), 'backup');
      assert.deepEqual(d.typedSearchAttributes.get(SA.source), [EMB, FEAT].sort());
      assert.equal(await d.staticSummary(), `Backup of ${[FEAT, EMB].sort().join(', ')}`);
      assert.match((await d.staticDetails()) ?? '', /pre-deploy/);
      assert.deepEqual(await startInput(h), { sources: [FEAT, EMB].sort(), tags: ['pre-deploy'], trigger: 'test' });

      await assert.rejects(lb.backup({ sources: ['no-such-source'] }), UnknownSourceError);

      // No worker: progress answers at once with the status and no workflow progress.
      const p = await op.progress();
      assert.equal(p.status, 'RUNNING');
      assert.equal(p.progress, undefined);
      assert.equal(p.workflowId, op.workflowId);
    } finally {
      await lb.close();
    }
  });
});

describe('restore and verify start the right workflow with resolved ids and targets', () => {
  let pointId: string;

  before(async () => {
    const arts = [];
    for (const [source, kind] of [
      [SESS, 'redis-logical'],
      [FEAT, 'redis-logical'],
      [EMB, 'faiss-index'],
    ]) {
      arts.push(
        await repo.writeArtifact(Readable.from([Buffer.from(`data of ${source}`)]), { source, kind, name: 'x' }),
      );
    }
    pointId = (await repo.commitRecoveryPoint({ artifacts: arts, time: new Date(Date.now() - 60_000) })).id;
    // A restore's safety backup, newer: never what "latest" means.
    await repo.commitRecoveryPoint({ artifacts: [arts[0]], tags: ['safety'] });
  });

  test('restore latest --source S --to-redis-db N: full id, target override, search attributes, readable id', async () => {
    const lb = createLifeboatClient(testConfig(opts()));
    try {
      const op = await lb.restore('latest', {
        sources: [SESS],
        toRedis: 'redis://10.1.2.3:6379',
        toRedisDb: 3,
        trigger: 'test',
      });
      const h = temporal.workflow.getHandle(op.workflowId);
      started.push(h);
      assert.equal(op.recoveryPointId, pointId);
      assert.match(op.workflowId, new RegExp(`^lifeboat-restore-${pointId}-[0-9a-f]{6}$`));
      assert.deepEqual(await startInput(h), {
        recoveryPointId: pointId,
        sources: [SESS],
        targets: { [SESS]: { redisUrl: 'redis://10.1.2.3:6379', redisDb: 3 } },
        trigger: 'test',
      });
      const d = await h.describe();
      assert.equal(d.typedSearchAttributes.get(SA.kind), 'restore');
      assert.equal(d.typedSearchAttributes.get(SA.recoveryPoint), pointId);
      assert.deepEqual(d.typedSearchAttributes.get(SA.source), [SESS]);
      assert.match((await d.staticDetails()) ?? '', /db 3/);

      // A unique prefix works; no --source means every source in the point.
      const all = await lb.restore(pointId.slice(0, 20), { safetyBackup: false });
      started.push(temporal.workflow.getHandle(all.workflowId));
      assert.deepEqual(await startInput(temporal.workflow.getHandle(all.workflowId)), {
        recoveryPointId: pointId,
        skipSafetyBackup: true,
        trigger: 'client',
      });
      assert.deepEqual([...all.sources].sort(), [SESS, FEAT, EMB].sort());
    } finally {
      await lb.close();
    }
  });

  test('restore refusals change nothing: two Redis sources for one --to-redis-db, a source not in the point', async () => {
    const lb = createLifeboatClient(
      testConfig(
        opts({
          sources: [
            ...SOURCES,
            { name: `docs-${uid}`, type: 'qdrant', url: 'http://127.0.0.1:6333', collection: 'docs' },
          ],
        }),
      ),
    );
    try {
      await assert.rejects(
        lb.restore(pointId, { toRedisDb: 2 }),
        (e: unknown) =>
          e instanceof UsageError && e.message.includes(SESS) && e.message.includes(FEAT) && /--source/.test(e.message),
      );
      await assert.rejects(lb.restore(pointId, { sources: [`docs-${uid}`] }), SourceNotInRecoveryPointError);
      const running = await temporal.workflow.count(
        `WorkflowType = 'restoreWorkflow' AND TaskQueue = '${opts().taskQueue}' AND ExecutionStatus = 'Running' AND LifeboatRecoveryPoint = '${pointId}'`,
      );
      assert.equal(running.count, 2, 'only the two restores of the previous test exist');
    } finally {
      await lb.close();
    }
  });

  test('verify: id resolved, --subset implies read-data, bad percentages refused', async () => {
    const lb = createLifeboatClient(testConfig(opts()));
    try {
      const op = await lb.verify(pointId.slice(0, 18), { subsetPercent: 10 });
      const h = temporal.workflow.getHandle(op.workflowId);
      started.push(h);
      assert.match(op.workflowId, new RegExp(`^lifeboat-verify-${pointId}-`));
      assert.deepEqual(await startInput(h), { recoveryPointId: pointId, readData: true, subsetPercent: 10 });
      await assert.rejects(lb.verify(undefined, { subsetPercent: 0 }), UsageError);
      await assert.rejects(lb.verify(undefined, { subsetPercent: 50, readData: false }), /needs --read-data/);
    } finally {
      await lb.close();
    }
  });
});

describe('schedules', () => {
  const prefix = `lbtest-${uid}-`;

  after(async () => {
    for (const n of ['backup', 'verify'])
      await temporal.schedule
        .getHandle(`${prefix}${n}`)
        .delete()
        .catch(() => undefined);
  });

  test('apply creates, re-apply updates (idempotent), pause/unpause, and a schedule removed from the config is deleted', async () => {
    const schedules = {
      backup: { every: '1h', sources: [SESS] },
      verify: { cron: '30 3 * * *', paused: true },
      drill: { cron: '0 4 * * 0' },
      catchupWindow: '2m',
    };
    const lb = createLifeboatClient(testConfig(opts({ schedules })), { scheduleIdPrefix: prefix });
    try {
      const first = await lb.schedules.apply();
      assert.deepEqual(first.created.sort(), [`${prefix}backup`, `${prefix}drill`, `${prefix}verify`]);
      assert.deepEqual(
        first.skipped.map((s) => s.name),
        [],
      );

      const b = await temporal.schedule.getHandle(`${prefix}backup`).describe();
      assert.equal(b.action.workflowType, 'scheduledBackupWorkflow');
      assert.equal(b.action.workflowId, `${prefix}scheduled-backup-${SESS}`);
      assert.equal(b.action.taskQueue, opts().taskQueue);
      assert.deepEqual(b.action.args, [{ sources: [SESS], trigger: 'schedule' }]);
      assert.equal(b.policies.overlap, 'SKIP');
      assert.equal(b.policies.catchupWindow, 120_000);
      assert.equal(b.state.paused, false);
      assert.equal((await temporal.schedule.getHandle(`${prefix}verify`).describe()).state.paused, true);

      const second = await lb.schedules.apply();
      assert.deepEqual(
        [second.created, second.updated.sort()],
        [[], [`${prefix}backup`, `${prefix}drill`, `${prefix}verify`]],
      );

      assert.deepEqual(await lb.schedules.pause('backup'), [`${prefix}backup`]);
      assert.equal((await temporal.schedule.getHandle(`${prefix}backup`).describe()).state.paused, true);
      const listed = await lb.schedules.list();
      const row = listed.find((s) => s.scheduleId === `${prefix}backup`);
      assert.ok(
        row && row.paused && row.applied && row.inConfig && row.workflowType === 'scheduledBackupWorkflow',
        JSON.stringify(listed),
      );
      await lb.schedules.unpause('backup');
      assert.equal((await temporal.schedule.getHandle(`${prefix}backup`).describe()).state.paused, false);
      await assert.rejects(lb.schedules.pause('bakup'), UnknownScheduleError);
    } finally {
      await lb.close();
    }

    // The config loses its verify schedule: apply deletes it (listing is eventually consistent, so allow a moment).
    const fewer = createLifeboatClient(testConfig(opts({ schedules: { backup: schedules.backup } })), {
      scheduleIdPrefix: prefix,
    });
    try {
      const deleted: string[] = [];
      for (let i = 0; i < 40 && deleted.length < 2; i++) {
        deleted.push(...(await fewer.schedules.apply()).deleted);
        if (deleted.length < 2) await new Promise((r) => setTimeout(r, 250));
      }
      assert.deepEqual(deleted.sort(), [`${prefix}drill`, `${prefix}verify`]);
      await assert.rejects(temporal.schedule.getHandle(`${prefix}verify`).describe(), ScheduleNotFoundError);
      await temporal.schedule.getHandle(`${prefix}backup`).describe();
    } finally {
      await fewer.close();
    }
  });
});

test('an unreachable Temporal exits 7 with a message naming the address', async () => {
  const { io, out } = memoryIo();
  const config = testConfig(opts({ address: '127.0.0.1:1' }));
  const code = await runCli(['backup', '--json'], io, { config, clientOptions: { connectTimeoutMs: 500 } });
  assert.equal(code, EXIT_CODES.unreachable, out.stderr);
  const doc = singleJson(out.stdout);
  assert.equal(doc.error.code, 'TEMPORAL_UNREACHABLE');
  assert.equal(doc.error.address, '127.0.0.1:1');
  assert.match(out.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
});
