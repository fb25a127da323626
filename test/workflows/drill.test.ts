/**
 * Issue 10: restore drills on the real servers (Temporal dev server, Redis,
 * FAISS, the Qdrant stand-in). A drill restores into scratch targets through
 * the real restore workflow, validates, cleans up and records; production is
 * never written (full-state snapshots before, during and after).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { QdrantClient } from '@qdrant/js-client-rest';
import { backupWorkflow, drillWorkflow } from '../../workflows';
import { drillCollectionPrefix, type DrillRecord } from '../../lib/drill';
import { initRepository } from '../../repository';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir, testEnv } from '../harness/env';
import { startRedis, type RedisServer } from '../servers/redis';
import {
  qdrantSnapshot,
  redisSnapshot,
  seedQdrant,
  seedRedis,
  sha256,
  snapshotDiff,
  startWorkerFor,
  writeFaissIndex,
} from './helpers';
import { assertNothingLeft as assertDrillLeftNothing, scratchRedisPorts, storedDrillRecord } from './drill-helpers';

let redis: RedisServer;
let cfg: TestConfig;
let w: Awaited<ReturnType<typeof startWorkerFor>>;
let faissDir: string;
let faissFile: string;
let collection: string;
let qdrant: QdrantClient;
const id = (kind: string) => `test-${kind}-${randomUUID().slice(0, 8)}`;
const marker = path.join(testEnv().tmpDir, `drill-check-${randomUUID().slice(0, 6)}.env`);

before(async () => {
  const dir = scratchDir('drill');
  redis = await startRedis(path.join(dir, 'redis'));
  faissDir = path.join(dir, 'faiss');
  faissFile = path.join(faissDir, 'vectors.index');
  collection = `drill-${randomUUID().slice(0, 6)}`;
  qdrant = new QdrantClient({ url: testEnv().qdrant.url, checkCompatibility: false });
  cfg = makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: redis.url, db: 0 },
      { name: 'vectors', type: 'faiss', path: faissFile, probe: { queries: 4, k: 5 } },
      { name: 'docs', type: 'qdrant', url: testEnv().qdrant.url, collection, mode: 'snapshot' },
    ],
    extra: {
      drill: {
        checks: [
          {
            name: 'env-and-ping',
            // The application test: it sees the scratch addresses, and the scratch Redis answers.
            command: [
              'sh',
              '-c',
              `env | grep '^LIFEBOAT_DRILL_' | sort > ${marker} && redis-cli -u "$LIFEBOAT_DRILL_META_URL" dbsize`,
            ],
          },
        ],
      },
    },
  });
  await (await initRepository({ url: cfg.config.repository.url }, cfg.env[Object.keys(cfg.env)[0]])).close();
  mkdirSync(faissDir, { recursive: true });
  await seedRedis(redis.url, 'd1');
  writeFaissIndex(faissFile, 7);
  chmodSync(faissFile, 0o640);
  await seedQdrant(qdrant, collection, 7);
  w = await startWorkerFor(cfg.config);
});

after(async () => {
  await w?.stop();
  await redis?.stop();
});

interface FullState {
  redis: Map<string, string>;
  faiss: { sha: string; mode: number };
  qdrant: string;
}

async function production(): Promise<FullState> {
  return {
    redis: await redisSnapshot(redis.url),
    faiss: { sha: sha256(readFileSync(faissFile)), mode: statSync(faissFile).mode & 0o7777 },
    qdrant: await qdrantSnapshot(qdrant, collection),
  };
}

function assertSame(got: FullState, want: FullState, what: string) {
  assert.deepEqual(snapshotDiff(got.redis, want.redis), [], `${what}: production Redis changed`);
  assert.deepEqual(got.faiss, want.faiss, `${what}: production FAISS file changed`);
  assert.equal(got.qdrant, want.qdrant, `${what}: production Qdrant collection changed`);
}

const backup = () =>
  w.client.workflow.execute(backupWorkflow, { taskQueue: cfg.taskQueue, workflowId: id('backup'), args: [{}] });

const scratchPorts = new Map<string, number[]>();
const notePorts = (r: DrillRecord) => scratchPorts.set(r.drillId, scratchRedisPorts(r));
const assertNothingLeft = (drillId: string) =>
  assertDrillLeftNothing(cfg.config, drillId, { ports: scratchPorts.get(drillId) ?? [], qdrant });
const storedRecord = (drillId: string) => storedDrillRecord(cfg.config, drillId);

test('a drill of all three stores restores into scratch targets, validates, times, cleans up and records; production is untouched', async () => {
  const point = await backup();
  const before = await production();
  const handle = await w.client.workflow.start(drillWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: id('drill'),
    args: [{ trigger: 'test' }],
  });
  // Production checked while the drill runs, not only after.
  let during = 0;
  let done = false;
  const result = handle.result().finally(() => (done = true));
  while (!done) {
    assertSame(await production(), before, 'during the drill');
    during++;
  }
  const r = await result;
  notePorts(r);
  // The measured figures, for the record (never asserted as timings).
  console.log(
    `# drill ${r.drillId}: RTO ${r.rtoMs} ms (target ${r.rtoTargetMs} ms); ` +
      r.sources
        .map(
          (s) => `${s.source} ${s.rtoMs} ms (restore ${s.restoreMs}, validation ${s.validationMs}), ${s.items} items`,
        )
        .join('; '),
  );
  assert.ok(scratchPorts.get(r.drillId)!.length === 1);
  assert.ok(during > 0);
  assertSame(await production(), before, 'after the drill');

  assert.equal(r.verdict, 'passed', r.reasons.join('; '));
  assert.equal(r.recoveryPointId, point.recoveryPointId);
  assert.deepEqual(
    r.sources.map((s) => [s.source, s.ok, s.restoreStatus]),
    [
      ['meta', true, 'verified'],
      ['docs', true, 'verified'],
      ['vectors', true, 'verified'],
    ],
  );
  const byName = Object.fromEntries(r.sources.map((s) => [s.source, s]));
  // Scratch targets, never the production ones.
  assert.match(byName.meta.target, /throw-away redis-server/);
  assert.ok(!byName.meta.target.includes(redis.url), byName.meta.target);
  assert.ok(byName.vectors.target.startsWith(path.join(cfg.config.worker.scratchDir, 'drills', r.drillId)));
  assert.ok(byName.docs.target.includes(drillCollectionPrefix(r.drillId)), byName.docs.target);
  // Validation found exactly what the backup recorded.
  assert.equal(byName.meta.items, 507);
  assert.equal(byName.vectors.items, 300);
  assert.equal(byName.docs.items, 200);
  assert.match(byName.vectors.validation!, /4 probe queries give the recorded neighbours/);
  assert.match(byName.docs.validation!, /200 points: count and digest equal/);
  // Measured RTO: per source and whole, compared with the dev preset's target (2h).
  for (const s of r.sources) {
    assert.ok(s.rtoMs! > 0 && s.rtoMs! === (s.restoreMs ?? 0) + s.validationMs!, JSON.stringify(s));
    assert.equal(s.rtoTargetMs, 2 * 3600_000);
  }
  assert.ok(r.rtoMs! >= Math.max(...r.sources.map((s) => s.validationMs!)));
  assert.equal(r.rtoTargetMs, 2 * 3600_000);
  // The user check ran with the scratch addresses and passed.
  assert.deepEqual(
    r.checks.map((c) => [c.name, c.ok, c.exitCode]),
    [['env-and-ping', true, 0]],
  );
  assert.match(r.checks[0].output, /^507\s*$/m);
  const env = readFileSync(marker, 'utf8');
  assert.match(
    env,
    new RegExp(`^LIFEBOAT_DRILL_DOCS_COLLECTION=${drillCollectionPrefix(r.drillId)}${collection}$`, 'm'),
  );
  assert.match(env, /^LIFEBOAT_DRILL_META_URL=redis:\/\/127\.0\.0\.1:\d+$/m);
  assert.ok(!env.includes(`=${redis.url}\n`), 'the check never sees the production Redis');
  // Cleanup: reported, and really done.
  assert.equal(r.cleanup.ok, true, r.cleanup.failures.join('; '));
  assert.ok(
    r.cleanup.removed.some((x) => /redis-server pid \d+ \(meta\) stopped/.test(x)),
    r.cleanup.removed.join('; '),
  );
  assert.ok(
    r.cleanup.removed.some((x) => x.startsWith('collection ')),
    r.cleanup.removed.join('; '),
  );
  await assertNothingLeft(r.drillId);
  // Durable: the record in the repository is the result.
  assert.deepEqual(await storedRecord(r.drillId), r);
});

test('a drill of a point damaged after backup fails, names the source and the object, and still cleans up', async () => {
  const chunkFiles = () => {
    const data = path.join(cfg.config.repository.url, 'data');
    return new Set(readdirSync(data).flatMap((d) => readdirSync(path.join(data, d)).map((f) => path.join(data, d, f))));
  };
  const known = chunkFiles();
  // Only the FAISS index changes, so the new chunks are the vectors source's.
  writeFaissIndex(faissFile, 8);
  const point = await backup();
  const added = [...chunkFiles()].filter((f) => !known.has(f));
  assert.ok(added.length > 0, 'the second backup stored new chunks');
  const damaged = added[0];
  const bytes = readFileSync(damaged);
  const original = Buffer.from(bytes);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  chmodSync(damaged, 0o600);
  writeFileSync(damaged, bytes);
  const before = await production();
  try {
    const handle = await w.client.workflow.start(drillWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: id('drill-damaged'),
      args: [{ recoveryPointId: point.recoveryPointId }],
    });
    const e = await handle.result().then(
      () => assert.fail('the drill should fail'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof WorkflowFailedError, String(e));
    const cause = e.cause as { type?: string; message: string; details?: unknown[] };
    assert.equal(cause.type, 'DRILL_FAILED', cause.message);
    const rec = cause.details?.[0] as DrillRecord;
    assert.equal(rec.verdict, 'failed');
    assert.deepEqual((await handle.describe()).searchAttributes.LifeboatPhase, ['failed'], 'the verdict, for the UI');
    const reason = rec.reasons.join('; ');
    // A Qdrant snapshot and a FAISS file both change between the backups: the reason names whose chunk it was.
    assert.match(reason, /(meta|vectors|docs) artifact /, `names the source: ${reason}`);
    assert.ok(reason.includes(path.basename(damaged)), `names the damaged object ${path.basename(damaged)}: ${reason}`);
    assert.equal(rec.cleanup.ok, true, rec.cleanup.failures.join('; '));
    await assertNothingLeft(rec.drillId);
    assert.deepEqual(await storedRecord(rec.drillId), rec);
    assertSame(await production(), before, 'after the failed drill');
  } finally {
    writeFileSync(damaged, original);
  }
});
