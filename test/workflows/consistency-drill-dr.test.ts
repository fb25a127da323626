/**
 * The cross-store consistency check wired into drills (workflows/drill.ts) and DR
 * (workflows/dr-consistency.ts), on the real servers: a drill of consistent stores passes and
 * records the check; a drill of a point whose stores disagree fails naming the disagreement and
 * still cleans up; a DR whose recovery would leave stores disagreeing fails its validation and
 * puts every store back exactly as before; a DR of consistent stores reports the check passed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { Redis } from 'ioredis';
import { backupWorkflow, drillWorkflow } from '../../workflows';
import { CONSISTENCY_RECORD_KIND, type ConsistencyReport } from '../../lib/consistency';
import type { DrillRecord } from '../../lib/drill';
import type { DrReport } from '../../lib/dr';
import { createDrClient, type DrClient } from '../../client/dr';
import { openConfiguredRepository } from '../../runtime/configured-repository';
import { idMapIndex, vectorFor, writeIndex } from '../consistency/faiss-files';
import { makeStores, qdrantSnapshot, redisSnapshot, snapshotDiff, startWorkerFor, type Stores } from './helpers';
import { assertNothingLeft, scratchRedisPorts, storedDrillRecord } from './drill-helpers';

const D = 8;
const N = 40;
const ids = (n: number) => Array.from({ length: n }, (_, i) => i);
const wid = (kind: string) => `test-${kind}-${randomUUID().slice(0, 8)}`;

let stores: Stores;
let w: Awaited<ReturnType<typeof startWorkerFor>>;
let dr: DrClient;

before(async () => {
  stores = await makeStores('cwire', [], {
    consistency: {
      links: [
        {
          name: 'chimera',
          dimension: D,
          redis: { source: 'meta', pattern: 'chimera-vectors:*', id: 'key-suffix' },
          faiss: { source: 'vectors', ids: 'idmap' },
          qdrant: { source: 'docs' },
        },
      ],
    },
  });
  mkdirSync(stores.faissDir, { recursive: true });
  w = await startWorkerFor(stores.cfg.config);
  dr = createDrClient(stores.cfg.config, { temporalClient: w.client });
});

after(async () => {
  await w?.stop();
  await stores?.stop();
});

/** The same n things in all three stores (Redis chimera-vectors:<i>, FAISS IDMap id i, Qdrant point i); `tag` varies the data. */
async function seedConsistent(n: number, tag = 'a'): Promise<void> {
  const r = new Redis(stores.redis.url);
  try {
    await r.flushdb();
    const p = r.pipeline();
    for (const i of ids(n)) p.hset(`chimera-vectors:${i}`, { title: `doc ${i} ${tag}` });
    p.set('chimera-users:1', `{"name":"ada","tag":"${tag}"}`);
    await p.exec();
  } finally {
    r.disconnect();
  }
  writeIndex(
    stores.faissFile,
    idMapIndex(
      ids(n).map((i) => vectorFor(i, D)),
      ids(n),
      D,
    ),
  );
  const q = stores.qdrant;
  if ((await q.collectionExists(stores.collection)).exists) await q.deleteCollection(stores.collection);
  await q.createCollection(stores.collection, { vectors: { size: D, distance: 'Cosine' } });
  await q.upsert(stores.collection, {
    wait: true,
    points: ids(n).map((i) => ({ id: i, vector: vectorFor(i, D), payload: { doc_id: i, tag } })),
  });
}

/** A Qdrant point (and nothing else) for an id no Redis record or FAISS vector has. */
const plantQdrantOrphan = (id: number) =>
  stores.qdrant.upsert(stores.collection, { wait: true, points: [{ id, vector: vectorFor(id, D) }] });

interface State {
  redis: Map<string, string>;
  faiss: Buffer | null;
  qdrant: string | null;
}

async function state(): Promise<State> {
  const exists = (await stores.qdrant.collectionExists(stores.collection)).exists;
  return {
    redis: await redisSnapshot(stores.redis.url),
    faiss: existsSync(stores.faissFile) ? readFileSync(stores.faissFile) : null,
    qdrant: exists ? await qdrantSnapshot(stores.qdrant, stores.collection) : null,
  };
}

function assertSameState(got: State, want: State, what: string) {
  assert.deepEqual(snapshotDiff(got.redis, want.redis), [], `${what}: Redis differs`);
  assert.equal(got.redis.size, want.redis.size, `${what}: Redis key count`);
  assert.ok(
    got.faiss === null ? want.faiss === null : want.faiss !== null && got.faiss.equals(want.faiss),
    `${what}: FAISS file differs`,
  );
  assert.equal(got.qdrant, want.qdrant, `${what}: Qdrant points differ`);
}

const backup = async () =>
  (
    await w.client.workflow.execute(backupWorkflow, {
      taskQueue: stores.cfg.taskQueue,
      workflowId: wid('backup'),
      args: [{}],
    })
  ).recoveryPointId;

async function storedConsistencyReport(id: string): Promise<ConsistencyReport | undefined> {
  const repo = await openConfiguredRepository(stores.cfg.config);
  try {
    return (await repo.records.get<ConsistencyReport>(CONSISTENCY_RECORD_KIND, id))?.body;
  } finally {
    await repo.close();
  }
}

/** Polls until `f` returns a value (generous: the machine is shared). */
async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 240_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Declares a DR of all three stores (newest point of each) and approves its plan. */
async function declareAndApprove(incident: string) {
  await dr.declare({
    incidentId: incident,
    severity: 'sev2',
    sources: ['meta', 'vectors', 'docs'],
    declaredBy: 'dana',
    reason: 'consistency wiring test',
  });
  const s = await waitFor(`${incident} to wait for approval`, async () => {
    const x = await dr.status(incident);
    return x.phase === 'awaiting-approval' ? x : undefined;
  });
  await dr.approve(incident, { as: 'dana', planVersion: s.plan!.version });
  return s.plan!;
}

test('a drill of consistent stores passes the consistency check of its scratch targets; production untouched', async () => {
  await seedConsistent(N);
  const point = await backup();
  const prod = await state();
  const r = await w.client.workflow.execute(drillWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: wid('drill'),
    args: [{ trigger: 'test' }],
  });
  assert.equal(r.verdict, 'passed', r.reasons.join('; '));
  assert.equal(r.recoveryPointId, point);
  assert.ok(r.consistency, 'the drill recorded its consistency check');
  assert.deepEqual(
    { ok: r.consistency.ok, links: r.consistency.links, problems: r.consistency.problems },
    { ok: true, links: ['chimera'], problems: [] },
  );
  const report = await storedConsistencyReport(r.consistency.reportId);
  assert.ok(report, `consistency report ${r.consistency.reportId} is stored`);
  assert.equal(report.ok, true);
  assert.deepEqual(report.operation, { kind: 'drill', id: r.drillId });
  // The check read the scratch copies: N of each, not production (which also has N, so look at the targets).
  const link = report.links[0];
  assert.deepEqual(
    link.stores.map((s) => [s.store, s.count]),
    [
      ['redis', N],
      ['faiss', N],
      ['qdrant', N],
    ],
  );
  assertSameState(await state(), prod, 'after the drill');
  await assertNothingLeft(stores.cfg.config, r.drillId, { ports: scratchRedisPorts(r), qdrant: stores.qdrant });
  assert.deepEqual(await storedDrillRecord(stores.cfg.config, r.drillId), r);
});

test('a drill of a point whose stores disagree fails naming the disagreement, and still cleans up', async () => {
  await seedConsistent(N);
  await plantQdrantOrphan(888);
  const point = await backup();
  const prod = await state();
  const handle = await w.client.workflow.start(drillWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: wid('drill-disagree'),
    args: [{ recoveryPointId: point }],
  });
  const e = await handle.result().then(
    () => assert.fail('the drill of disagreeing stores passed'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof WorkflowFailedError, String(e));
  const cause = e.cause as { type?: string; message: string; details?: unknown[] };
  assert.equal(cause.type, 'DRILL_FAILED', cause.message);
  assert.match(cause.message, /cross-store consistency failed .*1 points of docs \(qdrant\) have no record in meta/);
  const rec = cause.details?.[0] as DrillRecord;
  assert.equal(rec.verdict, 'failed');
  // Every store restored and validated on its own: only the cross-store check fails it.
  assert.ok(
    rec.sources.every((s) => s.ok),
    JSON.stringify(rec.sources),
  );
  assert.equal(rec.consistency?.ok, false);
  assert.deepEqual(rec.consistency?.links, ['chimera']);
  for (const re of [
    /^chimera: 1 points of docs \(qdrant\) have no record in meta \(redis\), e\.g\. 888$/,
    /^chimera: 1 points of docs \(qdrant\) have no FAISS vector in vectors \(faiss\), e\.g\. 888$/,
  ])
    assert.ok(
      rec.consistency!.problems.some((p) => re.test(p)),
      `${re}: ${rec.consistency!.problems.join('\n')}`,
    );
  assert.ok(
    rec.reasons.some((x) => x.includes(`report ${rec.consistency!.reportId}`)),
    rec.reasons.join('; '),
  );
  const report = await storedConsistencyReport(rec.consistency!.reportId);
  assert.deepEqual(report && [report.ok, report.operation], [false, { kind: 'drill', id: rec.drillId }]);
  assert.equal(rec.cleanup.ok, true, rec.cleanup.failures.join('; '));
  await assertNothingLeft(stores.cfg.config, rec.drillId, { ports: scratchRedisPorts(rec), qdrant: stores.qdrant });
  assert.deepEqual(await storedDrillRecord(stores.cfg.config, rec.drillId), rec);
  assertSameState(await state(), prod, 'after the failed drill');
});

test('a DR whose newest point holds disagreeing stores fails its consistency step and rolls every store back', async () => {
  // The newest point: every store matches it, but Qdrant has a point no record or vector has.
  await seedConsistent(N, 'old');
  await plantQdrantOrphan(999);
  await backup();
  // Then production changes everywhere (consistently): the DR restores all three, then must undo all three.
  await seedConsistent(N + 5, 'live');
  const beforeDr = await state();
  const incident = `INC-${randomUUID().slice(0, 6)}`;
  const plan = await declareAndApprove(incident);
  assert.deepEqual(plan.recoveries.map((r) => r.source).sort(), ['docs', 'meta', 'vectors']);
  await assert.rejects(dr.result(incident), (e: Error) => {
    const msg = String((e as { cause?: Error }).cause?.message ?? e.message);
    assert.match(msg, /cross-store consistency check failed/, msg);
    return true;
  });
  assertSameState(await state(), beforeDr, 'after the failed DR');
  const report = (await dr.report(incident)) as DrReport;
  assert.equal(report.outcome, 'failed');
  assert.ok(
    report.validation.every((v) => v.ok),
    `each store matched its own point: ${JSON.stringify(report.validation)}`,
  );
  assert.equal(report.consistency.status, 'failed');
  assert.match(report.consistency.detail, /1 points of docs \(qdrant\) have no record in meta \(redis\), e\.g\. 999/);
  assert.ok(
    report.groups.every((g) => g.status === 'rolled-back'),
    JSON.stringify(report.groups.map((g) => g.status)),
  );
  const reportId = /report (\S+):/.exec(report.consistency.detail)?.[1];
  const stored = reportId ? await storedConsistencyReport(reportId) : undefined;
  assert.deepEqual(stored && [stored.ok, stored.operation], [false, { kind: 'dr', id: incident }]);
});

test('a DR of consistent stores reports the consistency check passed', async () => {
  await seedConsistent(N, 'good');
  const original = await state();
  await backup();
  await seedConsistent(3, 'damaged');
  await plantQdrantOrphan(777);
  const incident = `INC-${randomUUID().slice(0, 6)}`;
  await declareAndApprove(incident);
  const report = await dr.result(incident);
  assert.equal(report.outcome, 'recovered');
  assertSameState(await state(), original, 'after the DR');
  assert.equal(report.consistency.status, 'passed', report.consistency.detail);
  assert.match(report.consistency.detail, /^links chimera agree \(report \S+\)$/);
});
