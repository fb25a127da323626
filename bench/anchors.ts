/**
 * The anchors benchmark (npm run bench:anchors): Lifeboat's repository side by
 * side with restic on the same generated file, same machine, same run.
 *
 *   npm run bench:anchors                          # 1 GiB, 3 alternating runs, local + MinIO
 *   npm run bench:anchors -- --size 256 --runs 1   # quick
 *   npm run bench:anchors -- --only local          # or minio
 *
 * The file is Redis-RDB-like: ~60% records of mixed keys (ints, short JSON,
 * base64 blobs), ~25% float32 vectors, ~15% text. Phases per run, each tool
 * with a fresh repository: first backup; second backup after 10 MB were
 * overwritten in the middle; third after 1 MB was inserted (content shift);
 * restore of the latest point (verified: Lifeboat checks every chunk id and the
 * whole stream's sha256, restic runs `restore --verify`). Tools alternate
 * (restic first on odd runs), each operation runs in its own process; medians
 * of time and peak RSS are printed with speed ratios (restic time / Lifeboat
 * time; > 1 means Lifeboat is faster). restic comes from .tools/ (built by
 * `bash scripts/setup --bench`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { startMinio } from '../test/servers/minio';
import { startRedis } from '../test/servers/redis';
import { initRepository } from '../repository';
import { backupRedis } from '../sources/redis';

const MiB = 1024 * 1024;
const ROOT = path.resolve(__dirname, '..');

interface Args {
  sizeMiB: number;
  runs: number;
  only?: 'local' | 'minio' | 'redis';
  redisKeys: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { sizeMiB: 1024, runs: 3, redisKeys: 210_000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--size') a.sizeMiB = Number(argv[++i]);
    else if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--only') a.only = argv[++i] as Args['only'];
    else if (k === '--redis-keys') a.redisKeys = Number(argv[++i]);
    else if (k === '--help' || k === '-h') {
      console.log(
        'usage: npm run bench:anchors -- [--size MiB (default 1024)] [--runs N (default 3)] [--only local|minio|redis] [--redis-keys N (default 210000)]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  if (!Number.isInteger(a.sizeMiB) || a.sizeMiB < 32) throw new Error('--size must be an integer >= 32 (MiB)');
  if (!Number.isInteger(a.redisKeys) || a.redisKeys < 0) throw new Error('--redis-keys must be an integer >= 0');
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
  if (a.only && !['local', 'minio', 'redis'].includes(a.only)) throw new Error('--only must be local, minio or redis');
  return a;
}

function resticPath(): string {
  const t = JSON.parse(readFileSync(path.join(ROOT, 'scripts/tool-versions.json'), 'utf8')).restic;
  const p = path.join(ROOT, '.tools', `restic-${t.version}`, 'bin', 'restic');
  if (!existsSync(p)) throw new Error(`restic not found at ${p}: run 'bash scripts/setup --bench' first`);
  return p;
}

/** xorshift32: deterministic and fast. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const WORDS = Array.from({ length: 5000 }, (_, i) =>
  createHash('sha1')
    .update(`w${i}`)
    .digest('base64url')
    .slice(0, 2 + (i % 10))
    .toLowerCase(),
);
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** One block of the generated file; `region` picks records, vectors or text. */
function block(size: number, region: number, r: () => number, keyBase: { n: number }): Buffer {
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  if (region < 60) {
    while (off < size) {
      const id = keyBase.n++;
      const kind = r() % 10;
      let rec: string;
      if (kind < 4) rec = `\x00user:${id}:visits\x00${r() % 100000}`;
      else if (kind < 8)
        rec = `\x00session:${id}\x00{"user":${r() % 1e6},"name":"${WORDS[r() % WORDS.length]}","score":${(r() % 10000) / 100},"tags":["${WORDS[r() % WORDS.length]}","${WORDS[r() % WORDS.length]}"]}`;
      else {
        let s = '';
        const n = 64 + (r() % 960);
        for (let i = 0; i < n; i++) s += B64[r() & 63];
        rec = `\x00blob:${id}\x00${s}`;
      }
      off += out.write(`${rec}\xff`, off, 'latin1');
    }
  } else if (region < 85) {
    const f = new Float32Array(out.buffer, out.byteOffset, Math.floor(size / 4));
    for (let i = 0; i < f.length; i++) f[i] = ((r() / 4294967296) * 2 - 1) * 0.5;
  } else {
    while (off < size) {
      const w = WORDS[r() % WORDS.length];
      off += out.write(r() % 17 === 0 ? `${w}.\n` : `${w} `, off, 'latin1');
    }
  }
  return out;
}

/** Writes the realistic file: 4 MiB blocks, regions interleaved so every part of the file is mixed. */
function generate(file: string, size: number): void {
  const r = rng(0x5eed);
  const keyBase = { n: 0 };
  const fd = openSync(file, 'w');
  const B = 4 * MiB;
  for (let off = 0, i = 0; off < size; off += B, i++) {
    const n = Math.min(B, size - off);
    writeSync(fd, block(n, (i * 37) % 100, r, keyBase));
  }
  closeSync(fd);
}

/** Same file with `len` bytes overwritten at `at`. */
async function overwrite(src: string, dst: string, at: number, len: number): Promise<void> {
  await fs.copyFile(src, dst);
  const fh = await fs.open(dst, 'r+');
  await fh.write(block(len, 95, rng(0xc0ffee), { n: 9e9 }), 0, len, at);
  await fh.close();
}

/** `len` new bytes inserted at `at`. */
async function insert(src: string, dst: string, at: number, len: number): Promise<void> {
  const data = await fs.readFile(src);
  await fs.writeFile(
    dst,
    Buffer.concat([data.subarray(0, at), block(len, 10, rng(0xfeed), { n: 8e9 }), data.subarray(at)]),
  );
}

interface Sample {
  seconds: number;
  maxRssMiB: number;
}

/** Runs a command under /usr/bin/time for its peak RSS; time measured around it. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Sample & { stdout: string }> {
  const rssFile = path.join(os.tmpdir(), `anchors-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const rss = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024;
      rmSync(rssFile, { force: true });
      if (code !== 0) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      else resolve({ seconds, maxRssMiB: rss, stdout: out });
    });
  });
}

interface Store {
  name: string;
  /** Fresh repository locations for one run. */
  restic(label: string): { repo: string; env: NodeJS.ProcessEnv; sizeOf(): number };
  lifeboat(label: string): { loc: object; sizeOf(): number };
}

function duBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

type Phase = 'first backup' | '2nd backup, 10 MB changed' | '3rd backup, 1 MB inserted' | 'restore (verified)';
const PHASES: Phase[] = [
  'first backup',
  '2nd backup, 10 MB changed',
  '3rd backup, 1 MB inserted',
  'restore (verified)',
];

interface ToolRun {
  phases: Record<Phase, Sample>;
  added: Record<Phase, number>;
  repoBytes: number;
}

async function resticRun(store: Store, label: string, work: string, variants: string[]): Promise<ToolRun> {
  const bin = resticPath();
  const { repo, env, sizeOf } = store.restic(label);
  const e = {
    ...env,
    RESTIC_PASSWORD: 'bench-password',
    RESTIC_REPOSITORY: repo,
    RESTIC_CACHE_DIR: path.join(work, `cache-${label}`),
  };
  await run(bin, ['init', '-q'], e);
  const phases = {} as Record<Phase, Sample>;
  const added = {} as Record<Phase, number>;
  const data = path.join(work, 'data.bin');
  for (let i = 0; i < 3; i++) {
    await fs.copyFile(variants[i], data);
    const before = sizeOf();
    phases[PHASES[i]] = await run(bin, ['backup', '-q', '--host', 'bench', data], e);
    added[PHASES[i]] = sizeOf() - before;
  }
  const target = path.join(work, `restic-restore-${label}`);
  phases['restore (verified)'] = await run(bin, ['restore', 'latest', '-q', '--verify', '--target', target], e);
  const restored = path.join(target, data);
  if (!(await sameFile(restored, variants[2]))) throw new Error('restic restore differs from the original');
  rmSync(target, { recursive: true, force: true });
  added['restore (verified)'] = 0;
  return { phases, added, repoBytes: sizeOf() };
}

async function lifeboatRun(store: Store, label: string, work: string, variants: string[]): Promise<ToolRun> {
  const { loc, sizeOf } = store.lifeboat(label);
  const locFile = path.join(work, `loc-${label}.json`);
  writeFileSync(locFile, JSON.stringify(loc));
  const child = path.join(ROOT, 'bench/anchors-lifeboat.ts');
  const node = (...a: string[]) => run(process.execPath, ['--import', 'tsx', child, ...a], process.env);
  await node('init', locFile);
  const phases = {} as Record<Phase, Sample>;
  const added = {} as Record<Phase, number>;
  const data = path.join(work, 'data.bin');
  const ref = path.join(work, `ref-${label}.json`);
  for (let i = 0; i < 3; i++) {
    await fs.copyFile(variants[i], data);
    const before = sizeOf();
    const r = await node('backup', locFile, data, ref);
    const inner = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number };
    // The operation's own time (without node+tsx start-up, ~0.5 s, which restic, a static binary, does not pay).
    phases[PHASES[i]] = { seconds: inner.seconds, maxRssMiB: r.maxRssMiB };
    added[PHASES[i]] = sizeOf() - before;
  }
  const out = path.join(work, `lifeboat-restore-${label}.bin`);
  const r = await node('restore', locFile, ref, out);
  phases['restore (verified)'] = {
    seconds: JSON.parse(r.stdout.trim().split('\n').pop()!).seconds,
    maxRssMiB: r.maxRssMiB,
  };
  if (!(await sameFile(out, variants[2]))) throw new Error('Lifeboat restore differs from the original');
  rmSync(out, { force: true });
  added['restore (verified)'] = 0;
  return { phases, added, repoBytes: sizeOf() };
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const h = async (f: string) =>
    createHash('sha256')
      .update(await fs.readFile(f))
      .digest('hex');
  return (await h(a)) === (await h(b));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function report(store: string, size: number, restic: ToolRun[], lifeboat: ToolRun[]): string {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const rows = [
    [
      'phase',
      'Lifeboat s',
      'restic s',
      'speed ratio',
      'goal',
      'Lifeboat +MB',
      'restic +MB',
      'Lifeboat RSS MiB',
      'restic RSS MiB',
    ],
  ];
  const goals: Record<Phase, number> = {
    'first backup': 1.2,
    '2nd backup, 10 MB changed': 1.0,
    '3rd backup, 1 MB inserted': 1.0,
    'restore (verified)': 1.0,
  };
  for (const p of PHASES) {
    const l = median(lifeboat.map((r) => r.phases[p].seconds));
    const t = median(restic.map((r) => r.phases[p].seconds));
    const ratio = t / l;
    rows.push([
      p,
      l.toFixed(2),
      t.toFixed(2),
      `${ratio.toFixed(2)}x`,
      `>= ${goals[p].toFixed(1)}x ${ratio >= goals[p] ? 'met' : 'MISSED'}`,
      p.startsWith('restore') ? '' : mb(median(lifeboat.map((r) => r.added[p]))),
      p.startsWith('restore') ? '' : mb(median(restic.map((r) => r.added[p]))),
      median(lifeboat.map((r) => r.phases[p].maxRssMiB)).toFixed(0),
      median(restic.map((r) => r.phases[p].maxRssMiB)).toFixed(0),
    ]);
  }
  const lRepo = median(lifeboat.map((r) => r.repoBytes));
  const tRepo = median(restic.map((r) => r.repoBytes));
  const peak = Math.max(...lifeboat.flatMap((r) => PHASES.map((p) => r.phases[p].maxRssMiB)));
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ')} |`;
  return [
    `\n${store}: ${(size / MiB).toFixed(0)} MiB file, medians of ${lifeboat.length} run(s)`,
    line(rows[0]),
    `|${w.map((x, i) => (i ? `${'-'.repeat(x + 1)}:` : '-'.repeat(x + 2))).join('|')}|`,
    ...rows.slice(1).map(line),
    `repository after the three backups: Lifeboat ${mb(lRepo)} MB, restic ${mb(tRepo)} MB (${((lRepo / tRepo) * 100).toFixed(0)}% of restic; goal <= 100% ${lRepo <= tRepo ? 'met' : 'MISSED'})`,
    `Lifeboat peak RSS ${peak.toFixed(0)} MiB (goal <= 256 MiB ${peak <= 256 ? 'met' : 'MISSED'})`,
  ].join('\n');
}

/**
 * The Redis incremental case: N mixed small keys plus one 50 MB value, a full
 * backup into a fresh local repository, then 1% of the small keys (chosen at
 * random across the keyspace) overwritten with new values of the same size,
 * and a second backup: its new chunk bytes as a share of the logical bytes.
 */
async function redisIncremental(work: string, keys: number): Promise<string> {
  const srv = await startRedis(path.join(work, 'redis'));
  const redis = new Redis({ port: srv.port, lazyConnect: true });
  await redis.connect();
  try {
    const r = rng(0x7ed15);
    const value = () => {
      const n = 40 + (r() % 400);
      let v = '';
      for (let i = 0; i < n; i++) v += B64[r() & 63];
      return v;
    };
    for (let i = 0; i < keys; i += 1000) {
      const p = redis.pipeline();
      for (let k = i; k < Math.min(keys, i + 1000); k++) {
        if (k % 10 === 0)
          p.hset(`user:${k}`, 'name', WORDS[r() % WORDS.length], 'score', String(r() % 1000), 'bio', value());
        else p.set(`session:${k}`, value());
      }
      await p.exec();
    }
    await redis.set('blob:big', block(50 * 1000 * 1000, 95, rng(0xb16), { n: 0 }));
    const repoDir = path.join(work, 'redis-repo');
    const repo = await initRepository({ url: repoDir }, 'bench-password');
    // As the Redis adapter writes it: the stream's pieces are record groups, each deduplicated on its own.
    const backup = async (name: string) => {
      const b = backupRedis({ url: srv.url });
      const w = await repo.writeArtifact(
        b.stream,
        { source: 'redis', kind: 'redis-logical', name },
        {
          chunking: 'records',
        },
      );
      await b.done;
      const { written, ...ref } = w;
      const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
      return { ...w, point: rp.id };
    };
    const t0 = Date.now();
    const first = await backup('full');
    const t1 = Date.now();
    const size1 = duBytes(repoDir);
    const changed = new Set<number>();
    while (changed.size < Math.floor(keys / 100)) changed.add(r() % keys);
    const p = redis.pipeline();
    for (const k of changed) {
      if (k % 10 === 0) p.hset(`user:${k}`, 'bio', value());
      else p.set(`session:${k}`, value());
    }
    await p.exec();
    const t2 = Date.now();
    const second = await backup('after-1pct');
    const t3 = Date.now();
    const growth = duBytes(repoDir) - size1;
    // The incremental point restores on its own: the full point forgotten and its data pruned first.
    await repo.forget(first.point);
    await repo.prune({ graceMs: 0 });
    const t4 = Date.now();
    let restored = 0;
    for await (const c of repo.readArtifact(second)) restored += (c as Buffer).length;
    const t5 = Date.now();
    await repo.close();
    const pct = (100 * second.written.newBytes) / second.size;
    const growthPct = (100 * growth) / second.size;
    const ofFirst = (100 * second.written.newBytes) / Math.max(1, first.written.newBytes);
    return [
      `\nRedis incremental: ${keys} small keys + one 50 MB value, logical stream ${(first.size / 1e6).toFixed(1)} MB (${first.chunks} parts), repository ${(size1 / 1e6).toFixed(1)} MB`,
      `full backup ${((t1 - t0) / 1000).toFixed(1)} s; after ${changed.size} random keys (1%) changed: ${((t3 - t2) / 1000).toFixed(1)} s,`,
      `new bytes ${(second.written.newBytes / 1e6).toFixed(2)} MB = ${pct.toFixed(1)}% of the logical bytes (${ofFirst.toFixed(1)}% of the full backup's new bytes), ${second.written.newChunks} new blobs/chunks; goal <= 5% ${pct <= 5 ? 'met' : 'MISSED'}`,
      `repository growth ${(growth / 1e6).toFixed(2)} MB = ${growthPct.toFixed(1)}% of the logical bytes (packs, pack indexes, artifact index, manifest)`,
      `the incremental point alone (full point forgotten and pruned) read back and verified: ${(restored / 1e6).toFixed(1)} MB in ${((t5 - t4) / 1000).toFixed(1)} s`,
    ].join('\n');
  } finally {
    redis.disconnect();
    await srv.stop();
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = parseArgs(process.argv.slice(2));
  if (args.only !== 'redis') resticPath();
  const size = args.sizeMiB * MiB;
  const work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-anchors-'));
  const load0 = os.loadavg()[0];
  const out: string[] = [];
  let stopMinio: (() => Promise<void>) | undefined;
  try {
    const t0 = Date.now();
    const v0 = path.join(work, 'v0.bin');
    const v1 = path.join(work, 'v1.bin');
    const v2 = path.join(work, 'v2.bin');
    if (args.only !== 'redis') {
      generate(v0, size);
      await overwrite(v0, v1, Math.floor(size / 2), 10 * 1000 * 1000);
      await insert(v1, v2, Math.floor(size / 3), 1000 * 1000);
      console.error(
        `[anchors] generated ${args.sizeMiB} MiB realistic file and its two variants in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
    const variants = [v0, v1, v2];
    const stores: Store[] = [];
    if (args.only !== 'minio' && args.only !== 'redis')
      stores.push({
        name: 'local disk',
        restic: (label) => {
          const repo = path.join(work, `restic-${label}`);
          return { repo, env: process.env, sizeOf: () => duBytes(repo) };
        },
        lifeboat: (label) => {
          const repo = path.join(work, `lifeboat-${label}`);
          return { loc: { url: repo }, sizeOf: () => duBytes(repo) };
        },
      });
    if (args.only !== 'local' && args.only !== 'redis') {
      mkdirSync(path.join(work, 'minio'));
      const m = await startMinio(path.join(work, 'minio'));
      stopMinio = m.stop;
      const bucketDir = path.join(work, 'minio', 'data', m.bucket);
      const s3 = {
        endpoint: m.endpoint,
        region: m.region,
        forcePathStyle: true,
        credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
      };
      stores.push({
        name: 'MinIO (loopback)',
        restic: (label) => ({
          repo: `s3:${m.endpoint}/${m.bucket}/restic-${label}`,
          env: {
            ...process.env,
            AWS_ACCESS_KEY_ID: m.accessKeyId,
            AWS_SECRET_ACCESS_KEY: m.secretAccessKey,
            AWS_DEFAULT_REGION: m.region,
          },
          sizeOf: () => duBytes(path.join(bucketDir, `restic-${label}`)),
        }),
        lifeboat: (label) => ({
          loc: { url: `s3://${m.bucket}/lifeboat-${label}`, s3 },
          sizeOf: () => duBytes(path.join(bucketDir, `lifeboat-${label}`)),
        }),
      });
    }
    if (args.redisKeys > 0) {
      console.error(`[anchors] Redis incremental case, ${args.redisKeys} keys`);
      out.push(await redisIncremental(work, args.redisKeys));
    }
    for (const store of stores) {
      const restic: ToolRun[] = [];
      const lifeboat: ToolRun[] = [];
      for (let i = 0; i < args.runs; i++) {
        const label = `${store.name.split(' ')[0].toLowerCase()}-${i}`;
        const order = i % 2 === 0 ? ['restic', 'lifeboat'] : ['lifeboat', 'restic'];
        for (const tool of order) {
          console.error(`[anchors] ${store.name} run ${i + 1}/${args.runs}: ${tool}`);
          if (tool === 'restic') restic.push(await resticRun(store, label, work, variants));
          else lifeboat.push(await lifeboatRun(store, label, work, variants));
        }
      }
      out.push(report(store.name, size, restic, lifeboat));
    }
  } finally {
    await stopMinio?.();
    rmSync(work, { recursive: true, force: true });
  }
  const cpus = os.cpus();
  if (args.only !== 'redis')
    console.log(`\nLifeboat vs restic (${execFileSync(resticPath(), ['version'], { encoding: 'utf8' }).trim()})`);
  console.log(
    `machine: ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, node ${process.version}, load average ${load0.toFixed(1)} -> ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log(out.join('\n'));
  console.log(
    '\nspeed ratio = restic seconds / Lifeboat seconds (> 1: Lifeboat faster). +MB: repository growth of that backup.',
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
