import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { RedisServer } from '../servers/redis';
import { decodeDump } from '../../sources/redis/rdb/value';
import { crc64, dumpTrailer } from '../../sources/redis/rdb/crc64';
import { globMatch } from '../../sources/redis/glob';
import { keySlot } from '../../sources/redis/slot';
import { RespParser, ReplyError, type Reply } from '../../sources/redis/wire/resp-parser';
import { CommandBuilder } from '../../sources/redis/wire/command-builder';
import { RedisWire } from '../../sources/redis/wire/connection';
import { testEnv } from '../harness/env';
import { server, client, seedEveryType, readKey, closeClients } from './redis-helpers';
import { forEachRedisServer } from '../harness/matrix';

/** The RDB (DUMP payload) version each server of the matrix writes. */
const RDB_VERSION_OF = { redis7: 10, valkey8: 11, redis8: 12 } as const;

forEachRedisServer((S) => {
  let srv: RedisServer;
  let r: Redis;
  before(async () => {
    srv = await server('codec', S.flavour);
    r = client(srv.url);
  });
  after(async () => {
    closeClients();
    r?.disconnect();
    await srv?.stop();
  });

  /** The logical value decodeDump gives, in the shape readKey (an independent read via commands) gives. */
  function asRead(v: ReturnType<typeof decodeDump>): unknown {
    const hex = (b: Buffer) => b.toString('hex');
    switch (v.kind) {
      case 'string':
        return hex(v.value);
      case 'list':
        return v.items.map(hex);
      case 'set':
        return v.members.map(hex).sort();
      case 'hash':
        return v.fields.map((f, i) => `${hex(f)}=${hex(v.values[i])}`).sort();
      case 'zset': {
        const idx = v.members
          .map((_, i) => i)
          .sort((a, b) => v.scores[a] - v.scores[b] || Buffer.compare(v.members[a], v.members[b]));
        return idx.flatMap((i) => [v.members[i].toString('latin1'), fmtScore(v.scores[i])]);
      }
      default:
        return v;
    }
  }
  function fmtScore(x: number): string {
    if (x === Infinity) return 'inf';
    if (x === -Infinity) return '-inf';
    return String(x);
  }

  test('DUMP payloads of every type and encoding decode to exactly the value Redis returns', async () => {
    await seedEveryType(r, 'c:');
    const encodings = new Set<string>();
    const keys = (await r.keysBuffer('c:*')) as Buffer[];
    assert.ok(keys.length >= 20, `seeded ${keys.length} keys`);
    for (const k of keys) {
      const type = await r.type(k);
      encodings.add(`${type}/${await r.object('ENCODING', k)}`);
      const payload = (await r.dumpBuffer(k))!;
      const v = decodeDump(payload);
      if (type === 'stream') {
        assert.equal(v.kind, 'opaque', 'streams are compared as their RDB body');
        continue;
      }
      assert.notEqual(v.kind, 'opaque', `${k.toString('latin1')} (${type}) must be decoded, not treated as opaque`);
      const read = ((await readKey(r, k)) as { value: unknown }).value;
      if (type === 'zset') {
        // Compare numerically: ZRANGE prints scores with %.17g.
        const got = asRead(v) as string[];
        const want = read as string[];
        assert.equal(got.length, want.length);
        for (let i = 0; i < got.length; i += 2) {
          assert.equal(got[i], want[i]);
          assert.equal(Number(got[i + 1].replace('inf', 'Infinity')), Number(want[i + 1].replace('inf', 'Infinity')));
        }
      } else assert.deepEqual(asRead(v), read, `${k.toString('latin1')} (${type})`);
    }
    // Redis 7.0 keeps every list as a quicklist (of listpacks); 7.2 adds list/listpack.
    for (const e of [
      'string/int',
      'string/embstr',
      'string/raw',
      'list/quicklist',
      'set/intset',
      'set/hashtable',
      'hash/listpack',
      'hash/hashtable',
      'zset/listpack',
      'zset/skiplist',
      'stream/stream',
    ]) {
      assert.ok(encodings.has(e), `the seed covers ${e} (got ${[...encodings].join(', ')})`);
    }
  });

  test('LZF-compressed strings in DUMP payloads decode to the original bytes', async () => {
    const value = Buffer.from('abcabcabcabc'.repeat(500) + 'tail');
    // MGET returns strings directly, so force the DUMP path by decoding a DUMP here.
    await r.set('lzf', value);
    const payload = (await r.dumpBuffer('lzf'))!;
    assert.ok(payload.length < value.length / 5, 'Redis compressed it');
    const v = decodeDump(payload);
    assert.equal(v.kind, 'string');
    assert.ok(v.kind === 'string' && v.value.equals(value));
  });

  test('CRC64 matches Redis: check value and DUMP trailers', async () => {
    assert.equal(crc64(Buffer.from('123456789')).readBigUInt64LE(0), 0xe9c6d914c4b8d9can);
    await r.set('crc', 'some value');
    await r.rpush('crc:list', 'a', 'b');
    for (const k of ['crc', 'crc:list']) {
      const p = (await r.dumpBuffer(k))!;
      const t = dumpTrailer(p)!;
      assert.equal(t.checksumOk, true);
      assert.equal(t.rdbVersion, RDB_VERSION_OF[S.flavour], `${S.name} writes RDB v${RDB_VERSION_OF[S.flavour]}`);
      p[1] ^= 1;
      assert.equal(dumpTrailer(p)!.checksumOk, false);
    }
  });

  test('glob matches exactly what SCAN MATCH selects', async () => {
    const names = [
      'a',
      'ab',
      'abc',
      'b',
      'a*c',
      'a?c',
      'a[c',
      'a]c',
      'a\\c',
      'user:1',
      'user:10',
      'user:x',
      'x-y',
      '',
      'hello',
      'hallo',
      'hxllo',
      'hllo',
      'heeeello',
      '\xff\x00z',
    ];
    const r3 = client(srv.url, 3);
    for (const n of names) await r3.set(Buffer.from(`${n}`, 'latin1'), '1');
    const patterns = [
      '*',
      'a*',
      '*c',
      'a?c',
      'a\\*c',
      'a\\?c',
      'a[bc]*',
      'a[^b]c',
      'a[\\]]c',
      'a[a-c]*',
      'a[c-a]',
      'user:[0-9]',
      'user:[0-9]*',
      'h?llo',
      'h*llo',
      'h[ae]llo',
      'h[^e]llo',
      'h[a-b]llo',
      '*e*e*e*o',
      'a\\',
      '[',
      'a[',
      '\\',
      '*[*',
      '\xff*',
      '?',
      '',
    ];
    for (const p of patterns) {
      const viaServer = new Set<string>();
      let cursor = '0';
      do {
        const [c, ks] = (await r3.callBuffer('SCAN', cursor, 'MATCH', Buffer.from(p, 'latin1'), 'COUNT', '1000')) as [
          Buffer,
          Buffer[],
        ];
        cursor = c.toString();
        for (const k of ks) viaServer.add(k.toString('latin1'));
      } while (cursor !== '0');
      const ours = names.filter((n) => globMatch(Buffer.from(p, 'latin1'), Buffer.from(n, 'latin1')));
      assert.deepEqual(ours.sort(), [...viaServer].sort(), `pattern ${JSON.stringify(p)}`);
    }
    r3.disconnect();
  });

  test('hash slots match CLUSTER KEYSLOT, including hash tags', async () => {
    // CLUSTER KEYSLOT needs cluster mode: ask a node of the harness' cluster.
    const seed = testEnv().redisCluster.seeds[0];
    const node = client(`redis://${seed.host}:${seed.port}`);
    for (const k of [
      'foo',
      'bar',
      '{user1000}.following',
      '{user1000}.followers',
      'foo{}{bar}',
      'foo{{bar}}zap',
      'foo{bar}{zap}',
      '',
      '\xff\x00',
      'a'.repeat(300),
    ]) {
      const want = Number(await node.call('CLUSTER', 'KEYSLOT', Buffer.from(k, 'latin1')));
      assert.equal(keySlot(Buffer.from(k, 'latin1')), want, JSON.stringify(k));
    }
    node.disconnect();
  });

  test('RESP parser: replies split at every possible byte boundary parse the same', () => {
    const big = Buffer.alloc(200_000, 7);
    const wire = Buffer.concat([
      Buffer.from('+OK\r\n-ERR bad thing\r\n:12345\r\n:-7\r\n$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n'),
      Buffer.from('*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n$2\r\nab\r\n$-1\r\n'),
      Buffer.from(`$${big.length}\r\n`),
      big,
      Buffer.from('\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n'),
    ]);
    const expected: Reply[] = [
      'OK',
      new ReplyError('ERR bad thing'),
      12345,
      -7,
      null,
      null,
      [],
      Buffer.alloc(0),
      [Buffer.from('foo'), [1, Buffer.from('ab')], null],
      big,
      [Buffer.from('x'), Buffer.from('y')],
    ];
    const run = (sizes: (i: number) => number) => {
      const got: Reply[] = [];
      const p = new RespParser((x) => got.push(x));
      for (let off = 0, i = 0; off < wire.length; i++) {
        const n = Math.max(1, sizes(i));
        p.feed(Buffer.from(wire.subarray(off, off + n)));
        off += n;
      }
      assert.deepEqual(got, expected);
    };
    run(() => wire.length);
    run(() => 1);
    for (const size of [2, 3, 5, 7, 64, 1000, 65536, 65537, 100_001]) run(() => size);
    let seed = 1;
    run(() => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 70000) + 1);
  });

  test('command builder + wire: binary arguments (big ones uncopied) reach Redis intact', async () => {
    const key = Buffer.from([0, 13, 10, 255, 0x2a]);
    const bigValue = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff));
    const b = new CommandBuilder();
    b.cmd('SET', key, bigValue).cmd('GET', key).cmd('STRLEN', key).cmd('NOSUCHCOMMAND');
    const wire = await RedisWire.connect({ host: '127.0.0.1', port: srv.port });
    try {
      const replies = await wire.send(b);
      assert.equal(replies[0], 'OK');
      assert.ok((replies[1] as Buffer).equals(bigValue));
      assert.equal(replies[2], 100_000);
      assert.ok(replies[3] instanceof ReplyError && /unknown command/i.test(replies[3].message));
    } finally {
      wire.close();
    }
    assert.ok((await r.getBuffer(key))!.equals(bigValue), 'an independent client reads the same bytes');
    const b2 = new CommandBuilder().cmd('SET', 'x', bigValue);
    assert.ok(b2.take().segments.includes(bigValue), 'the big value is passed through, not copied');
  });
});
