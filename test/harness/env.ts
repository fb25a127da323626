import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { RedisFlavour } from '../servers/redis';

/** Addresses of the servers test/run.ts started for this test run. */
export interface TestEnv {
  /** Scratch folder for this run; removed afterwards. */
  tmpDir: string;
  temporal: { address: string; namespace: string };
  redis: { url: string; port: number };
  redisCluster: { seeds: { host: string; port: number }[] };
  minio: { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string; bucket: string };
  /** The Qdrant-compatible stand-in (test/qdrant-server). */
  qdrant: { url: string };
  /**
   * One shared server per Redis flavour of the matrix (Redis 7.0, Redis 8.2,
   * Valkey 8.1); `redis` above is the first (Debian's Redis 7.0).
   */
  redisServers: TestRedisServer[];
  /** Every Qdrant of this run: the stand-in always, the real Qdrant when ../shared/qdrant provides it. */
  qdrantServers: TestQdrantServer[];
}

export interface TestRedisServer {
  flavour: RedisFlavour;
  /** For test names: `Redis 7.0.15`, `Redis 8.2.3`, `Valkey 8.1.8`. */
  name: string;
  /** major.minor.patch */
  version: string;
  url: string;
  port: number;
}

export interface TestQdrantServer {
  /** For test names: `Qdrant stand-in` or `Qdrant 1.19.0`. */
  name: string;
  url: string;
  real: boolean;
}

let cached: TestEnv | undefined;

/**
 * The shared servers of this run. Tests are started by test/run.ts (npm test),
 * which starts the servers first; run directly, a test fails here, loudly.
 */
export function testEnv(): TestEnv {
  if (cached) return cached;
  const file = process.env.LIFEBOAT_TEST_ENV;
  if (!file)
    throw new Error(
      'LIFEBOAT_TEST_ENV is not set: run tests with `npm test [-- files...]`, which starts the servers they need',
    );
  cached = JSON.parse(readFileSync(file, 'utf8')) as TestEnv;
  return cached;
}

/** A fresh scratch folder inside this run's temp dir. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(path.join(testEnv().tmpDir, `${prefix.replace(/[^a-z0-9-]/gi, '-')}-`));
}
