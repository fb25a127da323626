/**
 * Reindex: rebuild a Qdrant collection or a FAISS index from the records of a Redis source, through
 * an OpenAI-compatible embedding API, beside the live store (a new collection / a new file), then
 * switched in atomically once validated. Batches are cached on the worker's disk as they are
 * embedded, so a retried batch (after a crash) re-embeds nothing that already came back.
 */
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { QdrantClient } from '@qdrant/js-client-rest';
import type { LifeboatConfig, QdrantSourceConfig, RedisSourceConfig, ReindexConfig, SourceConfig } from '../config';
import { resolveSecret } from '../config';
import { LifeboatError } from '../lib/errors';
import { readFaissHeader } from '../sources/faiss';
import { createEmbeddingClient, type EmbeddingClient } from '../sources/embeddings/client';
import { asActivity } from './failures';
import { withHeartbeat } from './heartbeat';
import type { ReindexActivities, ReindexBatchOutput, ReindexPlan, ReindexTarget } from './types';

class ReindexPlanError extends LifeboatError {
  constructor(message: string) {
    super(message, 'PLAN_INVALID');
  }
}
class ReindexDimensionError extends LifeboatError {
  constructor(message: string) {
    super(message, 'REINDEX_DIMENSION_MISMATCH');
  }
}
class ReindexValidationError extends LifeboatError {
  constructor(message: string) {
    super(message, 'REINDEX_VALIDATION_FAILED');
  }
}
class ReindexRecordError extends LifeboatError {
  constructor(message: string) {
    super(message, 'REINDEX_RECORD_INVALID');
  }
}

/** One embedded batch as cached on disk (ids, vectors, payloads, and where SCAN goes on). */
interface CachedBatch {
  next: string;
  skipped: number;
  ids: (number | string)[];
  vectors: number[][];
  payloads: Record<string, string>[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createReindexActivities(deps: { config: LifeboatConfig }): ReindexActivities {
  const { config } = deps;
  const cfg = (): ReindexConfig => {
    if (!config.reindex)
      throw new ReindexPlanError(
        'the config has no reindex: section; add one (keys, textField, idField, embedding: {url, model, apiKey}) — see docs/operations.md',
      );
    return config.reindex;
  };
  const named = (n: string): SourceConfig => {
    const s = config.sources.find((x) => x.name === n);
    if (!s)
      throw new ReindexPlanError(
        `unknown source "${n}"; configured sources: ${config.sources.map((x) => x.name).join(', ')}`,
      );
    return s;
  };
  const redisOf = (n: string): RedisSourceConfig => {
    const s = named(n);
    if (s.type !== 'redis')
      throw new ReindexPlanError(`--from ${n} is a ${s.type} source; reindex reads a redis source`);
    if (!s.url) throw new ReindexPlanError(`--from ${n} is a Redis Cluster; reindex reads a single Redis instance`);
    return s;
  };
  const redis = async (s: RedisSourceConfig) =>
    new Redis(s.url!, {
      db: s.db === 'all' ? 0 : s.db,
      username: s.username,
      password: s.password ? await resolveSecret(s.password) : undefined,
      ...(s.tls ? { tls: {} } : {}),
      lazyConnect: false,
      maxRetriesPerRequest: 2,
    });
  const qdrant = async (s: QdrantSourceConfig) =>
    new QdrantClient({
      url: s.url,
      apiKey: s.apiKey ? await resolveSecret(s.apiKey) : undefined,
      checkCompatibility: false,
    });
  const embedder = async (signal: AbortSignal, onRetry?: (m: string) => void): Promise<EmbeddingClient> => {
    const r = cfg();
    return createEmbeddingClient({
      url: r.embedding.url,
      model: r.embedding.model,
      apiKey: r.embedding.apiKey ? await resolveSecret(r.embedding.apiKey) : undefined,
      timeoutMs: r.embedding.timeoutMs,
      requestsPerSecond: r.requestsPerSecond,
      signal,
      onRetry: (i) => onRetry?.(`embedding API ${i.message}; retry ${i.attempt} in ${Math.round(i.delayMs)} ms`),
    });
  };
  const workDir = (id: string) => path.join(config.worker.scratchDir, `reindex-${id}`);
  const batchFile = (id: string, n: number) => path.join(workDir(id), `batch-${String(n).padStart(8, '0')}.json`);

  async function loadBatches(id: string): Promise<CachedBatch[]> {
    const names = (await readdir(workDir(id)).catch(() => [] as string[])).filter((f) => /^batch-\d+\.json$/.test(f));
    const out: CachedBatch[] = [];
    for (const f of names.sort())
      out.push(JSON.parse(await readFile(path.join(workDir(id), f), 'utf8')) as CachedBatch);
    return out;
  }

  /** Distinct records of every cached batch (SCAN may return a key twice), sorted by id. */
  async function distinctRecords(id: string) {
    const byId = new Map<string, { id: number | string; vector: number[] }>();
    for (const b of await loadBatches(id))
      b.ids.forEach((rid, i) => byId.set(String(rid), { id: rid, vector: b.vectors[i] }));
    return [...byId.values()].sort((a, b) =>
      typeof a.id === 'number' && typeof b.id === 'number' ? a.id - b.id : String(a.id) < String(b.id) ? -1 : 1,
    );
  }

  const probeIndexes = (n: number, k: number) => [
    ...new Set(Array.from({ length: Math.min(n, k) }, (_, i) => Math.floor(((i + 0.5) * n) / Math.min(n, k)))),
  ];

  return {
    prepareReindex: (input) =>
      asActivity(() =>
        withHeartbeat(`prepare reindex ${input.reindexId}`, async (hb) => {
          const r = cfg();
          const from = redisOf(input.from);
          const to = named(input.to);
          let target: ReindexTarget;
          // The embedding's dimension, from one probe request (not a record: counts nothing done).
          const [probe] = await (await embedder(hb.signal)).embed(['lifeboat reindex dimension probe']);
          const dimension = probe.length;
          if (to.type === 'qdrant') {
            if (!to.alias || to.collections.length !== 1)
              throw new ReindexPlanError(
                `--to ${to.name}: reindex builds a new collection and switches an alias to it, so the qdrant source needs one collection and alias: NAME (readers use the alias)`,
              );
            const q = await qdrant(to);
            const aliases = (await q.getAliases()).aliases;
            const live = aliases.find((a) => a.alias_name === to.alias)?.collection_name ?? null;
            let distance: string = 'Cosine';
            if (live) {
              const info = await q.getCollection(live);
              const v = info.config.params.vectors as { size?: number; distance?: string } | undefined;
              if (v?.size === undefined)
                throw new ReindexPlanError(`${live} uses named vectors; reindex rebuilds a single unnamed vector`);
              if (v.size !== dimension)
                throw new ReindexDimensionError(
                  `the embedding model ${r.embedding.model} gives vectors of dimension ${dimension}, but collection ${live} (alias ${to.alias}) holds dimension ${v.size}; nothing was changed — use the model the collection was built with, or recreate the collection`,
                );
              distance = v.distance ?? distance;
            }
            const build = `${to.collections[0]}-reindex-${input.reindexId}`;
            if (!(await q.collectionExists(build)).exists)
              await q.createCollection(build, { vectors: { size: dimension, distance: distance as 'Cosine' } });
            target = { kind: 'qdrant', alias: to.alias, live, build, distance };
          } else if (to.type === 'faiss') {
            const st = await stat(to.path).catch(() => undefined);
            if (st?.isDirectory())
              throw new ReindexPlanError(`--to ${to.name}: ${to.path} is a folder; reindex rebuilds one index file`);
            let metric: 'L2' | 'IP' = 'L2';
            if (st) {
              const h = await readFaissHeader(to.path);
              if (h.d !== dimension)
                throw new ReindexDimensionError(
                  `the embedding model ${r.embedding.model} gives vectors of dimension ${dimension}, but ${to.path} holds dimension ${h.d}; nothing was changed`,
                );
              metric = h.metric === 'INNER_PRODUCT' ? 'IP' : 'L2';
            }
            target = { kind: 'faiss', path: to.path, live: Boolean(st), metric };
          } else throw new ReindexPlanError(`--to ${to.name} is a ${to.type} source; reindex builds qdrant or faiss`);
          await mkdir(workDir(input.reindexId), { recursive: true, mode: 0o700 });
          // Records to do, for the progress ETA (SCAN: approximate while Redis is written to).
          const client = await redis(from);
          let total = 0;
          try {
            let cursor = '0';
            do {
              const [next, keys] = await client.scan(cursor, 'MATCH', r.keys, 'COUNT', 1000);
              cursor = next;
              total += keys.length;
              hb.onProgress({ bytes: 0, items: total });
            } while (cursor !== '0');
          } finally {
            client.disconnect();
          }
          const plan: ReindexPlan = {
            dimension,
            total,
            target,
            batchesPerRun: r.batchesPerRun,
            recordsPerBatch: r.batchSize * r.concurrency,
          };
          return plan;
        }),
      ),

    reindexBatch: (input) =>
      asActivity(() =>
        withHeartbeat(`reindex batch ${input.batchNo}`, async (hb) => {
          const r = cfg();
          const file = batchFile(input.reindexId, input.batchNo);
          let batch = await readFile(file, 'utf8').then(
            (t) => JSON.parse(t) as CachedBatch,
            () => undefined,
          );
          if (!batch) {
            const client = await redis(redisOf(input.from));
            try {
              const want = r.batchSize * r.concurrency;
              const keys: string[] = [];
              let cursor = input.cursor;
              do {
                const [next, got] = await client.scan(cursor, 'MATCH', r.keys, 'COUNT', want);
                cursor = next;
                keys.push(...got);
              } while (cursor !== '0' && keys.length < want);
              const pipe = client.pipeline();
              for (const k of keys) pipe.hgetall(k);
              const rows = ((await pipe.exec()) ?? []).map(([err, v]) =>
                err ? undefined : (v as Record<string, string>),
              );
              const recs: { id: number | string; text: string; payload: Record<string, string> }[] = [];
              let skipped = 0;
              rows.forEach((row, i) => {
                const text = row?.[r.textField];
                const rawId = row?.[r.idField];
                if (text === undefined || rawId === undefined) return void skipped++;
                const id = /^\d+$/.test(rawId) ? Number(rawId) : UUID.test(rawId) ? rawId : undefined;
                if (id === undefined)
                  throw new ReindexRecordError(
                    `${keys[i]}: field ${r.idField} is ${JSON.stringify(rawId.slice(0, 40))}, not a whole number or a UUID; fix the record or choose another idField`,
                  );
                const payload: Record<string, string> = {};
                for (const f of r.payloadFields) if (row![f] !== undefined) payload[f] = row![f];
                recs.push({ id, text, payload });
              });
              const emb = await embedder(hb.signal, (m) => console.warn(`lifeboat: reindex ${input.reindexId}: ${m}`));
              const vectors: number[][] = new Array<number[]>(recs.length);
              const chunks: number[] = [];
              for (let i = 0; i < recs.length; i += r.batchSize) chunks.push(i);
              let next = 0;
              const workers = Array.from({ length: Math.min(r.concurrency, chunks.length) }, async () => {
                while (next < chunks.length) {
                  const start = chunks[next++];
                  const part = recs.slice(start, start + r.batchSize);
                  // Each answer is kept at once: a crash mid-batch re-embeds only the requests not yet answered.
                  const chunk = `${file}.c${start}`;
                  let got = await readFile(chunk, 'utf8').then(
                    (t) => JSON.parse(t) as number[][],
                    () => undefined,
                  );
                  if (!got || got.length !== part.length) {
                    got = await emb.embed(part.map((x) => x.text));
                    await writeFile(`${chunk}.tmp`, JSON.stringify(got), { mode: 0o600 });
                    await rename(`${chunk}.tmp`, chunk);
                  }
                  got.forEach((v, j) => (vectors[start + j] = v));
                  hb.onProgress({ bytes: 0, items: start + part.length });
                }
              });
              await Promise.all(workers);
              for (const v of vectors)
                if (v.length !== input.dimension)
                  throw new ReindexDimensionError(
                    `the embedding API returned a vector of dimension ${v.length}, expected ${input.dimension} (the target's); nothing was switched`,
                  );
              batch = {
                next: cursor,
                skipped,
                ids: recs.map((x) => x.id),
                vectors,
                payloads: recs.map((x) => x.payload),
              };
              // Cached before anything else: a crash after this re-embeds nothing of this batch.
              await writeFile(`${file}.tmp`, JSON.stringify(batch), { mode: 0o600 });
              await rename(`${file}.tmp`, file);
              for (const start of chunks) await rm(`${file}.c${start}`, { force: true });
            } finally {
              client.disconnect();
            }
          }
          const t = input.target;
          if (t.kind === 'qdrant' && batch.ids.length) {
            const q = await qdrant(named(input.to) as QdrantSourceConfig);
            await q.upsert(t.build, {
              wait: true,
              points: batch.ids.map((id, i) => ({ id, vector: batch.vectors[i], payload: batch.payloads[i] })),
            });
          }
          const out: ReindexBatchOutput = { cursor: batch.next, records: batch.ids.length, skipped: batch.skipped };
          return out;
        }),
      ),

    finishReindex: (input) =>
      asActivity(() =>
        withHeartbeat(`finish reindex ${input.reindexId}`, async () => {
          const r = cfg();
          const recs = await distinctRecords(input.reindexId);
          const probes = probeIndexes(recs.length, r.probes);
          const t = input.target;
          if (t.kind === 'qdrant') {
            const q = await qdrant(named(input.to) as QdrantSourceConfig);
            const info = await q.getCollection(t.build);
            const size = (info.config.params.vectors as { size?: number }).size;
            const { count } = await q.count(t.build, { exact: true });
            const problems: string[] = [];
            if (size !== input.dimension) problems.push(`dimension ${size}, expected ${input.dimension}`);
            if (count !== recs.length) problems.push(`${count} points, expected ${recs.length} records`);
            for (const i of probes) {
              const hit = (await q.query(t.build, { query: recs[i].vector, limit: 1 })).points;
              if (String(hit[0]?.id) !== String(recs[i].id))
                problems.push(`probe for record ${recs[i].id} found ${hit[0]?.id ?? 'nothing'}`);
            }
            if (problems.length)
              throw new ReindexValidationError(
                `the rebuilt collection ${t.build} did not validate: ${problems.slice(0, 5).join('; ')}; alias ${t.alias} was not switched`,
              );
            // One request: delete + create, so readers never see the alias missing.
            await q.updateCollectionAliases({
              actions: [
                ...(t.live ? [{ delete_alias: { alias_name: t.alias } }] : []),
                { create_alias: { alias_name: t.alias, collection_name: t.build } },
              ],
            });
            if (t.live && t.live !== t.build) await q.deleteCollection(t.live);
            return {
              records: recs.length,
              target: `qdrant alias ${t.alias} → ${t.build}`,
              previous: t.live,
              probes: probes.length,
            };
          }
          const faiss = require('faiss-node') as typeof import('faiss-node');
          const tmp = `${t.path}.lifeboat-reindex-${input.reindexId}.tmp`;
          const prev = `${t.path}.lifeboat-reindex-${input.reindexId}.prev`;
          const idx =
            t.metric === 'IP' ? new faiss.IndexFlatIP(input.dimension) : new faiss.IndexFlatL2(input.dimension);
          for (let i = 0; i < recs.length; i += 1000) idx.add(recs.slice(i, i + 1000).flatMap((x) => x.vector));
          idx.write(tmp);
          const back = faiss.Index.read(tmp);
          const problems: string[] = [];
          if (back.getDimension() !== input.dimension) problems.push(`dimension ${back.getDimension()}`);
          if (back.ntotal() !== recs.length) problems.push(`${back.ntotal()} vectors, expected ${recs.length} records`);
          for (const i of probes) {
            const res = back.search(recs[i].vector, 1);
            if (res.labels[0] !== i)
              problems.push(`probe for record ${recs[i].id} found label ${res.labels[0]}, expected ${i}`);
          }
          if (problems.length) {
            await rm(tmp, { force: true });
            throw new ReindexValidationError(
              `the rebuilt index did not validate: ${problems.slice(0, 5).join('; ')}; ${t.path} was not replaced`,
            );
          }
          // Keep the old file (hard link) until the new one is in place; rename is the atomic switch.
          if (t.live && !(await stat(prev).catch(() => undefined))) await link(t.path, prev);
          await rename(tmp, t.path);
          await rm(prev, { force: true });
          return { records: recs.length, target: t.path, previous: t.live ? t.path : null, probes: probes.length };
        }),
      ),

    abortReindex: (input) =>
      asActivity(async () => {
        const t = input.target;
        if (t?.kind === 'qdrant') {
          const q = await qdrant(named(input.to) as QdrantSourceConfig);
          const aliases = (await q.getAliases()).aliases;
          // Never drop what the alias serves (a switch that happened before the failure).
          if (!aliases.some((a) => a.alias_name === t.alias && a.collection_name === t.build))
            await q.deleteCollection(t.build).catch(() => undefined);
        }
        if (t?.kind === 'faiss') {
          const prev = `${t.path}.lifeboat-reindex-${input.reindexId}.prev`;
          if (await stat(prev).catch(() => undefined)) await rename(prev, t.path);
          await rm(`${t.path}.lifeboat-reindex-${input.reindexId}.tmp`, { force: true });
        }
        await rm(workDir(input.reindexId), { recursive: true, force: true });
      }),

    cleanupReindex: (input) =>
      asActivity(async () => {
        await rm(workDir(input.reindexId), { recursive: true, force: true });
      }),
  };
}
