/**
 * Hash-table hashes and sets dump in an order set by each server's random
 * hash seed. Backups put them in canonical order, so the same data gives the
 * same backup bytes on another server, after a restart or after a restore —
 * and deduplication keeps working across them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RedisServer } from '../servers/redis';
import { backupRedis, restoreRedis, fingerprintRedis } from '../../sources/redis';
import { canonicalDump } from '../../sources/redis/rdb/canonical';
import { decodeDump } from '../../sources/redis/rdb/value';
import { dumpTrailer } from '../../sources/redis/rdb/crc64';
import { server, client, collect, closeClients } from './redis-helpers';
import { forEachRedisServer } from '../harness/matrix';

forEachRedisServer((S) => {
  let a: RedisServer;
  let b: RedisServer;

  before(async () => {
    [a, b] = await Promise.all([server('canonical-a', S.flavour), server('canonical-b', S.flavour)]);
    const r = client(a.url);
    const p = r.pipeline();
    for (let k = 0; k < 20; k++) {
      // Values over 64 bytes and 200 fields: hash-table encoding. Fields mix plain, integer-like and long compressible (LZF) ones.
      const fields: (string | Buffer)[] = [];
      for (let i = 0; i < 200; i++)
        fields.push(
          i % 3 === 0 ? String(i * 7919) : i % 3 === 1 ? `field-${i}-${'z'.repeat(40)}` : `f${i}`,
          `${'v'.repeat(80)}${k}:${i}`,
        );
      p.hset(`big-hash:${k}`, ...fields);
      p.sadd(
        `big-set:${k}`,
        ...Array.from({ length: 300 }, (_, i) => (i % 2 ? `member-${i}-${'m'.repeat(30)}` : String(i * 104729))),
      );
    }
    p.hset('small-hash', 'a', '1', 'b', '2');
    p.sadd('small-set', 'x', 'y');
    p.rpush('list', 'c', 'b', 'a');
    p.zadd('zset', 3, 'c', 1, 'a', 2, 'b');
    p.set('string', 'plain');
    await p.exec();
  });

  after(async () => {
    closeClients();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('canonicalDump sorts a hash-table hash or set by field, keeps every element and a valid checksum, and RESTORE takes it', async () => {
    const r = client(a.url);
    for (const key of ['big-hash:0', 'big-set:0']) {
      const raw = (await r.dumpBuffer(key))!;
      const canon = canonicalDump(raw);
      assert.equal(canon.length, raw.length);
      assert.equal(dumpTrailer(canon)?.checksumOk, true);
      const before = decodeDump(raw);
      const after = decodeDump(canon);
      assert.equal(after.kind, before.kind);
      const names =
        after.kind === 'hash'
          ? after.fields
          : after.kind === 'set'
            ? after.members
            : assert.fail(`decoded as ${after.kind}`);
      assert.deepEqual(names, [...names].sort(Buffer.compare), 'elements in ascending byte order');
      assert.equal(canonicalDump(canon), canon, 'already canonical: returned as is');
      await r.restore(`${key}:copy`, 0, canon);
      if (before.kind === 'hash') assert.deepEqual(await r.hgetall(`${key}:copy`), await r.hgetall(key));
      else assert.deepEqual((await r.smembers(`${key}:copy`)).sort(), (await r.smembers(key)).sort());
      await r.del(`${key}:copy`);
    }
    // (A small set of strings is a hash table too before Redis 7.2, so it is not in this list.)
    for (const key of ['small-hash', 'list', 'zset', 'string']) {
      const raw = (await r.dumpBuffer(key))!;
      assert.equal(canonicalDump(raw), raw, `${key}: not a hash-table type, left alone`);
    }
    const damaged = Buffer.from((await r.dumpBuffer('big-hash:1'))!);
    damaged.writeUInt8(0x81, 1); // a count claiming 2^64 elements
    assert.equal(canonicalDump(damaged), damaged, 'an unparsable payload is left as it was');
  });

  test('the same data backs up to the same bytes on another server (another hash seed), after a restore there', async () => {
    const first = backupRedis({ url: a.url });
    const streamA = await collect(first.stream);
    await first.done;
    await restoreRedis([streamA], { url: b.url });
    const second = backupRedis({ url: b.url });
    const streamB = await collect(second.stream);
    await second.done;
    assert.deepEqual(await fingerprintRedis({ url: b.url }), await fingerprintRedis({ url: a.url }));
    assert.ok(streamA.equals(streamB), `backup streams differ (${streamA.length} vs ${streamB.length} bytes)`);
  });
});
