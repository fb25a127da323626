/**
 * Orchestration benchmark (npm run bench:workflow): what running a backup as a
 * Temporal workflow costs on top of doing the same work directly.
 *
 *   npm run bench:workflow                    # 1M Redis keys (~130 MB), 3 runs each
 *   npm run bench:workflow -- --keys 300000 --runs 5
 *
 * Two figures, both from the brief:
 * - a tiny backup (100 keys) end to end on the dev server — client start to
 *   result, verify included — against the goal of under 2 s;
 * - the overhead of the workflow on a larger backup: the same Redis data
 *   streamed into the same kind of repository by the adapter directly ("raw":
 *   backupRedis → writeArtifact → commit) and by backupWorkflow (verify off,
 *   so both do the same work), side by side in one process; goal under 5%.
 * Every timed run writes new data (the keys are re-seeded with another value
 * first), so deduplication does not flatter either side.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer } from '../test/servers/temporal';
import { startRedis, type RedisServer } from '../test/servers/redis';
import { parseConfig } from '../config';
import { createActivities } from '../activities';
import { createLifeboatWorker } from '../workers/worker';
import { backupWorkflow } from '../workflows';
import { initRepository, openRepository } from '../repository';
import { backupRedis } from '../sources/redis';
import { Redis } from 'ioredis';

interface Args {
  keys: number;
  runs: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { keys: 1_000_000, runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--keys') a.keys = Number(argv[++i]);
    else if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--help' || k === '-h') {
      console.log('usage: npm run bench:workflow -- [--keys N] [--runs N]');
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  if (!Number.isInteger(a.keys) || a.keys < 1000) throw new Error('--keys must be an integer >= 1000');
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
  return a;
}

/** Replaces db `db` with `n` string keys of ~120 bytes whose values depend on `seed`. */
async function seed(redis: RedisServer, db: number, n: number, seedText: string): Promise<void> {
  const r = new Redis(redis.url, { db });
  try {
    await r.flushdb();
    const filler = randomBytes(48).toString('hex');
    for (let i = 0; i < n; i += 10_000) {
      const p = r.pipeline();
      for (let j = i; j < Math.min(n, i + 10_000); j++) p.set(`bench:${j}`, `${seedText}:${j}:${filler}`);
      await p.exec();
    }
  } finally {
    r.disconnect();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (ms: number) => (ms / 1000).toFixed(2);

async function main(): Promise<void> {
  process.env.LIFEBOAT_LOG_LEVEL ??= 'WARN';
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-workflow-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const [temporal, redis] = await Promise.all([
      startTemporalDevServer({ dbFile: path.join(dir, 'temporal.db') }),
      startRedis(path.join(dir, 'redis')),
    ]);
    stops.push(
      () => temporal.stop(),
      () => redis.stop(),
    );
    process.env.LIFEBOAT_BENCH_PASSWORD = 'bench-password';
    const repoDir = path.join(dir, 'repo');
    await (await initRepository({ url: repoDir }, process.env.LIFEBOAT_BENCH_PASSWORD)).close();
    const taskQueue = 'lifeboat-bench';
    const config = parseConfig(
      {
        temporal: { address: temporal.address, namespace: temporal.namespace, taskQueue },
        repository: { url: repoDir, password: { env: 'LIFEBOAT_BENCH_PASSWORD' } },
        sources: [
          { name: 'tiny', type: 'redis', url: redis.url, db: 1 },
          { name: 'big', type: 'redis', url: redis.url, db: 0 },
        ],
      },
      '<bench>',
    );
    const activities = createActivities({ config });
    const { worker, connection: nc } = await createLifeboatWorker({
      address: temporal.address,
      namespace: temporal.namespace,
      taskQueue,
      activities,
      preferBundle: false,
    });
    const running = worker.run();
    stops.unshift(async () => {
      worker.shutdown();
      await running;
      await activities.closeActivities();
      await nc.close();
    });
    const connection = await Connection.connect({ address: temporal.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection, namespace: temporal.namespace });
    console.log(
      `# Orchestration benchmark: Temporal dev server, in-process worker, local repository; load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );

    // Tiny: first run warms the worker (workflow bundle, repository key), then measured runs.
    await seed(redis, 1, 100, 'tiny');
    const tiny: number[] = [];
    for (let i = 0; i <= args.runs; i++) {
      await seed(redis, 1, 100, `tiny-${i}`);
      const t = performance.now();
      await client.workflow.execute(backupWorkflow, {
        taskQueue,
        workflowId: `bench-tiny-${i}`,
        args: [{ sources: ['tiny'] }],
      });
      if (i > 0) tiny.push(performance.now() - t);
    }

    // Large: raw adapter + repository vs the workflow, alternating, each on freshly changed data.
    const raw: number[] = [];
    const wf: number[] = [];
    const repo = await openRepository({ url: repoDir }, process.env.LIFEBOAT_BENCH_PASSWORD);
    try {
      for (let i = 0; i < args.runs; i++) {
        await seed(redis, 0, args.keys, `raw-${i}`);
        let t = performance.now();
        const b = backupRedis({ url: redis.url, db: 0 });
        const { written: _written, ...artifact } = await repo.writeArtifact(b.stream, {
          source: 'big',
          kind: 'redis-logical',
          name: 'keyspace',
        });
        await b.done;
        await repo.commitRecoveryPoint({ artifacts: [artifact], tags: ['bench-raw'] });
        raw.push(performance.now() - t);

        await seed(redis, 0, args.keys, `wf-${i}`);
        t = performance.now();
        await client.workflow.execute(backupWorkflow, {
          taskQueue,
          workflowId: `bench-big-${i}`,
          args: [{ sources: ['big'], verify: 'none' }],
        });
        wf.push(performance.now() - t);
      }
    } finally {
      await repo.close();
    }

    const overhead = (median(wf) - median(raw)) / median(raw);
    console.log('');
    console.log(
      `tiny backup (100 keys, verify structure), end to end: median ${secs(median(tiny))} s, max ${secs(Math.max(...tiny))} s over ${tiny.length} runs  (goal < 2 s)`,
    );
    console.log(
      `${args.keys.toLocaleString('en')} keys, direct (adapter → repository → commit): median ${secs(median(raw))} s  [${raw.map(secs).join(', ')}]`,
    );
    console.log(
      `${args.keys.toLocaleString('en')} keys, backupWorkflow (verify off):             median ${secs(median(wf))} s  [${wf.map(secs).join(', ')}]`,
    );
    console.log(`workflow overhead on the large backup: ${(overhead * 100).toFixed(1)}%  (goal < 5%)`);
    console.log(
      `# load average at the end: ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    for (const s of stops) await s().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
