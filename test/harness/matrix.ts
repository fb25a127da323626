/**
 * The server matrix: run a block of tests once per Redis flavour (Redis 7.0,
 * Redis 8.2, Valkey 8.1) or once per Qdrant (the stand-in, and the real Qdrant
 * when ../shared/qdrant provides it), each inside a `describe` named after the
 * server, so a failure says which server it was.
 *
 * LIFEBOAT_TEST_REDIS=redis8,valkey8 narrows the Redis matrix for a quick loop
 * (npm test runs all of them).
 */
import { describe } from 'node:test';
import { testEnv, type TestQdrantServer, type TestRedisServer } from './env';

export function redisMatrix(): TestRedisServer[] {
  const only = process.env.LIFEBOAT_TEST_REDIS?.split(',').filter(Boolean);
  const all = testEnv().redisServers;
  return only ? all.filter((s) => only.includes(s.flavour)) : all;
}

/** `body` once per Redis server, inside `describe('<server name>')`. */
export function forEachRedisServer(body: (server: TestRedisServer) => void): void {
  for (const s of redisMatrix()) void describe(s.name, () => body(s));
}

/** `body` once per Qdrant of this run, inside `describe('<server name>')`. */
export function forEachQdrantServer(body: (server: TestQdrantServer) => void): void {
  for (const q of testEnv().qdrantServers) void describe(q.name, () => body(q));
}

/** The Redis server of a flavour in this run (e.g. the 8.2 source of a cross-version test). */
export function redisServerOf(flavour: TestRedisServer['flavour']): TestRedisServer {
  const s = testEnv().redisServers.find((r) => r.flavour === flavour);
  if (!s) throw new Error(`no ${flavour} server in this run: test/run.ts starts every flavour`);
  return s;
}

export interface TestStack {
  redis: TestRedisServer;
  qdrant: TestQdrantServer;
}

/**
 * The workflow matrix: every Redis flavour with the Qdrant stand-in, plus the
 * real Qdrant (when present) paired with the newest Redis — every server is
 * exercised end to end without running the full cross product.
 */
export function stackMatrix(): TestStack[] {
  const redis = redisMatrix();
  const qdrants = testEnv().qdrantServers;
  const standIn = qdrants.find((q) => !q.real)!;
  const out: TestStack[] = redis.map((r) => ({ redis: r, qdrant: standIn }));
  const newest = redis.find((r) => r.flavour === 'redis8') ?? redis[0];
  for (const q of qdrants.filter((x) => x.real)) if (newest) out.push({ redis: newest, qdrant: q });
  return out;
}

/** `body` once per stack of stackMatrix(), inside `describe('<Redis> + <Qdrant>')`. */
export function forEachStack(body: (stack: TestStack) => void): void {
  for (const s of stackMatrix()) void describe(`${s.redis.name} + ${s.qdrant.name}`, () => body(s));
}
