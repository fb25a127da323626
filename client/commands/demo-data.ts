import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { QdrantClient } from '@qdrant/js-client-rest';
import { Redis } from 'ioredis';

/** Demo data in the three stores; the demo changes it, restores, and checks it is back. */

export async function seedRedis(url: string, tag: string): Promise<void> {
  const r = new Redis(url);
  try {
    await r.flushdb();
    const p = r.pipeline();
    for (let i = 0; i < 5000; i++) p.set(`doc:${i}:meta`, JSON.stringify({ id: i, title: `Document ${i}`, tag }));
    for (let i = 0; i < 200; i++) p.hset(`session:${i}`, { user: `u${i}`, tag });
    for (let i = 0; i < 50; i++) p.set(`cache:${i}`, tag, 'EX', 86_400);
    p.zadd('popular', '3', 'doc:1', '2', 'doc:2', '1', tag);
    p.rpush('ingest-queue', 'doc:1', 'doc:2', tag);
    await p.exec();
  } finally {
    r.disconnect();
  }
}

export function writeFaissIndex(file: string, seed: number): Buffer {
  // Trusted, generated input: built in this process.
  const faiss = require('faiss-node') as typeof import('faiss-node');
  mkdirSync(path.dirname(file), { recursive: true });
  const d = 32;
  const n = 5000;
  let x = seed >>> 0;
  const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const index = faiss.Index.fromFactory(d, 'HNSW16');
  index.add(Array.from({ length: n * d }, rnd));
  index.write(file);
  return readFileSync(file);
}

export async function seedQdrant(url: string, collection: string, seed: number): Promise<void> {
  const q = new QdrantClient({ url, checkCompatibility: false });
  if ((await q.collectionExists(collection)).exists) await q.deleteCollection(collection);
  await q.createCollection(collection, { vectors: { size: 32, distance: 'Cosine' } });
  for (let start = 0; start < 1000; start += 250) {
    const points = Array.from({ length: 250 }, (_, j) => {
      const i = start + j;
      return {
        id: i + 1,
        vector: Array.from({ length: 32 }, (_, k) => Math.sin(seed * 13 + i * 3 + k) + 0.01),
        payload: { doc: `doc:${i}`, seed },
      };
    });
    await q.upsert(collection, { wait: true, points });
  }
}

/**
 * The demo's config document (before validation): its three sources on the dev stack, the
 * repository in MinIO, secrets by reference to `<envPrefix>_PASSWORD`, `_S3_KEY`, `_S3_SECRET`.
 * Shared by `npm start` and bench/drill-demo.ts, so the drill figures are of this exact setup.
 */
export function demoConfigDoc(o: {
  stack: {
    temporal: { address: string };
    minio: { bucket: string; endpoint: string; region: string };
    redis: { url: string };
  };
  dir: string;
  faissFile: string;
  qdrantUrl: string;
  taskQueue: string;
  envPrefix: string;
}): Record<string, unknown> {
  return {
    profile: 'dev',
    temporal: { address: o.stack.temporal.address, namespace: 'default', taskQueue: o.taskQueue },
    repository: {
      url: `s3://${o.stack.minio.bucket}/repo`,
      password: { env: `${o.envPrefix}_PASSWORD` },
      s3: {
        endpoint: o.stack.minio.endpoint,
        region: o.stack.minio.region,
        forcePathStyle: true,
        accessKeyId: { env: `${o.envPrefix}_S3_KEY` },
        secretAccessKey: { env: `${o.envPrefix}_S3_SECRET` },
      },
    },
    sources: [
      { name: 'app-redis', type: 'redis', url: o.stack.redis.url, db: 0 },
      { name: 'docs-faiss', type: 'faiss', path: o.faissFile },
      { name: 'docs-qdrant', type: 'qdrant', url: o.qdrantUrl, collection: 'demo-docs', mode: 'snapshot' },
    ],
    worker: { scratchDir: path.join(o.dir, 'scratch') },
  };
}
