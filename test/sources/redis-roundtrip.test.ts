import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { RedisServer } from '../servers/redis';
import { backupRedis, restoreRedis, fingerprintRedis, inspectRedisBackup } from '../../sources/redis';
import { RecordDecoder } from '../../sources/redis/format/reader';
import { server, client, collect, snapshot, seedEveryType, ALL_BYTES, BAD_UTF8, closeClients } from './redis-helpers';
import { forEachRedisServer } from '../harness/matrix';

forEachRedisServer((S) => {
  /** The stream cut into its records' raw bytes (header first). */
  function rawRecords(buf: Buffer): Buffer[] {
    const dec = new RecordDecoder();
    dec.push(buf);
    dec.header();
    const cuts = [0, dec.offset];
    for (let r = dec.next(); r; r = r.tag === 'end' ? undefined : dec.next()) cuts.push(dec.offset);
    return cuts.slice(1).map((end, i) => buf.subarray(cuts[i], end));
  }

  let src: RedisServer;
  let dst: RedisServer;
  let s: Redis;
  let d: Redis;

  before(async () => {
    [src, dst] = await Promise.all([server('rt-src', S.flavour), server('rt-dst', S.flavour)]);
    s = client(src.url);
    d = client(dst.url);
  });
  after(async () => {
    closeClients();
    s?.disconnect();
    d?.disconnect();
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  async function backup(opts: Parameters<typeof backupRedis>[0]) {
    const b = backupRedis(opts);
    const bytes = await collect(b.stream);
    return { bytes, info: await b.done };
  }

  describe('every type, encoding and binary-safe name round-trips exactly', () => {
    test('db 1 → another instance: data equal value by value, digests equal, source untouched', async () => {
      const r = client(src.url, 1);
      await seedEveryType(r, 'every:');
      await r.set('ttl:str', 'v', 'EX', 3600);
      await r.call('PEXPIREAT', 'every:hash:small', String(Date.now() + 7_200_123));
      const before = await snapshot(r);
      const srcPrint = await fingerprintRedis({ url: src.url, db: 1 });

      const { bytes, info } = await backup({ url: src.url, db: 1 });
      assert.deepEqual(info.dbs, [1]);
      assert.equal(info.keys, before.size);
      assert.deepEqual(info.fingerprint, srcPrint, 'fingerprint recorded at backup = fingerprint of the live source');
      assert.equal(info.bytes, bytes.length);

      const res = await restoreRedis([bytes], { url: dst.url });
      assert.equal(res.restored, before.size);
      const t = client(dst.url, 1);
      const afterRestore = await snapshot(t);
      assert.deepEqual(afterRestore, before, 'every key, type, value and absolute expiry (ms) equal');
      const dstPrint = await fingerprintRedis({ url: dst.url, db: 1 });
      assert.deepEqual(dstPrint, srcPrint);
      assert.deepEqual(res.fingerprint, dstPrint, 'restore reports the fingerprint of what it wrote');
      assert.deepEqual(await snapshot(r), before, 'source untouched');
      t.disconnect();
      r.disconnect();
    });

    test('all 256 single-byte keys and invalid UTF-8 names, members and values', async () => {
      const r = client(src.url, 2);
      for (let i = 0; i < 256; i++) await r.set(Buffer.from([i]), Buffer.from([i, 255 - i, i]));
      await r.hset(BAD_UTF8, ALL_BYTES, BAD_UTF8);
      await r.sadd(Buffer.concat([BAD_UTF8, Buffer.from('set')]), ALL_BYTES, BAD_UTF8);
      const before = await snapshot(r);
      assert.equal(before.size, 258);
      const { bytes } = await backup({ url: src.url, db: 2 });
      await restoreRedis([bytes], { url: dst.url, db: 12 });
      const t = client(dst.url, 12);
      assert.deepEqual(await snapshot(t), before);
      assert.deepEqual(
        (await fingerprintRedis({ url: dst.url, db: 12 })).digests.db12,
        (await fingerprintRedis({ url: src.url, db: 2 })).digests.db2,
      );
      t.disconnect();
      r.disconnect();
    });
  });

  test('TTLs: absolute expiry kept to the ms, storage time not added, expired keys skipped', async () => {
    const r = client(src.url, 3);
    const at = Date.now() + 3_600_000 + 123;
    await r.set('long', 'v');
    await r.call('PEXPIREAT', 'long', String(at));
    await r.hset('long:hash', 'f', 'v');
    await r.call('PEXPIREAT', 'long:hash', String(at + 1));
    await r.set('short', 'v', 'PX', 400);
    await r.rpush('short:list', 'a');
    await r.pexpire('short:list', 400);
    await r.set('forever', 'v');
    const { bytes } = await backup({ url: src.url, db: 3 });
    await new Promise((res) => setTimeout(res, 1100)); // "time in storage"
    const res = await restoreRedis([bytes], { url: dst.url, db: 3 });
    assert.equal(res.expired, 2, 'both short-lived keys expired before the restore and were skipped');
    assert.equal(res.restored, 3);
    const t = client(dst.url, 3);
    assert.equal(Number(await t.call('PEXPIRETIME', 'long')), at, 'expiry is the original absolute time');
    assert.equal(Number(await t.call('PEXPIRETIME', 'long:hash')), at + 1);
    assert.equal(Number(await t.call('PEXPIRETIME', 'forever')), -1);
    assert.equal(await t.exists('short', 'short:list'), 0);
    // What remains equals the source (whose short keys have expired too).
    assert.deepEqual(await fingerprintRedis({ url: dst.url, db: 3 }), await fingerprintRedis({ url: src.url, db: 3 }));
    t.disconnect();
    r.disconnect();
  });

  test('an empty db backs up to a valid stream and restores nothing', async () => {
    const { bytes, info } = await backup({ url: src.url, db: 9 });
    assert.equal(info.keys, 0);
    assert.deepEqual(info.fingerprint.counts, { db9: 0 });
    const res = await restoreRedis([bytes], { url: dst.url, db: 9 });
    assert.equal(res.restored, 0);
    const t = client(dst.url, 9);
    assert.equal(await t.dbsize(), 0);
    t.disconnect();
    const all = await backup({ url: src.url, db: 'all' });
    assert.ok(!all.info.dbs.includes(9), "'all' lists only non-empty dbs");
  });

  test('determinism: the same data gives byte-identical streams; one changed key changes bytes only locally', async () => {
    const r = client(src.url, 4);
    const p = r.pipeline();
    for (let i = 0; i < 10_000; i++) p.set(`k:${i}`, `value-${i}-${'x'.repeat(i % 50)}`);
    for (let i = 0; i < 200; i++) p.hset(`h:${i}`, 'a', String(i), 'b', 'y'.repeat(i));
    await p.exec();
    const a = await backup({ url: src.url, db: 4 });
    const b = await backup({ url: src.url, db: 4 });
    assert.ok(a.bytes.equals(b.bytes), 'two backups of unchanged data are byte-identical');

    await r.set('k:5000', 'value-5000-changed');
    const c = await backup({ url: src.url, db: 4 });
    const ra = rawRecords(a.bytes);
    const rc = rawRecords(c.bytes);
    assert.equal(ra.length, rc.length);
    const differing = ra.map((_, i) => i).filter((i) => !ra[i].equals(rc[i]));
    // Only the changed key's record and the db's end record (its digest) differ; every other record is the same bytes at the same place.
    assert.equal(differing.length, 2, `differing records: ${differing.length}`);
    assert.ok(rc[differing[0]].includes(Buffer.from('value-5000-changed')));
    assert.equal(rc[differing[1]][0], 0x04, 'the other one is the db end record');
    assert.notEqual(a.info.fingerprint.digests.db4, c.info.fingerprint.digests.db4);
    r.disconnect();
  });

  test('digest proves content: one byte of one value, an expiry or a hash field changes it', async () => {
    const r = client(src.url, 5);
    await r.set('a', 'hello world');
    await r.hset('h', 'f', 'v1', 'g', 'v2');
    await r.zadd('z', 1, 'm');
    const base = (await fingerprintRedis({ url: src.url, db: 5 })).digests.db5;
    await r.setrange('a', 4, 'O');
    const v1 = (await fingerprintRedis({ url: src.url, db: 5 })).digests.db5;
    assert.notEqual(v1, base, 'one byte of a string value');
    await r.setrange('a', 4, 'o');
    assert.equal((await fingerprintRedis({ url: src.url, db: 5 })).digests.db5, base, 'back to equal');
    await r.hset('h', 'g', 'v3');
    assert.notEqual((await fingerprintRedis({ url: src.url, db: 5 })).digests.db5, base, 'a hash field');
    await r.hset('h', 'g', 'v2');
    await r.zadd('z', 1.0000001, 'm');
    assert.notEqual((await fingerprintRedis({ url: src.url, db: 5 })).digests.db5, base, 'a zset score');
    await r.zadd('z', 1, 'm');
    await r.expire('a', 1000);
    assert.notEqual((await fingerprintRedis({ url: src.url, db: 5 })).digests.db5, base, 'an expiry');
    await r.persist('a');
    await r.rename('a', 'b');
    assert.notEqual((await fingerprintRedis({ url: src.url, db: 5 })).digests.db5, base, 'a key name');
    r.disconnect();
  });

  test('digest is encoding-independent: RESTORE re-encodes (hashtable → intset/listpack) yet digests match', async () => {
    const r = client(src.url, 6);
    await r.sadd('set', ...Array.from({ length: 1000 }, (_, i) => i));
    await r.srem('set', ...Array.from({ length: 997 }, (_, i) => i + 3));
    await r.hset('hash', 'f', 'v'.repeat(100));
    await r.hset('hash', 'f', 'short');
    assert.equal(await r.object('ENCODING', 'set'), 'hashtable');
    assert.equal(await r.object('ENCODING', 'hash'), 'hashtable');
    const { bytes } = await backup({ url: src.url, db: 6 });
    await restoreRedis([bytes], { url: dst.url, db: 6 });
    const t = client(dst.url, 6);
    assert.equal(await t.object('ENCODING', 'set'), 'intset');
    assert.equal(await t.object('ENCODING', 'hash'), 'listpack');
    assert.notDeepEqual(await t.dumpBuffer('set'), await r.dumpBuffer('set'), 'DUMP bytes differ after the round trip');
    assert.deepEqual(await snapshot(t), await snapshot(r));
    assert.deepEqual(await fingerprintRedis({ url: dst.url, db: 6 }), await fingerprintRedis({ url: src.url, db: 6 }));
    t.disconnect();
    r.disconnect();
  });

  test('pattern filter at backup and at restore select the same keys (Redis MATCH glob)', async () => {
    const r = client(src.url, 7);
    await r.mset('user:1', 'a', 'user:2', 'b', 'user:10', 'c', 'order:1', 'd', 'user:x', 'e');
    await r.hset('user:3', 'f', 'v');
    const pattern = 'user:[0-9]*';
    const full = await backup({ url: src.url, db: 7 });
    const filtered = await backup({ url: src.url, db: 7, pattern });
    assert.equal(filtered.info.keys, 4);
    const res = await restoreRedis([full.bytes], { url: dst.url, db: 7 }, { pattern });
    assert.equal(res.restored, 4);
    assert.equal(res.filtered, 2);
    const t = client(dst.url, 7);
    assert.deepEqual((await t.keys('*')).sort(), ['user:1', 'user:10', 'user:2', 'user:3']);
    assert.deepEqual(await fingerprintRedis({ url: dst.url, db: 7 }), filtered.info.fingerprint);
    assert.deepEqual(res.fingerprint, filtered.info.fingerprint);
    t.disconnect();
    r.disconnect();
  });

  test("db 'all' and dbMap: restore one db into another number on the same server, leaving the source db untouched", async () => {
    const r10 = client(src.url, 10);
    const r11 = client(src.url, 11);
    await r10.set('in10', 'x');
    await r11.set('in11', 'y');
    await r11.rpush('list11', 'a', 'b');
    const all = await backup({ url: src.url, db: 'all' });
    assert.ok(all.info.dbs.includes(10) && all.info.dbs.includes(11));
    const inspected = await inspectRedisBackup([all.bytes]);
    assert.deepEqual(inspected.fingerprint, all.info.fingerprint);
    const before11 = await snapshot(r11);
    const res = await restoreRedis([all.bytes], { url: src.url }, { dbMap: { 11: 13 } });
    assert.equal(res.restored, 2);
    assert.ok(res.filtered >= 1, 'keys of the other dbs are left out');
    const r13 = client(src.url, 13);
    assert.deepEqual(await snapshot(r13), before11);
    assert.deepEqual(await snapshot(r11), before11, 'source db untouched');
    assert.equal(res.fingerprint.digests.db13, all.info.fingerprint.digests.db11);
    assert.deepEqual(await fingerprintRedis({ url: src.url, db: 13 }), res.fingerprint);
    for (const c of [r10, r11, r13]) c.disconnect();
  });

  test('restore with replace overwrites existing keys of any type; other keys of the target stay', async () => {
    const r = client(src.url, 8);
    await r.set('a', 'new');
    await r.hset('h', 'f', 'new');
    const { bytes } = await backup({ url: src.url, db: 8 });
    const t = client(dst.url, 8);
    await t.rpush('a', 'old-list');
    await t.set('h', 'old-string', 'EX', 100);
    await t.set('other', 'kept');
    await restoreRedis([bytes], { url: dst.url, db: 8 });
    assert.equal(await t.get('a'), 'new');
    assert.deepEqual(await t.hgetall('h'), { f: 'new' });
    assert.equal(await t.ttl('h'), -1, 'old TTL gone with the old value');
    assert.equal(await t.get('other'), 'kept');
    t.disconnect();
    r.disconnect();
  });
});
