import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { Redis } from 'ioredis';
import { backupWorkflow, consistencyCheckWorkflow, restoreWorkflow } from '../../workflows';
import type { ConsistencyReport } from '../../lib/consistency';
import { CONSISTENCY_RECORD_KIND } from '../../lib/consistency';
import { openConfiguredRepository } from '../../runtime/configured-repository';
import { idMapIndex, vectorFor, writeIndex } from '../consistency/faiss-files';
import { makeStores, qdrantSnapshot, redisSnapshot, snapshotDiff, startWorkerFor, type Stores } from './helpers';

const run = promisify(execFile);
const projectRoot = path.resolve(__dirname, '..', '..');
const D = 8;
const N = 50;
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

let stores: Stores;
let w: Awaited<ReturnType<typeof startWorkerFor>>;
const wid = (kind: string) => `test-${kind}-${randomUUID().slice(0, 8)}`;

/** The same N things in all three stores: Redis records chimera-vectors:<i>, FAISS IDMap ids i, Qdrant points i. */
async function seedConsistent(n = N): Promise<void> {
  const r = new Redis(stores.redis.url);
  try {
    await r.flushdb();
    const p = r.pipeline();
    for (const i of ids(n)) p.hset(`chimera-vectors:${i}`, { title: `doc ${i}`, doc_id: String(i) });
    p.set('chimera-users:1', '{"name":"ada"}');
    await p.exec();
  } finally {
    r.disconnect();
  }
  writeFaiss(
    ids(n).map((i) => vectorFor(i, D)),
    ids(n),
  );
  const q = stores.qdrant;
  if ((await q.collectionExists(stores.collection)).exists) await q.deleteCollection(stores.collection);
  await q.createCollection(stores.collection, { vectors: { size: D, distance: 'Cosine' } });
  await q.upsert(stores.collection, {
    wait: true,
    points: ids(n).map((i) => ({ id: i, vector: vectorFor(i, D), payload: { doc_id: i } })),
  });
}

function writeFaiss(vectors: number[][], labels: number[], d = D): void {
  writeIndex(stores.faissFile, idMapIndex(vectors, labels, d));
}

async function check(): Promise<ConsistencyReport> {
  return w.client.workflow.execute(consistencyCheckWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: wid('check'),
    args: [{}],
  });
}

/** Asserts the report fails and some problem matches every pattern given. */
function assertFound(r: ConsistencyReport, ...patterns: RegExp[]): void {
  assert.equal(r.ok, false, 'the check found the defect');
  for (const re of patterns)
    assert.ok(
      r.problems.some((p) => re.test(p)),
      `no problem matching ${re}; problems:\n${r.problems.join('\n')}`,
    );
}

before(async () => {
  stores = await makeStores('consist', [], {
    consistency: {
      links: [
        {
          name: 'chimera',
          dimension: D,
          examples: 5,
          redis: { source: 'meta', pattern: 'chimera-vectors:*', id: 'key-suffix' },
          faiss: { source: 'vectors', ids: 'idmap' },
          qdrant: { source: 'docs' },
          compare: { sample: 1000, tolerance: 1e-5 },
        },
        {
          name: 'by-field',
          redis: { source: 'meta', pattern: 'chimera-vectors:*', id: { hashField: 'doc_id' } },
          qdrant: { source: 'docs', id: { payloadField: 'doc_id' } },
        },
      ],
    },
  });
  mkdirSync(stores.faissDir, { recursive: true });
  w = await startWorkerFor(stores.cfg.config);
});

after(async () => {
  await w?.stop();
  await stores?.stop();
});

test('consistent stores pass: every id in all three, vectors checked and compared; the report is stored', async () => {
  await seedConsistent();
  const r = await check();
  assert.deepEqual(r.problems, []);
  assert.equal(r.ok, true);
  assert.deepEqual(
    r.links.map((l) => l.link),
    ['chimera', 'by-field'],
  );
  const [link] = r.links;
  assert.deepEqual(
    link.stores.map((s) => [s.store, s.source, s.count, s.unique]),
    [
      ['redis', 'meta', N, N],
      ['faiss', 'vectors', N, N],
      ['qdrant', 'docs', N, N],
    ],
  );
  assert.equal(link.stores[1].vectors!.checked, N);
  assert.equal(link.stores[2].vectors!.checked, N);
  // Every common id was sampled (sample ≥ N), Cosine: compared L2-normalised, all equal.
  assert.deepEqual(
    link.comparison && [link.comparison.sampled, link.comparison.normalized, link.comparison.differing.count],
    [N, true, 0],
  );
  const repo = await openConfiguredRepository(stores.cfg.config);
  try {
    const rec = await repo.records.get<ConsistencyReport>(CONSISTENCY_RECORD_KIND, r.id);
    assert.equal(rec?.body.ok, true);
    assert.equal(rec?.body.links[0].link, 'chimera');
  } finally {
    await repo.close();
  }
});

test('a Redis record without vectors is found and named', async () => {
  await seedConsistent();
  const r = new Redis(stores.redis.url);
  await r.hset('chimera-vectors:777', { title: 'orphan' });
  r.disconnect();
  assertFound(
    await check(),
    /^chimera: 1 records of meta \(redis\) have no FAISS vector in vectors \(faiss\), e\.g\. 777$/,
    /^chimera: 1 records of meta \(redis\) have no Qdrant point in docs \(qdrant\), e\.g\. 777$/,
  );
});

test('ids read from a hash field and a payload field: a duplicate and a record without the field are named', async () => {
  await seedConsistent();
  const r = new Redis(stores.redis.url);
  await r.hset('chimera-vectors:copy', { doc_id: '7' });
  await r.hset('chimera-vectors:nofield', { title: 'x' });
  r.disconnect();
  const report = await check();
  assertFound(
    report,
    /^by-field: meta \(redis\): 1 ids occur more than once, e\.g\. 7$/,
    /^by-field: meta \(redis\): 1 records have no readable id, e\.g\. chimera-vectors:nofield$/,
  );
  const link = report.links.find((l) => l.link === 'by-field')!;
  assert.deepEqual(
    link.stores.map((s) => [s.store, s.count, s.unique]),
    [
      ['redis', N + 1, N],
      ['qdrant', N, N],
    ],
  );
});

test('a Qdrant point without a record is found and named', async () => {
  await seedConsistent();
  await stores.qdrant.upsert(stores.collection, { wait: true, points: [{ id: 888, vector: vectorFor(888, D) }] });
  assertFound(
    await check(),
    /1 points of docs \(qdrant\) have no record in meta \(redis\), e\.g\. 888$/,
    /1 points of docs \(qdrant\) have no FAISS vector in vectors \(faiss\), e\.g\. 888$/,
  );
});

test('a FAISS id without a record, and a duplicate FAISS id, are found and named', async () => {
  await seedConsistent();
  writeFaiss([...ids(N).map((i) => vectorFor(i, D)), vectorFor(5000, D)], [...ids(N), 5000]);
  assertFound(await check(), /1 vectors of vectors \(faiss\) have no record in meta \(redis\), e\.g\. 5000$/);
  writeFaiss([...ids(N).map((i) => vectorFor(i, D)), vectorFor(7, D)], [...ids(N), 7]);
  const r = await check();
  assertFound(r, /^chimera: vectors \(faiss\): 1 ids occur more than once, e\.g\. 7$/);
  assert.equal(r.problems.length, 1, r.problems.join('\n'));
});

test('a NaN vector and an all-zero vector are found and named', async () => {
  await seedConsistent();
  const vs = ids(N).map((i) => vectorFor(i, D));
  vs[3][2] = NaN;
  vs[9] = new Array<number>(D).fill(0);
  writeFaiss(vs, ids(N));
  assertFound(
    await check(),
    /^chimera: vectors \(faiss\): 1 vectors hold NaN or Infinity, e\.g\. 3$/,
    /^chimera: vectors \(faiss\): 1 vectors are all zeros, e\.g\. 9$/,
  );
});

test('a vector store of another dimension is found and named', async () => {
  await seedConsistent();
  writeFaiss(
    ids(N).map((i) => vectorFor(i, 6)),
    ids(N),
    6,
  );
  assertFound(await check(), /^chimera: vectors \(faiss\): vectors have dimension 6, the link expects 8$/);
});

test('a FAISS/Qdrant vector pair that differs is found and named', async () => {
  await seedConsistent();
  const vs = ids(N).map((i) => vectorFor(i, D));
  vs[12] = vs[12].map((x, j) => (j === 0 ? x + 0.5 : x));
  writeFaiss(vs, ids(N));
  const r = await check();
  assertFound(
    r,
    /^chimera: 1 of 50 sampled ids have different vectors in vectors \(faiss\) and docs \(qdrant\).*e\.g\. 12 \(max difference/,
  );
  assert.equal(r.problems.length, 1, r.problems.join('\n'));
});

test('lifeboat check exits non-zero naming the disagreement (--json)', async () => {
  await seedConsistent();
  const redis = new Redis(stores.redis.url);
  await redis.hset('chimera-vectors:999', { title: 'no vectors' });
  redis.disconnect();
  const env = { ...process.env, ...stores.cfg.env, LIFEBOAT_CONFIG: stores.cfg.file };
  const res = await run(path.join(projectRoot, 'bin', 'lifeboat'), ['check', '--link', 'chimera', '--json'], {
    env,
    maxBuffer: 16 << 20,
  }).then(
    (x) => ({ code: 0, stdout: x.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
  assert.equal(res.code, 5, res.stdout);
  const doc = JSON.parse(res.stdout) as { ok: boolean; result: ConsistencyReport };
  assert.equal(doc.ok, false);
  assert.ok(
    doc.result.problems.some((p) =>
      /records of meta \(redis\) have no Qdrant point in docs \(qdrant\), e\.g\. 999$/.test(p),
    ),
    doc.result.problems.join('\n'),
  );
});

test('restore --check-consistency: Redis from the newer point passes; Qdrant from an older point is refused and rolled back', async () => {
  // Point A: 50 things everywhere. Point B: 60 things everywhere.
  await seedConsistent(N);
  const a = await w.client.workflow.execute(backupWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: wid('backup'),
    args: [{}],
  });
  await seedConsistent(N + 10);
  const b = await w.client.workflow.execute(backupWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: wid('backup'),
    args: [{}],
  });

  const okRestore = await w.client.workflow.execute(restoreWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: wid('restore'),
    args: [{ recoveryPointId: b.recoveryPointId, sources: ['meta'], checkConsistency: true }],
  });
  assert.equal(okRestore.ok, true);

  const redisBefore = await redisSnapshot(stores.redis.url);
  const qdrantBefore = await qdrantSnapshot(stores.qdrant, stores.collection);
  const handle = await w.client.workflow.start(restoreWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: wid('restore'),
    args: [{ recoveryPointId: a.recoveryPointId, sources: ['docs'], checkConsistency: true }],
  });
  const err = await handle.result().then(
    () => assert.fail('the restore passed the consistency gate'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  const failure = err.cause as { message: string; type?: string; details?: unknown[] };
  assert.equal(failure.type, 'RESTORE_FAILED');
  assert.match(
    failure.message,
    /consistency check failed \(report restore-[0-9a-f]+\): chimera: 10 records of meta \(redis\) have no Qdrant point in docs \(qdrant\), e\.g\. 50, 51, 52, 53, 54/,
  );
  assert.match(failure.message, /rolled back docs/);
  // Rolled back: both stores exactly as before the refused restore.
  assert.equal(await qdrantSnapshot(stores.qdrant, stores.collection), qdrantBefore);
  assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), redisBefore), []);
  // The gate's report is kept with the restore it belongs to.
  const repo = await openConfiguredRepository(stores.cfg.config);
  try {
    const { records } = await repo.records.list<ConsistencyReport>(CONSISTENCY_RECORD_KIND);
    const mine = records.filter((x) => x.body.operation?.kind === 'restore');
    assert.equal(mine.length, 2);
    assert.deepEqual(mine.map((x) => x.body.ok).sort(), [false, true]);
  } finally {
    await repo.close();
  }
});
