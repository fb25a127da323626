import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { startDevStack } from '../../test/servers/stack';
import { projectRoot } from '../../test/servers/tools';
import { installRuntime } from '../../workers/worker';
import { runWorker } from '../../workers/main';
import { loadConfig } from '../../config';
import { createLifeboatClient } from '../api';
import { fingerprintRedis } from '../../sources/redis';
import { fingerprintQdrant } from '../../sources/qdrant';
import { RepositoryExistsError } from '../../repository';
import { demoConfigDoc, seedQdrant, seedRedis, writeFaissIndex } from './demo-data';

export interface DemoOptions {
  /** Keep the servers and worker up for the Temporal UI until Ctrl-C. @default true on a terminal */
  keep: boolean;
  /** Folder for the dev servers' data and the demo config. @default <project>/.lifeboat/dev */
  dir?: string;
  /** A real Qdrant to use instead of the bundled stand-in. */
  qdrantUrl?: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/**
 * Lifeboat on embedded defaults: starts a Temporal dev server (with UI),
 * Redis, MinIO (the repository's S3 bucket) and the Qdrant stand-in, writes a
 * config, creates demo data in all three stores, backs up through a real
 * worker, damages the data, restores it and proves it is back.
 */
export async function runDemo(opts: DemoOptions): Promise<void> {
  const dir = opts.dir ?? path.join(projectRoot, '.lifeboat', 'dev');
  const log = (s: string) => process.stdout.write(`${s}\n`);
  installRuntime('WARN');
  log(
    `starting Temporal dev server, Redis, MinIO${opts.qdrantUrl ? '' : ' and the Qdrant stand-in'} (data in ${dir}) ...`,
  );
  const stack = await startDevStack(dir, { qdrant: !opts.qdrantUrl });
  const stopWorker = new AbortController();
  let worker: Promise<void> | undefined;
  try {
    const qdrantUrl = opts.qdrantUrl ?? stack.qdrant!.url;
    const faissFile = path.join(dir, 'faiss', 'docs.index');
    const secretsFile = path.join(dir, 'demo-secrets.env');
    // The demo's secrets live in env vars, as in production; kept in a 0600 file so a re-run reopens the same repository.
    if (!existsSync(secretsFile))
      writeFileSync(secretsFile, `LIFEBOAT_DEMO_PASSWORD=${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
    for (const line of readFileSync(secretsFile, 'utf8').split('\n'))
      if (line.includes('=')) process.env[line.split('=')[0]] = line.slice(line.indexOf('=') + 1);
    process.env.LIFEBOAT_DEMO_S3_KEY = stack.minio.accessKeyId;
    process.env.LIFEBOAT_DEMO_S3_SECRET = stack.minio.secretAccessKey;
    const configFile = path.join(dir, 'lifeboat.yaml');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      configFile,
      stringify(
        demoConfigDoc({ stack, dir, faissFile, qdrantUrl, taskQueue: 'lifeboat-demo', envPrefix: 'LIFEBOAT_DEMO' }),
      ),
    );
    const config = await loadConfig(configFile);
    const lb = createLifeboatClient(config);
    try {
      await lb.init().catch((e: unknown) => {
        if (!(e instanceof RepositoryExistsError)) throw e;
      });
      log(
        'creating demo data: 5,252 Redis keys, a FAISS HNSW index of 5,000 vectors, a Qdrant collection of 1,000 points ...',
      );
      await seedRedis(stack.redis.url, 'original');
      const faissOriginal = writeFaissIndex(faissFile, 1);
      await seedQdrant(qdrantUrl, 'demo-docs', 1);
      const redisBefore = await fingerprintRedis({ url: stack.redis.url, db: 0 });
      const qdrantBefore = await fingerprintQdrant({ url: qdrantUrl }, 'demo-docs');

      worker = runWorker(config, { signal: stopWorker.signal, preferBundle: false });
      const backup = await lb.backup({ trigger: 'demo' });
      log(`backup running: ${backup.workflowId}`);
      const b = await backup.result();
      log(
        `recovery point ${b.recoveryPointId}: ${b.sources.map((s) => `${s.source} ${s.items} items ${mb(s.bytes)}`).join(', ')} (${mb(b.newBytes)} new, ${b.durationMs} ms)`,
      );

      log('damaging the data: overwriting Redis, replacing the index, reseeding the collection ...');
      await seedRedis(stack.redis.url, 'damaged');
      writeFaissIndex(faissFile, 2);
      await seedQdrant(qdrantUrl, 'demo-docs', 2);

      const restore = await lb.restore(b.recoveryPointId, { trigger: 'demo' });
      log(`restore running: ${restore.workflowId}`);
      const r = await restore.result();
      log(
        `restore ${r.ok ? 'OK' : 'FAILED'} in ${r.durationMs} ms (safety backup ${r.safetyRecoveryPointId}): ${r.sources.map((s) => `${s.source} ${s.status}`).join(', ')}`,
      );

      const redisAfter = await fingerprintRedis({ url: stack.redis.url, db: 0 });
      const qdrantAfter = await fingerprintQdrant({ url: qdrantUrl }, 'demo-docs');
      const checks = {
        redis: JSON.stringify(redisAfter) === JSON.stringify(redisBefore),
        faiss: sha256(readFileSync(faissFile)) === sha256(faissOriginal),
        qdrant: JSON.stringify(qdrantAfter) === JSON.stringify(qdrantBefore),
      };
      log(
        `data back exactly as backed up: Redis ${checks.redis ? 'yes' : 'NO'}, FAISS ${checks.faiss ? 'yes' : 'NO'}, Qdrant ${checks.qdrant ? 'yes' : 'NO'}`,
      );
      if (!Object.values(checks).every(Boolean)) process.exitCode = 1;

      const ui = `${stack.temporal.uiUrl}/namespaces/default/workflows`;
      log(`Temporal UI: ${ui}`);
      log(`  backup:  ${ui}/${backup.workflowId}`);
      log(`  restore: ${ui}/${restore.workflowId}`);
      if (opts.keep) {
        log(`servers and worker keep running; try the CLI in another terminal:`);
        log(
          `  set -a; . ${secretsFile}; set +a; LIFEBOAT_DEMO_S3_KEY=${stack.minio.accessKeyId} LIFEBOAT_DEMO_S3_SECRET=${stack.minio.secretAccessKey} ./bin/lifeboat --config ${configFile} list`,
        );
        log('press Ctrl-C to stop.');
        await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      }
    } finally {
      await lb.close();
    }
  } finally {
    stopWorker.abort();
    await worker?.catch(() => {});
    await stack.stop();
  }
}
