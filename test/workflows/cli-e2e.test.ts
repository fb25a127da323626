/**
 * What a user does, through the real `lifeboat` executable: back up all
 * three stores, list, damage the data, restore latest, verify with
 * --read-data; every command with --json prints one document.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../servers/tools';
import {
  makeStores,
  qdrantSnapshot,
  redisSnapshot,
  seedQdrant,
  seedRedis,
  sha256,
  startWorkerFor,
  writeFaissIndex,
  type Stores,
} from './helpers';

const run = promisify(execFile);
let stores: Stores;
let w: Awaited<ReturnType<typeof startWorkerFor>>;

before(async () => {
  stores = await makeStores('cli-e2e');
  w = await startWorkerFor(stores.cfg.config);
});

after(async () => {
  await w?.stop();
  await stores?.stop();
});

async function lifeboat(...args: string[]): Promise<{ code: number; doc: Record<string, unknown>; stderr: string }> {
  const env = { ...process.env, ...stores.cfg.env, LIFEBOAT_CONFIG: stores.cfg.file };
  try {
    const { stdout, stderr } = await run(path.join(projectRoot, 'bin', 'lifeboat'), [...args, '--json'], {
      env,
      maxBuffer: 16 << 20,
    });
    return { code: 0, doc: JSON.parse(stdout), stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, doc: JSON.parse(x.stdout), stderr: x.stderr };
  }
}

test('lifeboat backup, list, restore latest and verify --read-data through the CLI', async () => {
  await seedRedis(stores.redis.url, 'cli');
  mkdirSync(stores.faissDir, { recursive: true });
  const faissBytes = writeFaissIndex(stores.faissFile, 31);
  await seedQdrant(stores.qdrant, stores.collection, 31);
  const redisBefore = await redisSnapshot(stores.redis.url);
  const qdrantBefore = await qdrantSnapshot(stores.qdrant, stores.collection);

  const b = await lifeboat('backup', '--source', 'meta', '--source', 'vectors', '--source', 'docs', '--wait');
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.doc.ok, true);
  // A second backup of unchanged data stores nothing new for Redis and FAISS (their streams are
  // deterministic and the repository deduplicates); a Qdrant snapshot archive may differ in metadata.
  const b2 = await lifeboat('backup', '--source', 'meta', '--source', 'vectors', '--source', 'docs', '--wait');
  assert.equal(b2.code, 0, b2.stderr);
  const result = (b2.doc.result ?? b2.doc) as { sources: { source: string; bytes: number; newBytes: number }[] };
  for (const name of ['meta', 'vectors']) {
    const s = result.sources.find((x) => x.source === name)!;
    assert.ok(s.bytes > 0);
    assert.equal(s.newBytes, 0, `second backup of ${name} stored ${s.newBytes} new bytes`);
  }
  const listed = await lifeboat('list');
  assert.equal(listed.code, 0, listed.stderr);
  const points = listed.doc.recoveryPoints as { id: string }[];
  assert.equal(points.length, 2);

  await seedRedis(stores.redis.url, 'damaged');
  writeFaissIndex(stores.faissFile, 32);
  await seedQdrant(stores.qdrant, stores.collection, 32, 50);

  const r = await lifeboat('restore', 'latest', '--wait');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.doc.ok, true);
  assert.deepEqual(await redisSnapshot(stores.redis.url), redisBefore);
  assert.equal(sha256(readFileSync(stores.faissFile)), sha256(faissBytes));
  assert.equal(await qdrantSnapshot(stores.qdrant, stores.collection), qdrantBefore);

  const v = await lifeboat('verify', points[0].id, '--read-data', '--wait');
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.doc.ok, true);
});

test('one damaged manifest among several points: list, restore and forget of the others work; verify exits 5 naming it', async () => {
  await seedRedis(stores.redis.url, 'cli-m1');
  mkdirSync(stores.faissDir, { recursive: true });
  writeFaissIndex(stores.faissFile, 41);
  await seedQdrant(stores.qdrant, stores.collection, 41);
  const older = await lifeboat('backup', '--wait');
  assert.equal(older.code, 0, older.stderr);
  const olderId = (older.doc.result as { recoveryPointId: string }).recoveryPointId;
  const redisOlder = await redisSnapshot(stores.redis.url);
  const spare = await lifeboat('backup', '--wait');
  const spareId = (spare.doc.result as { recoveryPointId: string }).recoveryPointId;
  await seedRedis(stores.redis.url, 'cli-m2');
  const newer = await lifeboat('backup', '--wait');
  const newerId = (newer.doc.result as { recoveryPointId: string }).recoveryPointId;
  // One byte of the newest manifest changes.
  const manifest = path.join(stores.cfg.config.repository.url, 'points', newerId);
  const blob = readFileSync(manifest);
  blob[40] ^= 0x01;
  chmodSync(manifest, 0o600);
  writeFileSync(manifest, blob);

  const list = await lifeboat('list');
  assert.equal(list.code, 0, list.stderr);
  const points = list.doc.recoveryPoints as { id: string; damaged?: string }[];
  assert.ok(points.find((p) => p.id === newerId)?.damaged?.includes(`points/${newerId}`));
  assert.equal(points.find((p) => p.id === olderId)?.damaged, undefined);

  const verify = await lifeboat('verify', newerId, '--wait');
  assert.equal(verify.code, 5, JSON.stringify(verify.doc));
  assert.ok(JSON.stringify(verify.doc).includes(`points/${newerId}`), JSON.stringify(verify.doc));

  // `latest` skips the damaged point; an intact older point restores exactly.
  const restore = await lifeboat('restore', olderId, '--wait');
  assert.equal(restore.code, 0, restore.stderr);
  assert.deepEqual(await redisSnapshot(stores.redis.url), redisOlder);
  const forgetOther = await lifeboat('forget', spareId);
  assert.equal(forgetOther.code, 0, forgetOther.stderr);
  const forgetDamaged = await lifeboat('forget', newerId);
  assert.equal(forgetDamaged.code, 0, forgetDamaged.stderr);
  const after = (await lifeboat('list')).doc.recoveryPoints as { id: string }[];
  assert.ok(!after.some((p) => p.id === newerId || p.id === spareId));
});

test('restore latest --to-redis without --source exits 2 and touches nothing', async () => {
  const before = await redisSnapshot(stores.redis.url);
  const faiss = sha256(readFileSync(stores.faissFile));
  const r = await lifeboat('restore', 'latest', '--to-redis', stores.redis.url, '--wait');
  assert.equal(r.code, 2, JSON.stringify(r.doc));
  assert.match(String((r.doc.error as { message: string }).message), /would be restored in place/);
  assert.deepEqual(await redisSnapshot(stores.redis.url), before);
  assert.equal(sha256(readFileSync(stores.faissFile)), faiss);
});
