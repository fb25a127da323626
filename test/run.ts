/**
 * Test entry point (npm test): starts the real servers the tests need —
 * Temporal dev server, Redis, a 3-master Redis Cluster, MinIO, the Qdrant
 * stand-in — on free
 * loopback ports in a temp dir, runs the test files with node's test runner,
 * then stops everything. A server that fails to start fails the run with its
 * log; nothing is skipped.
 *
 *   npm test                       # every test/**\/*.test.ts
 *   npm test -- test/faiss.test.ts # some files
 *   npm run test:unit              # only the files that need no server (none is started)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTemporalDevServer } from './servers/temporal';
import {
  REDIS_FLAVOURS,
  redisBinary,
  redisBinaryVersion,
  startRedis,
  startRedisCluster,
  type RedisFlavour,
} from './servers/redis';
import { startMinio } from './servers/minio';
import { startQdrantStandIn } from './servers/qdrant-standin';
import { realQdrantBinary, startRealQdrant } from './servers/qdrant';
import type { TestEnv, TestQdrantServer, TestRedisServer } from './harness/env';
import { needsServers } from './harness/unit-files';

/** The server-free files, with no server started: the quick loop while editing. */
async function runUnit(files: string[], flags: string[]): Promise<number> {
  console.log(`# unit run: ${files.length} test files that need no server`);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-timeout=300000',
      '--test-force-exit',
      ...flags,
      ...files,
    ],
    { stdio: 'inherit', env: { LIFEBOAT_LOG_LEVEL: 'WARN', ...process.env, LIFEBOAT_TEST_ENV: '' } },
  );
  return new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Arguments starting with -- go to node's test runner (e.g. --test-name-pattern=...), the rest are files.
  const args = process.argv.slice(2);
  const flags = args.filter((a) => a.startsWith('--'));
  const named = args.filter((a) => !a.startsWith('--'));
  const unit = flags.includes('--unit');
  const all = named.length ? named : findTests(__dirname);
  const files = unit ? all.filter((f) => !needsServers(f)) : all;
  if (unit)
    return runUnit(
      files,
      flags.filter((f) => f !== '--unit'),
    );
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-test-'));
  const stops: (() => Promise<void>)[] = [];
  const started = Date.now();
  try {
    const startFlavour = async (flavour: RedisFlavour): Promise<TestRedisServer> => {
      const { product, version } = await redisBinaryVersion(redisBinary(flavour));
      const srv = await startRedis(path.join(tmpDir, `redis-${flavour}`), { flavour });
      stops.push(srv.stop);
      return { flavour, name: `${product} ${version}`, version, url: srv.url, port: srv.port };
    };
    const qdrantBin = realQdrantBinary();
    const [temporal, redisServers, redisCluster, minio, qdrant, realQdrant] = await Promise.all([
      startTemporalDevServer({ dbFile: path.join(tmpDir, 'temporal', 'temporal.db') }).then(
        (s) => (stops.push(s.stop), s),
      ),
      Promise.all(REDIS_FLAVOURS.map(startFlavour)),
      startRedisCluster(path.join(tmpDir, 'redis-cluster')).then((s) => (stops.push(s.stop), s)),
      startMinio(path.join(tmpDir, 'minio')).then((s) => (stops.push(s.stop), s)),
      startQdrantStandIn(path.join(tmpDir, 'qdrant')).then((s) => (stops.push(s.stop), s)),
      qdrantBin
        ? startRealQdrant(path.join(tmpDir, 'qdrant-real'), qdrantBin).then((s) => (stops.push(s.stop), s))
        : undefined,
    ]);
    const redis = redisServers[0];
    const qdrantServers: TestQdrantServer[] = [{ name: 'Qdrant stand-in', url: qdrant.url, real: false }];
    if (realQdrant) qdrantServers.push({ name: `Qdrant ${realQdrant.version}`, url: realQdrant.url, real: true });
    const env: TestEnv = {
      tmpDir,
      temporal: { address: temporal.address, namespace: temporal.namespace },
      redis: { url: redis.url, port: redis.port },
      redisCluster: { seeds: redisCluster.seeds },
      minio: {
        endpoint: minio.endpoint,
        accessKeyId: minio.accessKeyId,
        secretAccessKey: minio.secretAccessKey,
        region: minio.region,
        bucket: minio.bucket,
      },
      qdrant: { url: qdrant.url },
      redisServers,
      qdrantServers,
    };
    const envFile = path.join(tmpDir, 'env.json');
    writeFileSync(envFile, JSON.stringify(env, null, 2));
    console.log(
      `# servers ready in ${Date.now() - started} ms: temporal ${temporal.address}, ${redisServers.map((r) => `${r.name} ${r.url}`).join(', ')}, cluster (${redis.name}) ${redisCluster.seeds.map((s) => s.port).join(',')}, minio ${minio.endpoint}, ${qdrantServers.map((q) => `${q.name} ${q.url}`).join(', ')}`,
    );
    if (!realQdrant)
      console.log(
        '# NOTE: no ../shared/qdrant beside the repository: the Qdrant tests run against the Qdrant stand-in ONLY, not a real Qdrant',
      );

    const concurrency = process.env.LIFEBOAT_TEST_CONCURRENCY ?? '2';
    // --test-force-exit: a client left reconnecting by a failed test must not keep its file running until the timeout.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-concurrency=${concurrency}`,
        '--test-timeout=600000',
        '--test-force-exit',
        ...flags,
        ...files,
      ],
      {
        stdio: 'inherit',
        env: {
          LIFEBOAT_LOG_LEVEL: 'WARN',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...process.env,
          LIFEBOAT_TEST_ENV: envFile,
        },
      },
    );
    const stop = () => child.kill('SIGINT');
    process.once('SIGINT', stop).once('SIGTERM', stop);
    return await new Promise<number>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
    );
  } catch (e) {
    console.error(`test harness: ${(e as Error).message}`);
    return 1;
  } finally {
    await Promise.allSettled(stops.map((s) => s()));
    if (!process.env.LIFEBOAT_KEEP_TMP) rmSync(tmpDir, { recursive: true, force: true });
  }
}

void main().then((code) => process.exit(code));
