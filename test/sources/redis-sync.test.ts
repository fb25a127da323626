/**
 * capture: sync — the backup is the server's own RDB snapshot, read over the
 * replication protocol: it gives the very records a SCAN backup of the same
 * (quiet) data gives, it is a point-in-time image of a live server (a MULTI
 * writer's counter and list never disagree in it), and where SYNC and PSYNC
 * are refused `auto` falls back to SCAN and says so while `sync` fails clearly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RedisServer } from '../servers/redis';
import { backupRedis, restoreRedis, type RedisConnectionOptions } from '../../sources/redis';
import { RecordDecoder } from '../../sources/redis/format/reader';
import { decodeDump } from '../../sources/redis/rdb/value';
import { RedisSyncRefusedError } from '../../sources/redis/sync/replication';
import { server, client, collect, snapshot, seedEveryType, closeClients } from './redis-helpers';
import { seedVectorSets, seedFieldTtlHashes } from './redis8-helpers';
import { forEachRedisServer } from '../harness/matrix';
import { scratchDir } from '../harness/env';

async function backup(opts: RedisConnectionOptions) {
  const b = backupRedis({ scratchDir: scratchDir('rdb-spool'), ...opts });
  const bytes = await collect(b.stream);
  return { bytes, info: await b.done };
}

/** The key records of a backup stream: key → string bytes or decoded DUMP value. */
function records(buf: Buffer): Map<string, { dump: boolean; value: Buffer }> {
  const dec = new RecordDecoder();
  dec.push(buf);
  dec.header();
  const out = new Map<string, { dump: boolean; value: Buffer }>();
  for (let r = dec.next(); r && r.tag !== 'end'; r = dec.next())
    if (r.tag === 'key') out.set(r.key.toString('latin1'), { dump: r.dump, value: r.value });
  return out;
}

forEachRedisServer((S) => {
  let src: RedisServer;
  let dst: RedisServer;
  let refusing: RedisServer;
  before(async () => {
    [src, dst, refusing] = await Promise.all([
      server('sync-src', S.flavour),
      server('sync-dst', S.flavour),
      server('sync-refused', S.flavour, {
        extraArgs: ['--rename-command', 'SYNC', '', '--rename-command', 'PSYNC', ''],
      }),
    ]);
  });
  after(async () => {
    closeClients();
    await Promise.all([src?.stop(), dst?.stop(), refusing?.stop()]);
  });

  test('a SYNC backup of every type gives the same bytes as a SCAN backup, and restores equal', async () => {
    const r1 = client(src.url, 1);
    const r3 = client(src.url, 3);
    await seedEveryType(r1, 'every:');
    await r1.set('ttl:str', 'v', 'PX', 3_600_321);
    await r1.call('PEXPIREAT', 'every:set:big', String(Date.now() + 7_200_123));
    await seedEveryType(r3, 'three:');
    if (S.flavour === 'redis8') {
      await seedVectorSets(r3, 'vs:', 50);
      await seedFieldTtlHashes(r3, 'hfe:');
    }
    const sync = await backup({ url: src.url, db: 'all', capture: 'sync' });
    const scan = await backup({ url: src.url, db: 'all', capture: 'scan' });
    assert.equal(sync.info.capture, 'sync');
    assert.match(sync.info.captureNote ?? '', /SYNC/);
    assert.equal(scan.info.capture, 'scan');
    assert.deepEqual(sync.info.dbs, [1, 3]);
    assert.deepEqual(sync.info.fingerprint, scan.info.fingerprint);
    assert.ok(sync.bytes.equals(scan.bytes), 'same records, same order, same bytes');

    const res = await restoreRedis([sync.bytes], { url: dst.url });
    assert.equal(res.restored, sync.info.keys);
    for (const db of [1, 3]) {
      const want = await snapshot(client(src.url, db));
      assert.deepEqual(await snapshot(client(dst.url, db)), want, `db ${db} equal value by value`);
    }
  });

  test('a SYNC backup taken while a MULTI writer runs is a point-in-time image: counter = list length', async () => {
    const db = 5;
    const w = client(src.url, db);
    // Filler keys spread the counter and the list apart in key order, so a SCAN-time read would see them at different moments.
    const fill = w.pipeline();
    for (let i = 0; i < 20_000; i++) fill.set(`filler:${i}`, `value-${i}`);
    await fill.exec();
    let stop = false;
    let writes = 0;
    const writer = (async () => {
      while (!stop) {
        await w.multi().incr('pit:counter').rpush('pit:list', String(writes)).exec();
        writes++;
      }
    })();
    try {
      for (let round = 0; round < 3; round++) {
        const before = writes;
        const { bytes, info } = await backup({ url: src.url, db, capture: 'sync' });
        assert.equal(info.capture, 'sync');
        const recs = records(bytes);
        const counter = Number(recs.get('pit:counter')?.value.toString() ?? 0);
        const list = recs.get('pit:list');
        const v = list ? decodeDump(list.value) : undefined;
        const length = v?.kind === 'list' ? v.items.length : 0;
        assert.equal(counter, length, `round ${round}: counter ${counter} but list length ${length}`);
        assert.ok(counter >= before, 'the snapshot is taken after the backup started');
        assert.equal(recs.size, 20_002);
        while (writes < before + 20) await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      stop = true;
      await writer;
    }
  });

  test('SYNC and PSYNC refused: auto falls back to SCAN and says so; sync fails clearly, naming the fix', async () => {
    const r = client(refusing.url);
    await seedEveryType(r, 'fb:');
    const want = await snapshot(r);
    const auto = await backup({ url: refusing.url, capture: 'auto' });
    assert.equal(auto.info.capture, 'scan');
    assert.match(auto.info.captureNote ?? '', /SYNC and PSYNC refused by the server .*unknown command.*SCAN/);
    assert.equal(auto.info.keys, want.size);
    await assert.rejects(backup({ url: refusing.url, capture: 'sync' }), (e: unknown) => {
      assert.ok(e instanceof RedisSyncRefusedError, String(e));
      assert.match(e.message, /refuses to send its snapshot .*unknown command 'PSYNC'.*use capture: scan/);
      assert.equal(e.retryable, false);
      return true;
    });
    const t = client(dst.url, 9);
    await restoreRedis([auto.bytes], { url: dst.url, db: 9 });
    assert.deepEqual(await snapshot(t), want);
  });
});
