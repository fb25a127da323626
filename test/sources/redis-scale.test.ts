import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisServer } from '../servers/redis';
import { backupRedis, restoreRedis, fingerprintRedis } from '../../sources/redis';
import { server, client, collect, bulkSnapshot, closeClients } from './redis-helpers';
import { forEachRedisServer } from '../harness/matrix';

forEachRedisServer((S) => {
  let src: RedisServer;
  let dst: RedisServer;
  let s: Redis;
  let d: Redis;

  before(async () => {
    [src, dst] = await Promise.all([server('scale-src', S.flavour), server('scale-dst', S.flavour)]);
    s = client(src.url);
    d = client(dst.url);
  });
  after(async () => {
    closeClients();
    s?.disconnect();
    d?.disconnect();
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  test('100k keys of mixed types and TTLs round-trip exactly, the stream fed in uneven pieces', async () => {
    const now = Date.now();
    for (let base = 0; base < 100_000; base += 5000) {
      const p = s.pipeline();
      for (let i = base; i < base + 5000; i++) {
        const k = `k:${i}`;
        switch (i % 10) {
          case 0:
            p.hset(k, 'a', String(i), 'b', randomBytes(16));
            break;
          case 1:
            p.rpush(k, 'x', String(i), randomBytes(8));
            break;
          case 2:
            p.sadd(k, i, i + 1, `m${i}`);
            break;
          case 3:
            p.zadd(k, i, 'a', -i / 3, 'b');
            break;
          default:
            p.set(k, randomBytes(40 + (i % 60)));
        }
        if (i % 7 === 0) p.pexpireat(k, now + 3_600_000 + i);
      }
      await p.exec();
    }
    assert.equal(await s.dbsize(), 100_000);
    const b = backupRedis({ url: src.url });
    const whole = await collect(b.stream);
    const info = await b.done;
    assert.equal(info.keys, 100_000);
    // Fed in uneven pieces, so records straddle chunk boundaries everywhere.
    const pieces: Buffer[] = [];
    for (let off = 0, i = 0; off < whole.length; i++) {
      const n = [65_536, 7, 1000, 131_072, 1][i % 5];
      pieces.push(whole.subarray(off, off + n));
      off += n;
    }
    const res = await restoreRedis(pieces, { url: dst.url });
    assert.equal(res.restored, 100_000);
    const [fs, fd] = await Promise.all([fingerprintRedis({ url: src.url }), fingerprintRedis({ url: dst.url })]);
    assert.deepEqual(fd, fs);
    assert.deepEqual(fs, info.fingerprint);
    const [a, c] = await Promise.all([bulkSnapshot(s), bulkSnapshot(d)]);
    assert.equal(a.size, 100_000);
    assert.deepEqual(c, a, 'every key equal when read back with plain commands');
  });

  test('20 MB values (a string, a list element, a hash value) round-trip byte-exact', async () => {
    const r = client(src.url, 1);
    const big = randomBytes(20 * 1024 * 1024);
    await r.set('big:string', big);
    await r.rpush('big:list', 'small', big, 'tail');
    await r.hset('big:hash', 'f', big, 'g', 'x');
    await r.set('small', 'neighbour');
    const b = backupRedis({ url: src.url, db: 1 });
    const bytes = await collect(b.stream);
    const info = await b.done;
    assert.ok(bytes.length > 60 * 1024 * 1024);
    assert.equal(info.keys, 4);
    await restoreRedis([bytes], { url: dst.url, db: 1 });
    const t = client(dst.url, 1);
    assert.ok((await t.getBuffer('big:string'))!.equals(big));
    assert.ok(((await t.lrangeBuffer('big:list', 1, 1)) as Buffer[])[0].equals(big));
    assert.ok((await t.hgetBuffer('big:hash', 'f'))!.equals(big));
    assert.deepEqual(await fingerprintRedis({ url: dst.url, db: 1 }), info.fingerprint);
    // One byte of the 20 MB changes the digest.
    await t.setrange('big:string', 10_000_000, Buffer.from([big[10_000_000] ^ 1]));
    assert.notDeepEqual(await fingerprintRedis({ url: dst.url, db: 1 }), info.fingerprint);
    t.disconnect();
    r.disconnect();
  });
});
