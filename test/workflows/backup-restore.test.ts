import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { Redis } from 'ioredis';
import { backupWorkflow, restoreWorkflow } from '../../workflows';
import { progressQuery } from '../../workflows/progress';
import type { RestoreResult } from '../../workflows/types';
import {
  historyText,
  makeStores,
  qdrantSnapshot,
  redisSnapshot,
  seedQdrant,
  seedRedis,
  rootMessage,
  sha256,
  snapshotDiff,
  startWorkerFor,
  writeFaissIndex,
  type Stores,
} from './helpers';
import { forEachStack } from '../harness/matrix';

forEachStack((S) => {
  let stores: Stores;
  let w: Awaited<ReturnType<typeof startWorkerFor>>;
  const id = (kind: string) => `test-${kind}-${randomUUID().slice(0, 8)}`;

  before(async () => {
    stores = await makeStores('e2e', [], undefined, { redis: S.redis.flavour, qdrantUrl: S.qdrant.url });
    w = await startWorkerFor(stores.cfg.config);
  });

  after(async () => {
    await w?.stop();
    await stores?.stop();
  });

  const tq = () => stores.cfg.taskQueue;

  test('backup of all three stores, then restore after changes brings every store back exactly', async () => {
    await seedRedis(stores.redis.url, 'orig');
    mkdirSync(stores.faissDir, { recursive: true });
    const faissBytes = writeFaissIndex(stores.faissFile, 1);
    await seedQdrant(stores.qdrant, stores.collection, 1);
    const redisBefore = await redisSnapshot(stores.redis.url);
    const qdrantBefore = await qdrantSnapshot(stores.qdrant, stores.collection);

    const backup = await w.client.workflow.start(backupWorkflow, {
      taskQueue: tq(),
      workflowId: id('backup'),
      args: [{}],
    });
    const b = await backup.result();
    assert.match(b.recoveryPointId, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.deepEqual(b.sources.map((s) => s.source).sort(), ['docs', 'meta', 'vectors']);
    assert.equal(b.sources.find((s) => s.source === 'meta')!.items, 507);
    assert.equal(b.sources.find((s) => s.source === 'vectors')!.items, 300);
    assert.equal(b.sources.find((s) => s.source === 'docs')!.items, 200);
    assert.equal((await backup.query(progressQuery)).phase, 'done');
    const desc = await backup.describe();
    assert.deepEqual(desc.searchAttributes.LifeboatRecoveryPoint, [b.recoveryPointId]);

    // Change everything: values, extra keys, another index, other points.
    await seedRedis(stores.redis.url, 'changed');
    const r = new Redis(stores.redis.url);
    await r.set('created-after-backup', 'x');
    await r.del('user:7');
    r.disconnect();
    writeFaissIndex(stores.faissFile, 2);
    await seedQdrant(stores.qdrant, stores.collection, 2, 150);
    assert.notDeepEqual(await redisSnapshot(stores.redis.url), redisBefore);

    const restore = await w.client.workflow.start(restoreWorkflow, {
      taskQueue: tq(),
      workflowId: id('restore'),
      args: [{ recoveryPointId: b.recoveryPointId }],
    });
    const res = await restore.result();
    assert.equal(res.ok, true);
    assert.ok(res.safetyRecoveryPointId, 'a safety backup was taken');
    assert.deepEqual(
      res.sources.map((s) => [s.source, s.status]),
      [
        ['meta', 'verified'],
        ['docs', 'verified'],
        ['vectors', 'verified'],
      ],
    );

    assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), redisBefore), []);
    assert.equal(sha256(readFileSync(stores.faissFile)), sha256(faissBytes));
    assert.equal(await qdrantSnapshot(stores.qdrant, stores.collection), qdrantBefore);
    // Confirmed: no kept previous file or journal left beside the index.
    assert.deepEqual(
      readdirSync(stores.faissDir).filter((f) => f.includes('lifeboat')),
      [],
    );

    // The repository password never reaches workflow history.
    const password = Object.values(stores.cfg.env)[0];
    for (const h of [backup, restore])
      assert.ok(!(await historyText(h)).includes(password), `password found in history of ${h.workflowId}`);
  });

  test('a restore whose verification fails rolls every target back to exactly what it was', async () => {
    await seedRedis(stores.redis.url, 'v1');
    writeFaissIndex(stores.faissFile, 11);
    await seedQdrant(stores.qdrant, stores.collection, 11);
    const b = await w.client.workflow.execute(backupWorkflow, {
      taskQueue: tq(),
      workflowId: id('backup'),
      args: [{}],
    });

    await seedRedis(stores.redis.url, 'v2');
    const r = new Redis(stores.redis.url);
    await r.set('only-in-v2', '1');
    r.disconnect();
    const faissV2 = writeFaissIndex(stores.faissFile, 12);
    await seedQdrant(stores.qdrant, stores.collection, 12, 120);
    const redisV2 = await redisSnapshot(stores.redis.url);
    const qdrantV2 = await qdrantSnapshot(stores.qdrant, stores.collection);

    const handle = await w.client.workflow.start(restoreWorkflow, {
      taskQueue: tq(),
      workflowId: id('restore-fail'),
      args: [{ recoveryPointId: b.recoveryPointId, injectVerifyFailure: 'vectors' }],
    });
    const err = await handle.result().then(
      () => assert.fail('restore should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    const cause = err.cause as { type?: string; details?: unknown[]; message: string };
    assert.equal(cause.type, 'RESTORE_FAILED');
    const summary = cause.details?.[0] as RestoreResult;
    assert.equal(summary.ok, false);
    assert.match(summary.failure ?? '', /verification of vectors failed/);
    assert.deepEqual(summary.rolledBack.sort(), ['docs', 'meta', 'vectors']);
    assert.deepEqual(summary.rollbackFailures, []);

    assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), redisV2), []);
    assert.equal(sha256(readFileSync(stores.faissFile)), sha256(faissV2));
    assert.equal(await qdrantSnapshot(stores.qdrant, stores.collection), qdrantV2);
    assert.deepEqual(
      readdirSync(stores.faissDir).filter((f) => f.includes('lifeboat')),
      [],
    );
  });

  test('restoring into other targets leaves the originals untouched', async () => {
    await seedRedis(stores.redis.url, 'orig-x');
    writeFaissIndex(stores.faissFile, 21);
    await seedQdrant(stores.qdrant, stores.collection, 21);
    const b = await w.client.workflow.execute(backupWorkflow, {
      taskQueue: tq(),
      workflowId: id('backup'),
      args: [{}],
    });
    await seedRedis(stores.redis.url, 'live');
    const liveRedis = await redisSnapshot(stores.redis.url);
    const liveFaiss = writeFaissIndex(stores.faissFile, 22);
    await seedQdrant(stores.qdrant, stores.collection, 22);
    const liveQdrant = await qdrantSnapshot(stores.qdrant, stores.collection);

    const otherPath = path.join(stores.faissDir, 'copy.index');
    const otherCollection = `${stores.collection}-copy`;
    const res = await w.client.workflow.execute(restoreWorkflow, {
      taskQueue: tq(),
      workflowId: id('restore-other'),
      args: [
        {
          recoveryPointId: b.recoveryPointId,
          targets: {
            meta: { redisUrl: stores.redis.url, redisDb: 5 },
            vectors: { path: otherPath },
            docs: { collection: otherCollection },
          },
        },
      ],
    });
    assert.equal(res.ok, true);
    assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), liveRedis), []);
    assert.equal(sha256(readFileSync(stores.faissFile)), sha256(liveFaiss));
    assert.equal(await qdrantSnapshot(stores.qdrant, stores.collection), liveQdrant);
    // And the copies hold the backup.
    const copy = await redisSnapshot(stores.redis.url, 5);
    assert.equal(copy.size, 507);
    assert.ok(existsSync(otherPath));
    assert.equal(JSON.parse(await qdrantSnapshot(stores.qdrant, otherCollection)).length, 200);
  });

  test('an unknown recovery point fails at once with a message naming it, changing nothing', async () => {
    const before = await redisSnapshot(stores.redis.url);
    const err = await w.client.workflow
      .execute(restoreWorkflow, {
        taskQueue: tq(),
        workflowId: id('restore-unknown'),
        args: [{ recoveryPointId: 'nosuchpoint' }],
      })
      .then(
        () => undefined,
        (e: unknown) => e as WorkflowFailedError,
      );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(rootMessage(err), /no recovery point "nosuchpoint"/);
    assert.deepEqual(await redisSnapshot(stores.redis.url), before);
  });

  test('a restore cancelled while it writes rolls back what it changed; the other targets are never touched', async () => {
    await seedRedis(stores.redis.url, 'c1');
    mkdirSync(stores.faissDir, { recursive: true });
    writeFaissIndex(stores.faissFile, 21);
    await seedQdrant(stores.qdrant, stores.collection, 21);
    const b = await w.client.workflow.execute(backupWorkflow, {
      taskQueue: tq(),
      workflowId: id('backup'),
      args: [{}],
    });

    await seedRedis(stores.redis.url, 'c2');
    const faissC2 = writeFaissIndex(stores.faissFile, 22);
    await seedQdrant(stores.qdrant, stores.collection, 22, 90);
    const redisC2 = await redisSnapshot(stores.redis.url);
    const qdrantC2 = await qdrantSnapshot(stores.qdrant, stores.collection);

    // Writes to Redis are held (reads are not, so the safety backup runs): the Redis restore, first in order, is caught mid-way.
    const ctl = new Redis(stores.redis.url);
    try {
      await ctl.call('CLIENT', 'PAUSE', '90000', 'WRITE');
      const handle = await w.client.workflow.start(restoreWorkflow, {
        taskQueue: tq(),
        workflowId: id('restore-cancel'),
        args: [{ recoveryPointId: b.recoveryPointId }],
      });
      for (let i = 0; ; i++) {
        const d = await handle.describe();
        if (d.raw.pendingActivities?.some((a) => a.activityType?.name === 'restoreSource' && a.lastStartedTime)) break;
        if (i > 600) assert.fail('the restore never reached restoreSource');
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.cancel();
      // The cancellation reaches the blocked activity with a heartbeat; once it has stopped, the rollback (which writes) may go on.
      for (let i = 0; (await handle.query(progressQuery)).phase !== 'rolling back'; i++) {
        if (i > 1200) assert.fail('the cancelled restore never started rolling back');
        await new Promise((r) => setTimeout(r, 50));
      }
      await ctl.call('CLIENT', 'UNPAUSE');
      const err = await handle.result().then(
        () => assert.fail('a cancelled restore must not complete'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
      const p = await handle.query(progressQuery);
      assert.equal(p.phase, 'rolled back');
      assert.equal(p.sources.meta.status, 'rolled-back');
      // Their safety backups were taken, but their restores never started, so nothing of theirs was rolled back.
      assert.equal(p.sources.vectors.status, 'safety-backup');
      assert.equal(p.sources.docs.status, 'safety-backup');
    } finally {
      await ctl.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      ctl.disconnect();
    }
    assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), redisC2), []);
    assert.equal(sha256(readFileSync(stores.faissFile)), sha256(faissC2));
    assert.equal(await qdrantSnapshot(stores.qdrant, stores.collection), qdrantC2);
  });
});
