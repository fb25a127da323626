/**
 * Recovery-time benchmark (npm run bench:rto): the restore a user runs, of ~1 GB across the three
 * stores — ~600 MB Redis, ~300 MB FAISS, ~100 MB Qdrant — against the brief's goal of under 60 s.
 *
 *   npm run bench:rto                        # scale 1.0 (~1 GB), 1 run
 *   npm run bench:rto -- --scale 0.1         # ~100 MB, quick
 *   npm run bench:rto -- --runs 3            # 3 damage + restore runs per Qdrant server
 *   npm run bench:rto -- --qdrant standin    # or real, or both (the default; real when ../shared has it)
 *   npm run bench:rto -- --worker-cpu-prof /tmp/prof   # the worker under node --cpu-prof
 *
 * Everything is the real thing: the Temporal dev server, the Lifeboat worker as its own process
 * (`lifeboat --config FILE worker`), a local-disk repository, a backup made through backupWorkflow,
 * then an incident (Redis keys deleted, overwritten and added; a silently corrupted FAISS file;
 * Qdrant points overwritten and added), then `lifeboat restore`'s own path (client/api.ts restore →
 * restoreWorkflow with its default safety backup of the current targets and its verification).
 * After each restore the bench checks the data itself (key count, the damaged keys, the FAISS file's
 * SHA-256, the Qdrant points) before printing a figure.
 *
 * Printed per run: the phases of the restore from its workflow history (pre-flight with the
 * authentication of every chunk, safety backup, restore and verify per source, confirm), the total
 * (client start → result, what `lifeboat restore` waits), the worker's peak RSS during the restore,
 * and two anchors for the Redis part on the same data: `redis-cli --pipe` of the dataset's commands
 * into an empty Redis, and a redis-server restart from an RDB file of it (speed ratios, anchor
 * seconds / Lifeboat seconds). The Qdrant part runs on the stand-in (test/servers/qdrant-standin.ts)
 * and, when ../shared/qdrant has it, again on the real Qdrant. The goal is printed, never asserted.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { Redis } from 'ioredis';
import { startTemporalDevServer } from '../test/servers/temporal';
import { startRedis, type RedisServer } from '../test/servers/redis';
import { startQdrantStandIn } from '../test/servers/qdrant-standin';
import { realQdrantBinary, startRealQdrant } from '../test/servers/qdrant';
import { redisCli } from './redis-cli';
import { tail } from '../test/servers/process';
import { parseConfig } from '../config';
import { createLifeboatClient } from '../client/api';
import type { RestoreResult } from '../workflows/types';
import {
  checkQdrant,
  checkRedis,
  damageFaiss,
  damageQdrant,
  damageRedis,
  FAISS_D,
  QDRANT_D,
  seedQdrant,
  sha256File,
  writeFaissIndex,
  writeRedisDataset,
  type RedisDataset,
} from './rto-data';
import { activityTimes, restorePhases, startWorkerProcess, waitForPollers, type Phase } from './rto-measure';

interface Args {
  scale: number;
  runs: number;
  cpuProfDir?: string;
  qdrant: 'both' | 'standin' | 'real';
}

function parseArgs(argv: string[]): Args {
  const a: Args = { scale: 1, runs: 1, qdrant: 'both' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--scale') a.scale = Number(argv[++i]);
    else if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--qdrant') a.qdrant = argv[++i] as Args['qdrant'];
    else if (k === '--worker-cpu-prof') a.cpuProfDir = path.resolve(argv[++i] ?? '.');
    else if (k === '--help' || k === '-h') {
      console.log(
        'usage: npm run bench:rto -- [--scale F] [--runs N] [--qdrant both|standin|real] [--worker-cpu-prof DIR]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  if (!(a.scale >= 0.01 && a.scale <= 10)) throw new Error('--scale must be a number within 0.01..10 (1.0 = ~1 GB)');
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
  if (!['both', 'standin', 'real'].includes(a.qdrant)) throw new Error('--qdrant must be both, standin or real');
  return a;
}

const MB = 1e6;
const GOAL_MS = 60_000;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (b: number) => `${(b / MB).toFixed(1)} MB`;
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function redisInfo(url: string, field: string): Promise<string | undefined> {
  const r = new Redis(url);
  try {
    return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(await r.info())?.[1]?.trim();
  } finally {
    r.disconnect();
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : e.isFile() ? statSync(p).size : 0;
  }
  return n;
}

/** The anchors for the Redis part, on a scratch server: `--pipe` into an empty one, then a restart from its RDB. */
async function redisAnchors(
  scratch: { srv: RedisServer; dir: string },
  dataFile: string,
): Promise<{ pipeMs: number; rdbMs: number; rdbBytes: number }> {
  await redisCli(['-p', String(scratch.srv.port), 'FLUSHALL']);
  const pipeMs = await redisCli(['-p', String(scratch.srv.port), '--pipe'], dataFile);
  await redisCli(['-p', String(scratch.srv.port), 'SAVE']);
  const rdbBytes = statSync(path.join(scratch.dir, 'dump.rdb')).size;
  await scratch.srv.stop();
  // Process start to the first PONG (Redis answers LOADING until the RDB is in memory).
  const t0 = performance.now();
  scratch.srv = await startRedis(scratch.dir);
  const rdbMs = performance.now() - t0;
  return { pipeMs, rdbMs, rdbBytes };
}

interface QdrantServer {
  label: string;
  url: string;
  logFile: string;
}

interface RunFigures {
  totalMs: number;
  workflowMs: number;
  phases: Phase[];
  authenticateMs?: number;
  redisRestoreMs: number;
  redisVerifyMs: number;
  pipeMs: number;
  rdbMs: number;
  workerPeak: number;
  treePeak: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  process.env.LIFEBOAT_LOG_LEVEL ??= 'WARN';
  const budget = { redis: 600 * MB * args.scale, faiss: 300 * MB * args.scale, qdrant: 100 * MB * args.scale };
  console.log(
    `# Recovery-time benchmark (bench:rto), scale ${args.scale}: ~${mb(budget.redis + budget.faiss + budget.qdrant)} ` +
      `(Redis ${mb(budget.redis)}, FAISS ${mb(budget.faiss)}, Qdrant ${mb(budget.qdrant)}), ${args.runs} run(s)`,
  );
  console.log(
    `# machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `load average at start ${load()} (1, 5, 15 min)`,
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-rto-'));
  const stops: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const qdrantBin = args.qdrant === 'standin' ? undefined : realQdrantBinary();
    if (args.qdrant === 'real' && !qdrantBin)
      throw new Error(
        '--qdrant real: no real Qdrant on this machine (../shared/qdrant/bin, see test/servers/qdrant.ts)',
      );
    const [temporal, redis, scratchSrv, standIn, real] = await Promise.all([
      startTemporalDevServer({ dbFile: path.join(dir, 'temporal.db') }),
      startRedis(path.join(dir, 'redis')),
      startRedis(path.join(dir, 'redis-anchor')),
      startQdrantStandIn(path.join(dir, 'qdrant-standin')),
      qdrantBin ? startRealQdrant(path.join(dir, 'qdrant-real'), qdrantBin) : Promise.resolve(undefined),
    ]);
    const scratch = { srv: scratchSrv, dir: path.join(dir, 'redis-anchor') };
    stops.push(
      () => temporal.stop(),
      () => redis.stop(),
      () => scratch.srv.stop(),
      () => standIn.stop(),
    );
    if (real) stops.push(() => real.stop());
    const qdrants: QdrantServer[] =
      args.qdrant === 'real' ? [] : [{ label: 'Qdrant stand-in', url: standIn.url, logFile: standIn.logFile }];
    if (real) qdrants.push({ label: `Qdrant ${real.version} (real)`, url: real.url, logFile: real.logFile });
    const connection = await Connection.connect({ address: temporal.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: temporal.namespace });

    // ---- data
    let t = performance.now();
    const data: RedisDataset = await writeRedisDataset(path.join(dir, 'redis-data.resp'), budget.redis);
    const genMs = performance.now() - t;
    const seedMs = await redisCli(['-p', String(redis.port), '--pipe'], data.file);
    console.log(
      `data: Redis ${data.keys.length.toLocaleString('en')} keys, ${mb(data.bytes)} of keys + values ` +
        `(used_memory ${mb(Number(await redisInfo(redis.url, 'used_memory')))}; commands file ${mb(statSync(data.file).size)}), ` +
        `generated in ${secs(genMs)}, loaded by redis-cli --pipe in ${secs(seedMs)}`,
    );
    const faissFile = path.join(dir, 'faiss', 'vectors.index');
    t = performance.now();
    const faiss = await writeFaissIndex(faissFile, budget.faiss);
    const faissBytes = statSync(faissFile).size;
    console.log(
      `      FAISS IndexFlatL2 d=${FAISS_D}, ${faiss.ntotal.toLocaleString('en')} vectors, ${mb(faissBytes)} file, built in ${secs(performance.now() - t)}`,
    );

    const password = 'bench-rto-password';
    const all: { label: string; runs: RunFigures[] }[] = [];
    const failures: string[] = [];
    for (const [qi, qd] of qdrants.entries()) {
      console.log(`\n## round ${qi + 1}/${qdrants.length}: Redis + FAISS + ${qd.label}`);
      const collection = 'rto-docs';
      t = performance.now();
      const q = await seedQdrant(qd.url, collection, budget.qdrant);
      console.log(
        `data: ${qd.label} collection ${collection}: ${q.points.toLocaleString('en')} points, d=${QDRANT_D}, ${mb(q.bytes)} (float32 vectors + payload JSON), seeded in ${secs(performance.now() - t)}`,
      );
      const repoDir = path.join(dir, `repo-${qi + 1}`);
      const doc = {
        profile: 'dev',
        temporal: { address: temporal.address, namespace: temporal.namespace, taskQueue: `lifeboat-bench-rto-${qi}` },
        repository: { url: repoDir, password: { env: 'LIFEBOAT_RTO_PASSWORD' } },
        sources: [
          { name: 'app-redis', type: 'redis', url: redis.url, db: 0 },
          { name: 'docs-faiss', type: 'faiss', path: faissFile },
          { name: 'docs-qdrant', type: 'qdrant', url: qd.url, collection },
        ],
        worker: { scratchDir: path.join(dir, `scratch-${qi + 1}`) },
        observability: { metrics: false },
      };
      const configFile = path.join(dir, `lifeboat-${qi + 1}.yaml`);
      writeFileSync(configFile, stringify(doc));
      process.env.LIFEBOAT_RTO_PASSWORD = password;
      const lb = createLifeboatClient(parseConfig(doc, configFile), { temporalClient: client });
      await lb.init();
      const workerEnv = { LIFEBOAT_RTO_PASSWORD: password, LIFEBOAT_LOG_LEVEL: 'WARN' };
      const workerLog = path.join(dir, `worker-${qi + 1}.log`);
      let worker = startWorkerProcess(configFile, workerLog, workerEnv);
      const runs: RunFigures[] = [];
      try {
        t = performance.now();
        const bh = await lb.backup({ trigger: 'bench' });
        const b = await bh.result();
        const backupPeak = worker.peak();
        const backupActivities = (await activityTimes(client, bh.workflowId, bh.runId)).filter((x) => x.ms >= 50);
        console.log(
          `backup ${b.recoveryPointId} (backupWorkflow, worker start included): ${secs(performance.now() - t)}; ` +
            `${b.sources.map((s) => `${s.source} ${s.items.toLocaleString('en')} items`).join(', ')}; ` +
            `repository ${mb(dirBytes(repoDir))}; worker peak RSS so far ${mb(backupPeak.workerBytes)}\n` +
            `  its activities: ${backupActivities.map((x) => `${x.name} ${secs(x.ms)}`).join(', ')}`,
        );
        if (args.cpuProfDir) {
          // Profile the restores only: a new worker under --cpu-prof, polling before the first restore starts.
          await worker.stop();
          worker = startWorkerProcess(configFile, workerLog, workerEnv, [
            '--cpu-prof',
            `--cpu-prof-dir=${args.cpuProfDir}`,
          ]);
          await waitForPollers(client, temporal.namespace, doc.temporal.taskQueue, worker.pid);
          console.log(
            `(worker restarted under node --cpu-prof, pid ${worker.pid}; the timings below include the profiler)`,
          );
        }
        for (let run = 1; run <= args.runs; run++) {
          const seed = qi * 1000 + run;
          const rd = await damageRedis(redis.url, data, seed);
          damageFaiss(faissFile, faissBytes);
          const qOver = await damageQdrant(qd.url, collection, q.points, seed);
          console.log(
            `\n### run ${run}/${args.runs}: incident: Redis ${rd.deleted.length.toLocaleString('en')} keys deleted, ` +
              `${rd.overwritten.length.toLocaleString('en')} overwritten, ${rd.junk.toLocaleString('en')} added; ` +
              `FAISS 1 MB of vectors corrupted; Qdrant ${qOver.length.toLocaleString('en')} points overwritten, ` +
              `${Math.max(1, Math.round(q.points * 0.01))} added. Load average ${load()}`,
          );
          worker.resetPeak();
          t = performance.now();
          const h = await lb.restore(b.recoveryPointId, { trigger: 'bench' });
          const r: RestoreResult = await h.result();
          const totalMs = performance.now() - t;
          const peak = worker.peak();
          if (!r.ok) throw new Error(`the restore did not succeed: ${JSON.stringify(r)}`);
          const problems = [
            await checkRedis(redis.url, data, rd),
            (await sha256File(faissFile)) === faiss.sha256 ? undefined : 'the FAISS file differs from the original',
            await checkQdrant(qd.url, collection, q.points, qOver),
          ].filter((p): p is string => !!p);
          if (problems.length) throw new Error(`the restore reported ok but: ${problems.join('; ')}`);
          const { phases, authenticateMs, totalMs: workflowMs } = await restorePhases(client, h.workflowId, h.runId);
          const anchors = await redisAnchors(scratch, data.file);
          const fig: RunFigures = {
            totalMs,
            workflowMs,
            phases,
            authenticateMs,
            redisRestoreMs: phases.find((p) => p.name === 'restore app-redis')?.ms ?? NaN,
            redisVerifyMs: phases.find((p) => p.name === 'verify app-redis')?.ms ?? NaN,
            pipeMs: anchors.pipeMs,
            rdbMs: anchors.rdbMs,
            workerPeak: peak.workerBytes,
            treePeak: peak.treeBytes,
          };
          runs.push(fig);
          console.log(`restore ${h.workflowId} (restoreWorkflow, safety backup + verification): ok, data checked`);
          printRun(fig, anchors.rdbBytes);
        }
      } catch (e) {
        // One round failing (a real bug the bench found) still lets the other rounds report.
        failures.push(`${qd.label}: ${e instanceof Error ? e.message : String(e)}`);
        console.log(`round FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        console.log(
          `--- worker log (tail):\n${tail(worker.logFile, 30)}\n--- ${qd.label} log (tail):\n${tail(qd.logFile, 30)}`,
        );
      } finally {
        await worker.stop();
        await lb.close();
      }
      all.push({ label: qd.label, runs });
    }

    console.log('\n## summary');
    for (const f of failures) console.log(`FAILED round, ${f}`);
    if (failures.length) process.exitCode = 1;
    for (const round of all.filter((x) => x.runs.length)) {
      const tot = round.runs.map((r) => r.totalMs);
      const m = median(tot);
      const redisRatio = median(round.runs.map((r) => r.pipeMs / r.redisRestoreMs));
      console.log(
        `Redis + FAISS + ${round.label}: restore total median ${secs(m)} (runs: ${tot.map(secs).join(', ')}); ` +
          `goal < 60 s: ${m < GOAL_MS ? 'MET' : 'NOT MET'}; Redis restore vs redis-cli --pipe ${redisRatio.toFixed(2)}x; ` +
          `worker peak RSS ${mb(Math.max(...round.runs.map((r) => r.workerPeak)))}`,
      );
    }
    console.log(`# load average at the end: ${load()}`);
    if (args.cpuProfDir) console.log(`# worker CPU profiles (written when the worker stopped): ${args.cpuProfDir}`);
  } finally {
    await cleanup();
  }
}

function printRun(f: RunFigures, rdbBytes: number): void {
  const row = (name: string, ms: number, note = '') =>
    console.log(`  ${name.padEnd(44)} ${secs(ms).padStart(9)}${note}`);
  for (const p of f.phases)
    row(
      p.name,
      p.ms,
      p.name.startsWith('pre-flight') && f.authenticateMs !== undefined
        ? `  (authenticating every chunk: ${secs(f.authenticateMs)})`
        : '',
    );
  const counted = f.phases.reduce((s, p) => s + p.ms, 0);
  row('workflow tasks between activities', Math.max(0, f.workflowMs - counted));
  row('total, workflow (start → close)', f.workflowMs);
  row(
    'total, client (`lifeboat restore` start → result)',
    f.totalMs,
    `  goal < 60 s: ${f.totalMs < GOAL_MS ? 'MET' : 'NOT MET'}`,
  );
  console.log(
    `  worker peak RSS during the restore: ${mb(f.workerPeak)} (VmHWM); with its child processes ${mb(f.treePeak)} (sampled)`,
  );
  console.log(
    `  anchor: redis-cli --pipe of the same data into an empty Redis: ${secs(f.pipeMs)} → ` +
      `Lifeboat's Redis restore (${secs(f.redisRestoreMs)}) at ${(f.pipeMs / f.redisRestoreMs).toFixed(2)}x its speed, ` +
      `restore + verify (${secs(f.redisRestoreMs + f.redisVerifyMs)}) at ${(f.pipeMs / (f.redisRestoreMs + f.redisVerifyMs)).toFixed(2)}x`,
  );
  console.log(
    `  anchor: redis-server restart from its RDB (${mb(rdbBytes)}), start → first PONG: ${secs(f.rdbMs)} → ` +
      `Lifeboat's Redis restore at ${(f.rdbMs / f.redisRestoreMs).toFixed(2)}x its speed`,
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
