/**
 * Redis adapter benchmark (npm run bench:redis): backup and restore
 * throughput of 1M mixed keys, side by side with the tools Redis ships —
 * `redis-cli --rdb` (backup) and `redis-cli --pipe` (restore) — on the same
 * data, in the same run, on this machine.
 *
 *   npm run bench:redis                          # 1M keys, 10% with a TTL, best of 3
 *   npm run bench:redis -- --keys 200000 --runs 5
 *   npm run bench:redis -- --ttl-share 0         # no volatile keys
 *   npm run bench:redis -- --json
 *
 * Runs alternate (reference, ours, reference, ours, …) and the best of each
 * is kept, so a busy shared machine hurts both sides alike. The source gets
 * `repl-diskless-sync-delay 0`, otherwise `--rdb` would idle 5 s waiting for
 * other replicas. Two restore references are printed: per-key commands (SET /
 * RESTORE, what a dump file of commands holds) and the exact command mix our
 * restore sends (MSET batches + SET … PXAT + RESTORE), so the second ratio
 * isolates client overhead.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import os from 'node:os';
import path from 'node:path';
import { startRedis, type RedisServer } from '../test/servers/redis';
import { redisCli } from './redis-cli';
import { backupRedis, restoreRedis, fingerprintRedis, type RedisBackupInfo } from '../sources/redis';
import { RecordDecoder } from '../sources/redis/format/reader';
import { CommandBuilder } from '../sources/redis/wire/command-builder';
import { RedisWire } from '../sources/redis/wire/connection';

interface Args {
  keys: number;
  runs: number;
  ttlShare: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { keys: 1_000_000, runs: 3, ttlShare: 0.1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--keys') a.keys = Number(argv[++i]);
    else if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--ttl-share') a.ttlShare = Number(argv[++i]);
    else if (k === '--json') a.json = true;
    else if (k === '--help' || k === '-h') {
      console.log('usage: npm run bench:redis -- [--keys N] [--runs N] [--ttl-share 0..1] [--json]');
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  if (!Number.isInteger(a.keys) || a.keys < 1000) throw new Error('--keys must be an integer >= 1000');
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
  if (!(a.ttlShare >= 0 && a.ttlShare <= 1)) throw new Error('--ttl-share must be within 0..1');
  return a;
}

const MB = 1e6;
const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/** Deterministic pseudo-random printable bytes (xorshift32), so runs are comparable. */
function makeRandom(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = ALPHABET[(x >>> 0) & 63];
    }
    return b;
  };
}

/**
 * The data set as a file of RESP commands: 88% strings of ~100 B, 3% each
 * hashes, lists, sets and zsets of 5 elements; `ttlShare` of keys expire in a
 * day or so.
 */
async function writeDataset(file: string, keys: number, ttlShare: number): Promise<void> {
  const out = createWriteStream(file);
  const rnd = makeRandom(42);
  const now = Date.now();
  const ttlEvery = ttlShare > 0 ? Math.max(1, Math.round(1 / ttlShare)) : 0;
  let b = new CommandBuilder();
  for (let i = 0; i < keys; i++) {
    const k = `key:${String(i).padStart(8, '0')}`;
    const r = i % 100;
    if (r < 88) b.cmd('SET', k, rnd(90 + (i % 21)));
    else if (r < 91) b.cmd('HSET', k, 'f1', rnd(20), 'f2', rnd(20), 'f3', rnd(20), 'f4', rnd(20), 'f5', rnd(20));
    else if (r < 94) b.cmd('RPUSH', k, rnd(20), rnd(20), rnd(20), rnd(20), rnd(20));
    else if (r < 97) b.cmd('SADD', k, rnd(12), rnd(12), rnd(12), rnd(12), rnd(12));
    else b.cmd('ZADD', k, 1, rnd(12), 2.5, rnd(12), 3, rnd(12), -4, rnd(12), 5e6, rnd(12));
    if (ttlEvery && i % ttlEvery === ttlEvery - 1) b.cmd('PEXPIREAT', k, now + 86_400_000 + i);
    if (b.count >= 10_000) {
      for (const seg of b.take().segments)
        if (!out.write(seg)) await new Promise<void>((r) => out.once('drain', () => r()));
      b = new CommandBuilder();
    }
  }
  for (const seg of b.take().segments) out.write(seg);
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
}

/** From our backup file, the commands a restore amounts to: per key, or in our restore's own mix. */
async function writeRestoreCommands(backupFile: string, perKeyFile: string, ourMixFile: string): Promise<void> {
  const perKey = createWriteStream(perKeyFile);
  const mix = createWriteStream(ourMixFile);
  const dec = new RecordDecoder();
  let header = false;
  const pk = new CommandBuilder();
  const mx = new CommandBuilder();
  let mset: { key: Buffer; value: Buffer }[] = [];
  const flushMset = () => {
    if (!mset.length) return;
    mx.begin(1 + 2 * mset.length).str('MSET');
    for (const e of mset) mx.buf(e.key).buf(e.value);
    mset = [];
  };
  const drain = async (force = false) => {
    if (force) flushMset();
    if (pk.count >= 5000 || force)
      for (const s of pk.take().segments)
        if (!perKey.write(s)) await new Promise<void>((r) => perKey.once('drain', () => r()));
    if (mx.count >= 50 || force)
      for (const s of mx.take().segments)
        if (!mix.write(s)) await new Promise<void>((r) => mix.once('drain', () => r()));
  };
  for await (const chunk of createReadStream(backupFile, { highWaterMark: 1 << 20 })) {
    dec.push(chunk as Buffer);
    if (!header) header = !!dec.header();
    if (!header) continue;
    for (let rec = dec.next(); rec; rec = dec.next()) {
      if (rec.tag !== 'key') continue;
      if (rec.dump) {
        pk.cmd('RESTORE', rec.key, rec.expireAt, rec.value, 'REPLACE', 'ABSTTL');
        mx.cmd('RESTORE', rec.key, rec.expireAt, rec.value, 'REPLACE', 'ABSTTL');
      } else if (rec.expireAt) {
        pk.cmd('SET', rec.key, rec.value, 'PXAT', rec.expireAt);
        mx.cmd('SET', rec.key, rec.value, 'PXAT', rec.expireAt);
      } else {
        pk.cmd('SET', rec.key, rec.value);
        mset.push({ key: Buffer.from(rec.key), value: Buffer.from(rec.value) });
        if (mset.length >= 1000) flushMset();
      }
      await drain();
    }
  }
  await drain(true);
  await Promise.all(
    [perKey, mix].map((s) => new Promise<void>((res, rej) => s.end((e?: Error | null) => (e ? rej(e) : res())))),
  );
}

async function flushAll(srv: RedisServer): Promise<void> {
  const w = await RedisWire.connect({ host: '127.0.0.1', port: srv.port });
  try {
    await w.call('FLUSHALL');
  } finally {
    w.close();
  }
}

interface Figure {
  ms: number;
  bytes: number;
  cpuMs?: number;
}
const best = (xs: Figure[]) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-redis-'));
  const servers: RedisServer[] = [];
  // Interrupted: stop the servers and remove the data rather than leave them behind.
  const interrupted = () => {
    void Promise.allSettled(servers.map((s) => s.stop())).then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    const [src, dst] = await Promise.all([startRedis(path.join(dir, 'src')), startRedis(path.join(dir, 'dst'))]);
    servers.push(src, dst);
    const ctl = await RedisWire.connect({ host: '127.0.0.1', port: src.port });
    await ctl.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0');

    const log = (s: string) => !args.json && console.log(s);
    log(
      `# Redis adapter benchmark: ${args.keys.toLocaleString('en')} keys, ${Math.round(args.ttlShare * 100)}% with TTL, best of ${args.runs}`,
    );
    log(
      `# machine: ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(
          ' ',
        )}; redis-server ${String((await ctl.call('INFO', 'server')) ?? '').match(/redis_version:(\S+)/)?.[1]}`,
    );
    const dataFile = path.join(dir, 'dataset.resp');
    let t = performance.now();
    await writeDataset(dataFile, args.keys, args.ttlShare);
    await redisCli(['-p', String(src.port), '--pipe'], dataFile);
    log(
      `# loaded in ${((performance.now() - t) / 1000).toFixed(1)} s (${(statSync(dataFile).size / MB).toFixed(0)} MB of commands)`,
    );
    ctl.close();

    const rdbFile = path.join(dir, 'dump.rdb');
    const oursFile = path.join(dir, 'backup.lbr');
    const refBackup: Figure[] = [];
    const ourBackup: Figure[] = [];
    let info: RedisBackupInfo | undefined;
    for (let i = 0; i < args.runs; i++) {
      rmSync(rdbFile, { force: true });
      const ms = await redisCli(['-p', String(src.port), '--rdb', rdbFile]);
      refBackup.push({ ms, bytes: statSync(rdbFile).size });
      const cpu0 = process.cpuUsage();
      t = performance.now();
      const b = backupRedis({ url: src.url });
      await pipeline(b.stream, createWriteStream(oursFile, { highWaterMark: 1 << 20 }));
      info = await b.done;
      const cpu = process.cpuUsage(cpu0);
      ourBackup.push({ ms: performance.now() - t, bytes: info.bytes, cpuMs: (cpu.user + cpu.system) / 1000 });
    }
    if (info!.keys !== args.keys) throw new Error(`backup holds ${info!.keys} keys, expected ${args.keys}`);

    const perKeyFile = path.join(dir, 'restore-per-key.resp');
    const mixFile = path.join(dir, 'restore-our-mix.resp');
    await writeRestoreCommands(oursFile, perKeyFile, mixFile);
    const refRestore: Figure[] = [];
    const mixRestore: Figure[] = [];
    const ourRestore: Figure[] = [];
    for (let i = 0; i < args.runs; i++) {
      await flushAll(dst);
      refRestore.push({
        ms: await redisCli(['-p', String(dst.port), '--pipe'], perKeyFile),
        bytes: statSync(perKeyFile).size,
      });
      await flushAll(dst);
      mixRestore.push({
        ms: await redisCli(['-p', String(dst.port), '--pipe'], mixFile),
        bytes: statSync(mixFile).size,
      });
      await flushAll(dst);
      const cpu0 = process.cpuUsage();
      t = performance.now();
      const r = await restoreRedis(createReadStream(oursFile, { highWaterMark: 1 << 20 }), { url: dst.url });
      const cpu = process.cpuUsage(cpu0);
      ourRestore.push({ ms: performance.now() - t, bytes: r.bytes, cpuMs: (cpu.user + cpu.system) / 1000 });
      if (r.restored !== args.keys) throw new Error(`restored ${r.restored} keys, expected ${args.keys}`);
    }
    const check = await fingerprintRedis({ url: dst.url });
    const exact = JSON.stringify(check) === JSON.stringify(info!.fingerprint);
    if (!exact) throw new Error('restored data does not match the backup fingerprint');

    const row = (name: string, f: Figure) => ({
      name,
      seconds: +(f.ms / 1000).toFixed(2),
      keysPerSec: Math.round(args.keys / (f.ms / 1000)),
      mbPerSec: +(f.bytes / MB / (f.ms / 1000)).toFixed(1),
      mb: +(f.bytes / MB).toFixed(1),
      cpuSeconds: f.cpuMs === undefined ? undefined : +(f.cpuMs / 1000).toFixed(2),
    });
    const rows = [
      row('backup: redis-cli --rdb', best(refBackup)),
      row('backup: lifeboat', best(ourBackup)),
      row('restore: redis-cli --pipe, per-key SET/RESTORE', best(refRestore)),
      row('restore: redis-cli --pipe, our command mix', best(mixRestore)),
      row('restore: lifeboat', best(ourRestore)),
    ];
    const ratios = {
      backupVsRdb: +(best(refBackup).ms / best(ourBackup).ms).toFixed(2),
      restoreVsPipePerKey: +(best(refRestore).ms / best(ourRestore).ms).toFixed(2),
      restoreVsPipeSameCommands: +(best(mixRestore).ms / best(ourRestore).ms).toFixed(2),
    };
    if (args.json) {
      console.log(
        JSON.stringify(
          {
            keys: args.keys,
            ttlShare: args.ttlShare,
            runs: args.runs,
            loadavg: os.loadavg(),
            rows,
            ratios,
            verified: exact,
          },
          null,
          2,
        ),
      );
    } else {
      console.log('');
      console.log(
        `${'what'.padEnd(50)} ${'s'.padStart(7)} ${'keys/s'.padStart(10)} ${'MB/s'.padStart(8)} ${'MB'.padStart(8)} ${'our CPU s'.padStart(10)}`,
      );
      for (const r of rows) {
        console.log(
          `${r.name.padEnd(50)} ${r.seconds.toFixed(2).padStart(7)} ${r.keysPerSec.toLocaleString('en').padStart(10)} ${r.mbPerSec.toFixed(1).padStart(8)} ${r.mb.toFixed(1).padStart(8)} ${(r.cpuSeconds?.toFixed(2) ?? '').padStart(10)}`,
        );
      }
      console.log('');
      console.log(
        `ratio backup  (ours vs redis-cli --rdb, by time):            ${ratios.backupVsRdb.toFixed(2)}x  (goal >= 0.5x)`,
      );
      console.log(
        `ratio restore (ours vs redis-cli --pipe per-key commands):   ${ratios.restoreVsPipePerKey.toFixed(2)}x  (goal >= 0.5x)`,
      );
      console.log(
        `ratio restore (ours vs redis-cli --pipe of the same mix):    ${ratios.restoreVsPipeSameCommands.toFixed(2)}x`,
      );
      console.log(`restored data verified against the backup fingerprint: ${exact ? 'equal' : 'DIFFERENT'}`);
      console.log(
        `# load average at the end: ${os
          .loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')}`,
      );
    }
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
