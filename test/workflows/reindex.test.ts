/**
 * Issue 15, reindex: 20k Redis records rebuilt into Qdrant (new collection, alias switched) and into
 * FAISS (new file, atomic rename) through a deterministic OpenAI-compatible embedding server, on the
 * real Temporal server and worker. Search results equal a reference built directly from the same
 * embeddings; 429/500 bursts and a rate limit slow it down without failing; a SIGKILLed worker
 * resumes and embeds each record once; a dimension mismatch leaves the live collection and alias as
 * they were.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { QdrantClient } from '@qdrant/js-client-rest';
import { Redis } from 'ioredis';
import { reindexProgressQuery, reindexWorkflow } from '../../workflows';
import { startRedis, type RedisServer } from '../servers/redis';
import { embedFor, startEmbeddingServer, type EmbeddingServer } from '../servers/embeddings';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir, testEnv } from '../harness/env';
import { rootMessage, sha256, startWorkerFor } from './helpers';
import { spawnWorker, readLog } from './worker-process';

const N = 20_000;
const D = 32;
const dir = scratchDir('reindex');
const tag = randomUUID().slice(0, 6);
const alias = `ri-docs-${tag}`;
const liveCollection = `ri-docs-${tag}-old`;
const faissFile = path.join(dir, 'faiss', 'docs.index');
const text = (i: number) => `document ${i} about topic ${i % 97} and ${(i * 7919) % 1013}`;
let redis: RedisServer;
let emb: EmbeddingServer;
let cfg: TestConfig;
let qdrant: QdrantClient;
let w: Awaited<ReturnType<typeof startWorkerFor>> | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = (k: string) => `test-${k}-${randomUUID().slice(0, 8)}`;

function config(extra: Record<string, unknown> = {}) {
  return makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: redis.url, db: 0 },
      {
        name: 'docs',
        type: 'qdrant',
        url: testEnv().qdrant.url,
        collection: `ri-docs-${tag}-base`,
        alias,
        mode: 'points',
      },
      { name: 'vectors', type: 'faiss', path: faissFile, probe: false },
    ],
    extra: {
      reindex: {
        keys: 'doc:*',
        textField: 'text',
        idField: 'id',
        payloadFields: ['title'],
        embedding: { url: emb.url, model: 'test-embed-32' },
        batchSize: 100,
        concurrency: 4,
        batchesPerRun: 10,
        probes: 5,
        ...extra,
      },
    },
  });
}

before(async () => {
  redis = await startRedis(path.join(dir, 'redis'));
  emb = await startEmbeddingServer({ dimension: D });
  const r = new Redis(redis.url);
  for (let start = 0; start < N; start += 2000) {
    const p = r.pipeline();
    for (let i = start; i < start + 2000; i++) p.hset(`doc:${i}`, { id: String(i), text: text(i), title: `t${i}` });
    await p.exec();
  }
  await r.set('not-a-doc', 'x');
  r.disconnect();
  cfg = config();
  qdrant = new QdrantClient({ url: testEnv().qdrant.url, checkCompatibility: false });
});

after(async () => {
  await w?.stop();
  await emb?.close();
  await redis?.stop();
});

/** A "corrupted" live collection behind the alias: a few wrong points of the right dimension. */
async function seedLiveQdrant() {
  if ((await qdrant.collectionExists(liveCollection)).exists) await qdrant.deleteCollection(liveCollection);
  await qdrant.createCollection(liveCollection, { vectors: { size: D, distance: 'Cosine' } });
  await qdrant.upsert(liveCollection, {
    wait: true,
    points: Array.from({ length: 10 }, (_, i) => ({
      id: i,
      vector: embedFor(`garbage ${i}`, D),
      payload: { bad: true },
    })),
  });
  await qdrant.updateCollectionAliases({
    actions: [{ create_alias: { alias_name: alias, collection_name: liveCollection } }],
  });
}

/** Exact top-k by cosine over the reference embeddings (what a correct index must answer). */
let refVectors: number[][] | undefined;
function referenceTopK(q: number[], k: number): number[] {
  const scored: { i: number; s: number }[] = [];
  refVectors ??= Array.from({ length: N }, (_, i) => embedFor(text(i), D));
  for (let i = 0; i < N; i++) {
    const v = refVectors[i];
    let s = 0;
    for (let j = 0; j < D; j++) s += v[j] * q[j];
    scored.push({ i, s });
  }
  return scored
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, k)
    .map((x) => x.i);
}

const queries = Array.from({ length: 12 }, (_, i) => embedFor(`query ${i} topic ${i * 5}`, D));

async function aliasTarget(): Promise<string | undefined> {
  return (await qdrant.getAliases()).aliases.find((a) => a.alias_name === alias)?.collection_name;
}

test('reindex into Qdrant: new collection, alias switched; search results equal the reference; each record embedded once', async () => {
  await seedLiveQdrant();
  emb.counts.clear();
  w = await startWorkerFor(cfg.config);
  const handle = await w.client.workflow.start(reindexWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: id('reindex-qdrant'),
    args: [{ from: 'meta', to: 'docs' }],
  });
  const res = await handle.result();
  assert.equal(res.records, N);
  assert.ok(res.runs >= 5, `continued as new (runs ${res.runs})`);
  const now = await aliasTarget();
  assert.ok(now && now !== liveCollection, `alias switched to the new collection (${now})`);
  assert.equal(
    (await qdrant.collectionExists(liveCollection)).exists,
    false,
    'the old collection was dropped after the switch',
  );
  assert.equal((await qdrant.count(alias, { exact: true })).count, N);
  for (const q of queries) {
    const hits = (await qdrant.query(alias, { query: q, limit: 10 })).points;
    assert.deepEqual(
      hits.map((h) => Number(h.id)),
      referenceTopK(q, 10),
    );
  }
  const [p] = await qdrant.retrieve(alias, { ids: [1234], with_payload: true });
  assert.deepEqual(p.payload, { title: 't1234' });
  assert.equal(emb.counts.size, N + 1, 'every record (and the one dimension probe) was embedded');
  for (let i = 0; i < N; i++) assert.equal(emb.counts.get(text(i)), 1, `record ${i} embedded once`);
  const prog = await handle.query(reindexProgressQuery);
  assert.equal(prog.records, N);
  assert.equal(prog.phase, 'done');
});

test('reindex into FAISS under 429/500 bursts and a rate limit: new file renamed in; searches equal a reference index', async () => {
  await w?.stop();
  w = undefined;
  // The live file: a wrong index of the right dimension.
  const faiss = require('faiss-node') as typeof import('faiss-node');
  require('node:fs').mkdirSync(path.dirname(faissFile), { recursive: true });
  const bad = new faiss.IndexFlatL2(D);
  bad.add(Array.from({ length: 5 * D }, (_, i) => Math.sin(i)));
  bad.write(faissFile);
  const rated = config({ requestsPerSecond: 40 });
  w = await startWorkerFor(rated.config);
  emb.counts.clear();
  emb.requests.ok = 0;
  emb.requests.throttled = 0;
  emb.set({ fail429: 6, retryAfter: 1, fail500: 3 });
  const t0 = Date.now();
  const res = await w.client.workflow.execute(reindexWorkflow, {
    taskQueue: rated.taskQueue,
    workflowId: id('reindex-faiss'),
    args: [{ from: 'meta', to: 'vectors' }],
  });
  const took = (Date.now() - t0) / 1000;
  assert.equal(res.records, N);
  assert.ok(emb.requests.throttled >= 6, `429s were answered (${emb.requests.throttled})`);
  // 201 successful requests at 40/s cannot take less than 5 s (a lower bound: never flaky).
  assert.ok(took >= (emb.requests.ok - 1) / 40, `rate limit held: ${emb.requests.ok} requests in ${took} s`);
  const got = faiss.Index.read(faissFile);
  assert.equal(got.ntotal(), N);
  assert.equal(got.getDimension(), D);
  const ref = new faiss.IndexFlatL2(D);
  for (let s = 0; s < N; s += 1000) ref.add(Array.from({ length: 1000 }, (_, j) => embedFor(text(s + j), D)).flat());
  for (const q of queries) {
    const a = got.search(q, 10);
    const b = ref.search(q, 10);
    assert.deepEqual(a.labels, b.labels);
    assert.deepEqual(a.distances, b.distances);
  }
  assert.deepEqual(readFileSync(faissFile), ref.toBuffer(), 'the file equals the reference index byte for byte');
  for (let i = 0; i < N; i++) assert.equal(emb.counts.get(text(i)), 1, `record ${i} embedded once despite retries`);
});

test('a SIGKILLed worker mid-reindex: a new worker resumes from the checkpoint and embeds each record once', async () => {
  await w?.stop();
  w = undefined;
  await seedLiveQdrant();
  emb.counts.clear();
  emb.set({ delayMs: 20 });
  const first = spawnWorker(cfg.file, cfg.env, path.join(dir, 'worker-1.log'));
  const connection = await Connection.connect({ address: cfg.config.temporal.address });
  const client = new Client({ connection, namespace: cfg.config.temporal.namespace });
  try {
    const handle = await client.workflow.start(reindexWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: id('reindex-kill'),
      args: [{ from: 'meta', to: 'docs' }],
    });
    const deadline = Date.now() + 180_000;
    for (;;) {
      const p = await handle.query(reindexProgressQuery).catch(() => undefined);
      if (p && p.records >= 4000) break;
      assert.ok(Date.now() < deadline, `no progress: ${readLog(first.log).slice(-2000)}`);
      await sleep(200);
    }
    // Hold the embedding answers, so the kill lands with requests in flight (they are never answered).
    emb.set({ hold: true });
    while (emb.held() === 0) await sleep(20);
    await first.kill('SIGKILL');
    await sleep(500);
    emb.set({ hold: false, delayMs: 0 });
    const second = spawnWorker(cfg.file, cfg.env, path.join(dir, 'worker-2.log'));
    try {
      const res = await handle.result();
      assert.equal(res.records, N);
      for (let i = 0; i < N; i++)
        assert.equal(emb.counts.get(text(i)), 1, `record ${i} embedded once across the crash`);
      assert.equal((await qdrant.count(alias, { exact: true })).count, N);
      const q = queries[0];
      assert.deepEqual(
        (await qdrant.query(alias, { query: q, limit: 10 })).points.map((h) => Number(h.id)),
        referenceTopK(q, 10),
      );
    } finally {
      await second.kill('SIGTERM');
    }
  } finally {
    await first.kill();
    await connection.close();
  }
});

test('a dimension mismatch fails before anything is switched: live collection, alias and FAISS file untouched', async () => {
  w ??= await startWorkerFor(cfg.config);
  await seedLiveQdrant();
  const before = {
    alias: await aliasTarget(),
    collections: (await qdrant.getCollections()).collections.map((c) => c.name).sort(),
    points: JSON.stringify((await qdrant.scroll(liveCollection, { limit: 100, with_vector: true })).points),
    faiss: sha256(readFileSync(faissFile)),
  };
  emb.set({ dimension: 48 });
  try {
    for (const to of ['docs', 'vectors']) {
      const e: unknown = await w.client.workflow
        .execute(reindexWorkflow, {
          taskQueue: cfg.taskQueue,
          workflowId: id(`reindex-dim-${to}`),
          args: [{ from: 'meta', to }],
        })
        .then(
          () => assert.fail('a reindex with the wrong dimension should fail'),
          (x: unknown) => x,
        );
      assert.ok(e instanceof WorkflowFailedError);
      assert.match(rootMessage(e), /dimension 48, but .* holds dimension 32; nothing was changed/);
      assert.equal((e.cause as { type?: string }).type, 'REINDEX_DIMENSION_MISMATCH');
    }
  } finally {
    emb.set({ dimension: D });
  }
  assert.deepEqual(
    {
      alias: await aliasTarget(),
      collections: (await qdrant.getCollections()).collections.map((c) => c.name).sort(),
      points: JSON.stringify((await qdrant.scroll(liveCollection, { limit: 100, with_vector: true })).points),
      faiss: sha256(readFileSync(faissFile)),
    },
    before,
  );
  // A 4xx is not retried: it fails at once, naming the status and the fix.
  emb.set({ apiKey: 'right-key' });
  try {
    const e: unknown = await w.client.workflow
      .execute(reindexWorkflow, {
        taskQueue: cfg.taskQueue,
        workflowId: id('reindex-401'),
        args: [{ from: 'meta', to: 'docs' }],
      })
      .then(
        () => assert.fail('a rejected API key should fail the reindex'),
        (x: unknown) => x,
      );
    assert.match(rootMessage(e), /rejected the request with HTTP 401: Incorrect API key provided; check the API key/);
  } finally {
    emb.set({ apiKey: undefined });
  }
  assert.equal(await aliasTarget(), liveCollection);
});
