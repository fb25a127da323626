/**
 * Helpers for the Redis adapter tests: throwaway servers, an independent
 * client (ioredis, not the adapter's own wire code) to seed data and read it
 * back, and a logical snapshot to compare a source and a restored target
 * value by value — so round trips are proved by data, not only by digests.
 */
import { Redis } from 'ioredis';
import { startRedis, type RedisFlavour, type RedisServer, type StartRedisOptions } from '../servers/redis';
import { scratchDir } from '../harness/env';

/** A throwaway server of one flavour of the matrix (Debian's Redis 7.0 unless told). */
export async function server(
  name: string,
  flavour: RedisFlavour = 'redis7',
  opts: Omit<StartRedisOptions, 'flavour'> = {},
): Promise<RedisServer> {
  return startRedis(scratchDir(`redis-${flavour}-${name}`), { ...opts, flavour });
}

const open = new Set<Redis>();

/** An ioredis client; closed by closeClients() even if a test fails half-way. */
export function client(url: string, db = 0): Redis {
  const r = new Redis(url, { db, protocol: 2, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
  open.add(r);
  r.once('end', () => open.delete(r));
  return r;
}

/** Call from after(): a client left open would keep the test process alive. */
export function closeClients(): void {
  for (const r of open) r.disconnect();
  open.clear();
}

export async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const hex = (b: Buffer) => b.toString('hex');

/** Every key of the db (optionally matching a pattern) with its type, full value and absolute expiry. */
export async function snapshot(r: Redis, match = '*'): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const [c, ks] = (await r.callBuffer('SCAN', cursor, 'MATCH', match, 'COUNT', '1000')) as [Buffer, Buffer[]];
    cursor = c.toString();
    keys.push(...ks);
  } while (cursor !== '0');
  for (const k of keys) out.set(hex(k), await readKey(r, k));
  return out;
}

export async function readKey(r: Redis, k: Buffer): Promise<unknown> {
  const type = String(await r.call('TYPE', k));
  const expireAt = Number(await r.call('PEXPIRETIME', k));
  let value: unknown;
  switch (type) {
    case 'string':
      value = hex((await r.getBuffer(k))!);
      break;
    case 'list':
      value = ((await r.lrangeBuffer(k, 0, -1)) as Buffer[]).map(hex);
      break;
    case 'set':
      value = ((await r.smembersBuffer(k)) as Buffer[]).map(hex).sort();
      break;
    case 'hash': {
      const flat = (await r.callBuffer('HGETALL', k)) as Buffer[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${hex(flat[i])}=${hex(flat[i + 1])}`);
      value = pairs.sort();
      break;
    }
    case 'zset':
      value = ((await r.callBuffer('ZRANGE', k, '0', '-1', 'WITHSCORES')) as Buffer[]).map((b) => b.toString('latin1'));
      break;
    case 'stream':
      value = {
        entries: JSON.stringify(await r.xrange(k, '-', '+')),
        groups: JSON.stringify(await r.call('XINFO', 'GROUPS', k)),
        info: JSON.stringify(
          ((await r.call('XINFO', 'STREAM', k)) as unknown[]).filter(
            (_, i, a) => i % 2 === 1 && !['first-entry', 'last-entry'].includes(String(a[i - 1])),
          ),
        ),
      };
      break;
    default:
      value = `unsupported type ${type}`;
  }
  return { type, expireAt, value };
}

/** Bytes 0..255 in one key, and invalid UTF-8. */
export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
export const BAD_UTF8 = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x00]);

/**
 * One key per type and per encoding Redis 7 may pick (listpack, intset,
 * hashtable, quicklist, skiplist, int/embstr/raw strings, LZF-compressible),
 * binary-safe names and members, and a stream with a consumer group and a
 * pending entry. `p` prefixes every key.
 */
export async function seedEveryType(r: Redis, p: string): Promise<void> {
  const k = (s: string | Buffer) => Buffer.concat([Buffer.from(p), Buffer.isBuffer(s) ? s : Buffer.from(s)]);
  await r.set(k('str:int'), '12345');
  await r.set(k('str:negint'), '-42');
  await r.set(k('str:int64'), '9223372036854775807');
  await r.set(k('str:embstr'), 'hello');
  await r.set(k('str:empty'), '');
  await r.set(k('str:raw'), 'x'.repeat(3000) + 'y');
  await r.set(k('str:random'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff)));
  await r.set(k('str:badutf8'), BAD_UTF8);
  await r.set(k(ALL_BYTES), ALL_BYTES);
  await r.set(k('str:leading-zero'), '007');
  await r.rpush(k('list:small'), 'a', '1', '-7', '200', '70000', '-9000000000', BAD_UTF8, '');
  await r.rpush(k('list:big'), ...Array.from({ length: 20000 }, (_, i) => (i % 3 ? `item-${i}` : String(i))));
  await r.sadd(k('set:intset'), 1, 2, 3, -5, 4294967296);
  await r.sadd(k('set:small'), 'a', 'b', BAD_UTF8);
  await r.sadd(k('set:big'), ...Array.from({ length: 2000 }, (_, i) => `member-${i}`));
  await r.hset(k('hash:small'), 'f1', 'v1', 'n', '123', Buffer.from([0, 1, 2]), BAD_UTF8);
  await r.hset(k('hash:big'), Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`field-${i}`, `value-${i}`])));
  await r.hset(k('hash:longvalue'), 'f', 'v'.repeat(200));
  await r.zadd(k('zset:small'), 1.5, 'a', -2, 'b', 0, 'c', 1e20, 'd', 3, BAD_UTF8);
  await r.zadd(k('zset:inf'), 'inf', 'top', '-inf', 'bottom', 0.1, 'tenth');
  await r.zadd(k('zset:big'), ...Array.from({ length: 2000 }, (_, i) => [i / 7, `m${i}`]).flat());
  await r.xadd(k('stream'), '1-1', 'a', '1', 'b', BAD_UTF8);
  await r.xadd(k('stream'), '2-5', 'a', '2');
  await r.xadd(k('stream'), '3-0', 'c', '3');
  await r.xgroup('CREATE', k('stream'), 'g1', '0');
  await r.xreadgroup('GROUP', 'g1', 'consumer-a', 'COUNT', '1', 'STREAMS', k('stream'), '>');
  await r.xadd(k('stream:empty-after-del'), '5-0', 'x', '1');
  await r.xdel(k('stream:empty-after-del'), '5-0');
}

/**
 * Like snapshot(), pipelined for big dbs: every key's type, absolute expiry
 * and full value, read with plain commands in batches of 1000.
 */
export async function bulkSnapshot(r: Redis, match = '*'): Promise<Map<string, string>> {
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const [c, ks] = (await r.callBuffer('SCAN', cursor, 'MATCH', match, 'COUNT', '5000')) as [Buffer, Buffer[]];
    cursor = c.toString();
    keys.push(...ks);
  } while (cursor !== '0');
  const out = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const meta = r.pipeline();
    for (const k of batch) meta.type(k).call('PEXPIRETIME', k);
    const m = (await meta.exec())!.map(([e, v]) => {
      if (e) throw e;
      return v;
    });
    const vals = r.pipeline();
    batch.forEach((k, j) => {
      const t = m[2 * j] as string;
      if (t === 'string') vals.getBuffer(k);
      else if (t === 'list') vals.lrangeBuffer(k, 0, -1);
      else if (t === 'set') vals.smembersBuffer(k);
      else if (t === 'hash') vals.hgetallBuffer(k);
      else if (t === 'zset') vals.callBuffer('ZRANGE', k, '0', '-1', 'WITHSCORES');
      else vals.dumpBuffer(k);
    });
    const v = (await vals.exec())!;
    batch.forEach((k, j) => {
      const [e, val] = v[j];
      if (e) throw e;
      const t = m[2 * j] as string;
      let canon: string;
      if (Buffer.isBuffer(val)) canon = val.toString('hex');
      else if (Array.isArray(val)) {
        const items = (val as Buffer[]).map((b) => b.toString('hex'));
        canon = (t === 'set' ? items.sort() : items).join(',');
      } else
        canon = JSON.stringify(
          Object.entries(val as Record<string, Buffer>)
            .map(([f, b]) => [f, b.toString('hex')])
            .sort(),
        );
      out.set(k.toString('hex'), `${t}|${m[2 * j + 1]}|${canon}`);
    });
  }
  return out;
}
