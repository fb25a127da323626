import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../servers/redis';
import { freePort } from '../servers/process';
import { scratchDir } from '../harness/env';
import {
  backupRedis,
  restoreRedis,
  fingerprintRedis,
  inspectRedisBackup,
  RedisAuthError,
  RedisBackupFormatError,
  RedisBusyKeyError,
  RedisIncompatibleDumpError,
  RedisOptionsError,
  RedisUnreachableError,
} from '../../sources/redis';
import { RecordWriter } from '../../sources/redis/format/writer';
import { RecordTag } from '../../sources/redis/format/constants';
import { RecordDecoder } from '../../sources/redis/format/reader';
import { DbDigest } from '../../sources/redis/digest';
import { decodeDump } from '../../sources/redis/rdb/value';
import { crc64 } from '../../sources/redis/rdb/crc64';
import { keySlot } from '../../sources/redis/slot';
import { server, client, collect, closeClients } from './redis-helpers';
import { forEachRedisServer } from '../harness/matrix';

forEachRedisServer((S) => {
  let src: RedisServer;
  let dst: RedisServer;
  let s: Redis;
  let d: Redis;
  let good: Buffer;

  before(async () => {
    [src, dst] = await Promise.all([server('err-src', S.flavour), server('err-dst', S.flavour)]);
    s = client(src.url);
    d = client(dst.url);
    await s.set('plain', 'value one');
    await s.rpush('list', 'a', 'b', 'c');
    await s.hset('hash', 'f', 'v');
    const b = backupRedis({ url: src.url });
    good = await collect(b.stream);
    await b.done;
  });
  after(async () => {
    closeClients();
    s?.disconnect();
    d?.disconnect();
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  /** Restores into an emptied target db and returns the error it fails with, and what the db holds afterwards. */
  async function restoreFails(bytes: Buffer, db: number, options = {}) {
    const t = client(dst.url, db);
    try {
      await t.flushdb();
      const err = await restoreRedis([bytes], { url: dst.url, db }, options).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(err, 'restore should fail');
      return { err, size: await t.dbsize() };
    } finally {
      t.disconnect();
    }
  }

  /** Offset of the first record after the header. */
  function headerLength(buf: Buffer): number {
    const dec = new RecordDecoder();
    dec.push(buf);
    assert.ok(dec.header());
    return dec.offset;
  }

  describe('a truncated or corrupted stream is rejected with a clear error', () => {
    test('truncated inside the header: nothing written', async () => {
      const { err, size } = await restoreFails(good.subarray(0, 12), 1);
      assert.ok(err instanceof RedisBackupFormatError);
      assert.match(err.message, /truncated/);
      assert.match(err.message, /inside the header/);
      assert.equal(err.retryable, false);
      assert.equal(size, 0, 'nothing written');
    });

    test('truncated in the middle of a record and before the end record: says where', async () => {
      for (const cut of [good.length - 1, good.length - 13, Math.floor(good.length / 2)]) {
        const { err } = await restoreFails(good.subarray(0, cut), 2);
        assert.ok(err instanceof RedisBackupFormatError, `cut at ${cut}: ${err.message}`);
        assert.match(err.message, /truncated/);
        assert.equal((err as RedisBackupFormatError).offset, cut, 'reports the byte where it broke');
      }
    });

    test('not a backup at all (bad magic): nothing written', async () => {
      const bad = Buffer.from(good);
      bad[1] = 0x58;
      const { err, size } = await restoreFails(bad, 3);
      assert.ok(err instanceof RedisBackupFormatError);
      assert.match(err.message, /not a Lifeboat Redis backup/);
      assert.equal(size, 0);
      await assert.rejects(inspectRedisBackup([bad]), RedisBackupFormatError);
    });

    test('a flipped byte in a string value fails the db digest check, naming it corrupt', async () => {
      const i = good.indexOf(Buffer.from('value one'));
      const bad = Buffer.from(good);
      bad[i + 2] ^= 0x20;
      const { err } = await restoreFails(bad, 4);
      assert.ok(err instanceof RedisBackupFormatError);
      assert.match(err.message, /db 0 holds 3 keys with digest .* the backup is corrupt/);
      await assert.rejects(inspectRedisBackup([bad]), /corrupt/);
    });

    test('a flipped byte in a DUMP payload is caught (checksum) with the key named', async () => {
      const payload = (await s.dumpBuffer('list'))!;
      const i = good.indexOf(payload);
      assert.ok(i > 0);
      const bad = Buffer.from(good);
      bad[i + payload.length - 3] ^= 0xff; // inside the CRC64 trailer: decodes fine, Redis refuses
      const { err } = await restoreFails(bad, 5);
      assert.ok(err instanceof RedisBackupFormatError, err.message);
      assert.match(err.message, /DUMP payload of key "list" fails its checksum/);
      assert.equal((err as RedisBackupFormatError).offset, i - 4 - 8 - 4 - 4 - 1, 'offset of the record');
    });

    test('an unknown record tag and trailing garbage are rejected with their offsets', async () => {
      const headerEnd = headerLength(good);
      assert.equal(good[headerEnd], RecordTag.DB_START);
      const bad = Buffer.from(good);
      bad[headerEnd + 5] = 0x7e; // the first key record's tag
      const { err } = await restoreFails(bad, 6);
      assert.match(err.message, new RegExp(`at byte ${headerEnd + 5}: unknown record tag 0x7e`));
      const trailing = Buffer.concat([good, Buffer.from('x')]);
      const r2 = await restoreFails(trailing, 6);
      assert.match(r2.err.message, /data after the end record/);
    });
  });

  test('clearing a scope: the whole db (FLUSHDB, or the sweep when an ACL forbids it) and a pattern leave exactly the rest', async () => {
    const db = 13;
    const { clearRedisScope } = await import('../../sources/redis');
    const d13 = client(dst.url, db);
    const other = client(dst.url, 14);
    try {
      const fill = async () => {
        const p = d13.pipeline();
        for (let i = 0; i < 2500; i++) p.set(i % 2 ? `keep:${i}` : `drop:${i}`, String(i));
        await p.exec();
        await other.set('other-db', 'stays');
      };
      // No pattern: the whole db goes; another db is untouched.
      await fill();
      assert.equal(await clearRedisScope({ url: dst.url }, [db]), 2500);
      assert.equal(await d13.dbsize(), 0);
      assert.equal(await other.get('other-db'), 'stays');
      // A user who may not FLUSHDB (common in production): the sweep does the same.
      await fill();
      await d.call('ACL', 'SETUSER', 'noflush', 'on', '>noflush-pw', '~*', '+@all', '-flushdb', '-flushall');
      try {
        const n = await clearRedisScope({ url: dst.url, username: 'noflush', password: 'noflush-pw' }, [db]);
        assert.equal(n, 2500);
        assert.equal(await d13.dbsize(), 0);
      } finally {
        await d.call('ACL', 'DELUSER', 'noflush');
      }
      // A pattern: only matching keys go (never FLUSHDB).
      await fill();
      assert.equal(await clearRedisScope({ url: dst.url, pattern: 'drop:*' }, [db]), 1250);
      const left = (await d13.keys('*')).sort();
      assert.deepEqual(left, [...Array(1250).keys()].map((i) => `keep:${2 * i + 1}`).sort());
      assert.equal(await other.get('other-db'), 'stays');
    } finally {
      await d13.flushdb();
      await other.flushdb();
      d13.disconnect();
      other.disconnect();
    }
  });

  test('unreachable server: non-retryable error naming host:port, from backup, restore and fingerprint', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const b = backupRedis({ url });
    const viaStream = await collect(b.stream).then(
      () => assert.fail('backup should fail'),
      (e: Error) => e,
    );
    await assert.rejects(b.done, RedisUnreachableError);
    assert.ok(viaStream instanceof RedisUnreachableError);
    assert.match(viaStream.message, new RegExp(`127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED\\)`));
    assert.equal(viaStream.retryable, false);
    await assert.rejects(
      restoreRedis([good], { url }),
      (e: Error) => e instanceof RedisUnreachableError && e.message.includes(`127.0.0.1:${port}`),
    );
    await assert.rejects(fingerprintRedis({ url }), RedisUnreachableError);
    await assert.rejects(fingerprintRedis({ cluster: [{ host: '127.0.0.1', port }] }), RedisUnreachableError);
  });

  test('authentication: missing or wrong password is a clear error that never shows the password', async () => {
    const dir = scratchDir('redis-auth');
    const secured = await startRedis(path.join(dir, 'srv'), { flavour: S.flavour });
    const admin = client(secured.url);
    try {
      await admin.set('k', 'v');
      await admin.call('CONFIG', 'SET', 'requirepass', 's3cret-pw');
      const none = await fingerprintRedis({ url: secured.url }).catch((e: Error) => e);
      assert.ok(none instanceof RedisAuthError, String(none));
      assert.match(none.message, /refused authentication: NOAUTH/);
      const wrong = await fingerprintRedis({ url: secured.url, password: 'not-it' }).catch((e: Error) => e);
      assert.ok(wrong instanceof RedisAuthError);
      assert.match(wrong.message, /WRONGPASS/);
      assert.ok(!wrong.message.includes('not-it'));
      const ok = await fingerprintRedis({ url: secured.url, password: 's3cret-pw' });
      assert.equal(ok.counts.db0, 1);
      const viaUrl = await fingerprintRedis({ url: `redis://default:s3cret-pw@127.0.0.1:${secured.port}` });
      assert.deepEqual(viaUrl, ok);
    } finally {
      admin.disconnect();
      await secured.stop();
    }
  });

  test('replace=false: an existing key fails with BUSYKEY naming it (string and non-string records)', async () => {
    for (const [key, db] of [
      ['plain', 7],
      ['list', 8],
    ] as const) {
      const t = client(dst.url, db);
      await t.flushdb();
      await t.set(key, 'already here');
      const err = await restoreRedis([good], { url: dst.url, db }, { replace: false }).catch((e: Error) => e);
      assert.ok(err instanceof RedisBusyKeyError, String(err));
      assert.equal(err.key, `"${key}"`);
      assert.match(err.message, new RegExp(`key "${key}" already exists in db ${db}`));
      assert.equal(await t.get(key), 'already here', 'existing key untouched');
      t.disconnect();
    }
  });

  /** A one-key stream with a hand-made DUMP payload. */
  function streamWith(key: string, payload: Buffer): Buffer {
    const w = new RecordWriter();
    w.header({ cluster: false, redisVersion: '99.0.0', pattern: '', dbs: [0] });
    w.dbStart(0);
    w.key(RecordTag.DUMP, key, 0, payload);
    const dg = new DbDigest();
    dg.add(key, 0, decodeDump(payload));
    w.dbEnd(0, 1, dg.digest());
    w.end(1, 1);
    return Buffer.concat(w.take());
  }

  test('a DUMP payload from a newer Redis (higher RDB version) fails with a clear, non-retryable error', async () => {
    const payload = Buffer.from((await s.dumpBuffer('list'))!);
    payload.writeUInt16LE(99, payload.length - 10);
    crc64(payload.subarray(0, payload.length - 8)).copy(payload, payload.length - 8);
    const { err, size } = await restoreFails(streamWith('from-the-future', payload), 9);
    assert.ok(err instanceof RedisIncompatibleDumpError, String(err));
    assert.equal(err.payloadRdbVersion, 99);
    assert.match(
      err.message,
      new RegExp(
        `^${S.name.replace(/\./g, '\\.')} at .* cannot read key "from-the-future": its DUMP payload is RDB format v99`,
      ),
    );
    assert.equal(err.retryable, false);
    assert.equal(size, 0);
  });

  test('bad options are rejected before anything is written', async () => {
    const t = client(dst.url, 10);
    await t.flushdb();
    const multi = await collect(backupRedis({ url: src.url, db: 'all' }).stream);
    await s.select(1);
    await s.set('in-db1', 'x');
    await s.select(0);
    const twoDbs = await collect(backupRedis({ url: src.url, db: 'all' }).stream);
    await assert.rejects(
      restoreRedis([twoDbs], { url: dst.url, db: 10 }),
      (e: Error) => e instanceof RedisOptionsError && /holds dbs 0, 1; .* give a dbMap/.test(e.message),
    );
    await assert.rejects(
      restoreRedis([twoDbs], { url: dst.url }, { dbMap: { 0: 10, 1: 10 } }),
      /dbs 0 and 1 would both go into db 10/,
    );
    await assert.rejects(restoreRedis([multi], { url: dst.url }, { dbMap: { 4: 10 } }), /db 4 is not in this backup/);
    await assert.rejects(
      restoreRedis([good], { url: dst.url, db: 100_000 }),
      (e: Error) => e instanceof RedisOptionsError && /db 100000 cannot be selected/.test(e.message),
    );
    await assert.rejects(fingerprintRedis({ url: src.url, db: -1 }), RedisOptionsError);
    await assert.rejects(fingerprintRedis({ url: 'http://x' }), /scheme "http:"/);
    await assert.rejects(
      fingerprintRedis({ cluster: [{ host: '127.0.0.1', port: src.port }], db: 2 }),
      /only has db 0/,
    );
    assert.equal(await t.dbsize(), 0, 'nothing written');
    t.disconnect();
    const s1 = client(src.url, 1);
    await s1.del('in-db1');
    s1.disconnect();
  });

  test('a cluster node given as a plain url is refused (it would miss the other masters)', async () => {
    const { testEnv } = await import('../harness/env');
    const seed = testEnv().redisCluster.seeds[0];
    await assert.rejects(
      fingerprintRedis({ url: `redis://${seed.host}:${seed.port}` }),
      /is a Redis Cluster node: give the cluster seeds/,
    );
  });

  test('keys that vanish or expire mid-backup are skipped, not errors', async () => {
    const r = client(src.url, 11);
    const p = r.pipeline();
    const keys: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      const k = `mid:${i}`;
      keys.push(k);
      if (i % 10 === 0) p.hset(k, 'f', 'x'.repeat(100));
      else p.set(k, 'x'.repeat(100));
    }
    await p.exec();
    // Keys are read in (slot, key) order: the last slots are read last.
    const late = keys.filter((k) => keySlot(Buffer.from(k)) >= 14_000);
    assert.ok(late.length > 4000);
    const b = backupRedis({ url: src.url, db: 11 });
    const chunks: Buffer[] = [];
    // Take the first chunk, then stop reading: backpressure halts the backup well before the late slots.
    const first = await new Promise<Buffer>((res) => b.stream.once('data', res));
    b.stream.pause();
    chunks.push(first);
    await new Promise((res) => setTimeout(res, 300));
    const gone = late.filter((_, i) => i % 2 === 0);
    const expiring = late.filter((_, i) => i % 2 === 1);
    await r.del(...gone);
    const px = r.pipeline();
    for (const k of expiring) px.pexpire(k, 1);
    await px.exec();
    await new Promise((res) => setTimeout(res, 50));
    b.stream.on('data', (c: Buffer) => chunks.push(c));
    b.stream.resume();
    await new Promise((res) => b.stream.once('end', res));
    const info = await b.done;
    assert.equal(info.vanished, late.length, 'every deleted or expired key was skipped');
    assert.equal(info.keys, keys.length - late.length);
    const summary = await inspectRedisBackup([Buffer.concat(chunks)]);
    assert.equal(summary.keys, info.keys, 'the stream is complete and consistent');
    r.disconnect();
  });

  test('a db with no volatile keys is read without expiry commands, yet a TTL set mid-backup is captured', async () => {
    const r = client(src.url, 12);
    const admin = client(src.url);
    const t = client(dst.url, 12);
    const pexpiretimeCalls = async () =>
      Number(/cmdstat_pexpiretime:calls=(\d+)/.exec(String(await admin.info('commandstats')))?.[1] ?? 0);
    try {
      const p = r.pipeline();
      const keys: string[] = [];
      for (let i = 0; i < 40_000; i++) {
        keys.push(`vol:${i}`);
        p.set(`vol:${i}`, 'y'.repeat(100));
      }
      await p.exec();
      await admin.call('CONFIG', 'RESETSTAT');
      const plain = backupRedis({ url: src.url, db: 12 });
      await collect(plain.stream);
      assert.equal((await plain.done).keys, 40_000);
      assert.equal(await pexpiretimeCalls(), 0, 'no per-key expiry reads while no key is volatile');

      const late = keys.filter((k) => keySlot(Buffer.from(k)) >= 15_000).slice(0, 50);
      const at = Date.now() + 3_600_000;
      const b = backupRedis({ url: src.url, db: 12 });
      const chunks: Buffer[] = [await new Promise<Buffer>((res) => b.stream.once('data', res))];
      b.stream.pause();
      await new Promise((res) => setTimeout(res, 300));
      const px = r.pipeline();
      for (const k of late) px.pexpireat(k, at);
      await px.exec();
      b.stream.on('data', (c: Buffer) => chunks.push(c));
      b.stream.resume();
      await new Promise((res) => b.stream.once('end', res));
      await b.done;
      const calls = await pexpiretimeCalls();
      assert.ok(
        calls > 0 && calls < 40_000,
        `expiries read once a volatile key appeared, not for the keys before (${calls} PEXPIRETIME calls)`,
      );
      await restoreRedis(chunks, { url: dst.url, db: 12 });
      for (const k of late)
        assert.equal(Number(await t.call('PEXPIRETIME', k)), at, `${k} keeps the TTL set during the backup`);
      assert.deepEqual(
        await fingerprintRedis({ url: dst.url, db: 12 }),
        await fingerprintRedis({ url: src.url, db: 12 }),
      );
    } finally {
      for (const c of [t, r, admin]) c.disconnect();
    }
  });

  test('abort: the backup stream errors with the abort reason and the restore stops', async () => {
    const ac = new AbortController();
    const b = backupRedis({ url: src.url, db: 11 }, { signal: ac.signal });
    const got = collect(b.stream);
    ac.abort(new Error('operator cancelled'));
    await assert.rejects(got, /operator cancelled/);
    await assert.rejects(b.done, /operator cancelled/);
    const ac2 = new AbortController();
    ac2.abort(new Error('cancelled before start'));
    await assert.rejects(
      restoreRedis([good], { url: dst.url, db: 12 }, {}, { signal: ac2.signal }),
      /cancelled before start/,
    );
  });
});
