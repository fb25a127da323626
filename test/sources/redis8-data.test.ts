/**
 * Redis 8 data (real Redis 8.2): vector sets (VADD, with attributes, each
 * quantisation, a REDUCE projection) and hashes whose fields carry their own
 * TTLs (HPEXPIREAT) survive a backup and restore exactly — proved by reading
 * what the data means (elements, VEMB, VGETATTR, VINFO, VSIM, per-field
 * HPEXPIRETIME) with an independent client, and by the restore's fingerprint
 * equalling a live fingerprint of the target (a vector set's DUMP bytes change
 * across RESTORE, so a byte digest would call a correct restore wrong).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { RedisServer } from '../servers/redis';
import { backupRedis, restoreRedis, fingerprintRedis } from '../../sources/redis';
import { server, client, collect, snapshot, closeClients } from './redis-helpers';
import { vectorSetState, seedVectorSets, seedFieldTtlHashes } from './redis8-helpers';

let src: RedisServer;
let dst: RedisServer;
let s: Redis;
let d: Redis;

before(async () => {
  [src, dst] = await Promise.all([server('r8-src', 'redis8'), server('r8-dst', 'redis8')]);
  s = client(src.url);
  d = client(dst.url);
});
after(async () => {
  closeClients();
  await Promise.all([src?.stop(), dst?.stop()]);
});

test('Redis 8.2: vector sets (Q8, BIN, NOQUANT, REDUCE; attributes) and field-TTL hashes round-trip exactly', async () => {
  const sets = await seedVectorSets(s, 'vs:');
  const hashes = await seedFieldTtlHashes(s, 'hfe:');
  await s.set('plain', 'v');
  await s.call('PEXPIREAT', 'vs:q8', String(Date.now() + 9_000_000));
  const before = new Map<string, unknown>();
  for (const k of sets) before.set(k, await vectorSetState(s, k));
  const hashesBefore = await snapshot(s, 'hfe:*');

  const b = backupRedis({ url: src.url });
  const bytes = await collect(b.stream);
  const info = await b.done;
  assert.equal(info.keys, sets.length + hashes.length + 1);
  assert.equal(info.passedThrough, undefined, 'vector sets and field-TTL hashes are decoded, not passed through');
  assert.deepEqual(info.fingerprint, await fingerprintRedis({ url: src.url }), 'recorded = live source');

  const res = await restoreRedis([bytes], { url: dst.url });
  assert.equal(res.restored, info.keys);
  for (const k of sets) {
    const got = await vectorSetState(d, k);
    assert.deepEqual(got, before.get(k), `vector set ${k}: elements, embeddings, attributes, VINFO, VSIM equal`);
  }
  assert.equal(Number(await d.call('PEXPIRETIME', 'vs:q8')), Number(await s.call('PEXPIRETIME', 'vs:q8')));
  assert.deepEqual(await snapshot(d, 'hfe:*'), hashesBefore);
  for (const k of hashes) {
    const fields = (await s.hkeys(k)).sort();
    const want = await s.call('HPEXPIRETIME', k, 'FIELDS', String(fields.length), ...fields);
    const got = await d.call('HPEXPIRETIME', k, 'FIELDS', String(fields.length), ...fields);
    assert.deepEqual(got, want, `hash ${k}: every field's absolute expiry (ms) equal`);
    assert.ok((want as number[]).some((t) => t > 0) && (want as number[]).some((t) => t === -1), 'mixed TTLs seeded');
  }
  // The proof a verify step uses: the target's live fingerprint equals what the restore wrote.
  assert.deepEqual(await fingerprintRedis({ url: dst.url }, { minExpireAt: res.minExpireAt }), res.fingerprint);
  assert.deepEqual(res.fingerprint, info.fingerprint);
  // And it sees a real difference: one attribute changed on the target.
  await d.call('VSETATTR', 'vs:q8', 'el-7', '{"changed":true}');
  assert.notDeepEqual(await fingerprintRedis({ url: dst.url }), res.fingerprint, 'a changed attribute is a difference');
  await d.call('VSETATTR', 'vs:q8', 'el-7', String(((await s.call('VGETATTR', 'vs:q8', 'el-7')) as string) ?? ''));
  await d.call('HPEXPIRE', hashes[0], '99999', 'FIELDS', '1', 'f-0');
  assert.notDeepEqual(
    (await fingerprintRedis({ url: dst.url })).digests,
    res.fingerprint.digests,
    'a changed field TTL is a difference',
  );
});
