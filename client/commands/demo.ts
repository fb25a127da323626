import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { S3Client } from '@aws-sdk/client-s3';
import { startDevStack } from '../../devservers/stack';
import { projectRoot } from '../../devservers/tools';
import { createLifeboatWorker, installRuntime } from '../../workers/worker';
import { createRoundTripActivities } from '../../activities/roundtrip';
import { roundTripWorkflow } from '../../workflows/roundtrip';

export interface DemoOptions {
  /** Keep the servers up for the Temporal UI until Ctrl-C. @default true on a terminal */
  keep: boolean;
  /** Folder for the dev servers' data. @default <project>/.lifeboat/dev */
  dir?: string;
}

/** Runs Lifeboat on embedded defaults: dev servers, a worker, one workflow. */
export async function runDemo(opts: DemoOptions): Promise<void> {
  const dir = opts.dir ?? path.join(projectRoot, '.lifeboat', 'dev');
  const log = (s: string) => process.stdout.write(`${s}\n`);
  log(`starting Temporal dev server, Redis and MinIO (data in ${dir}) ...`);
  installRuntime('WARN');
  const stack = await startDevStack(dir);
  const taskQueue = 'lifeboat-demo';
  const s3 = new S3Client({ endpoint: stack.minio.endpoint, region: stack.minio.region, forcePathStyle: true, credentials: stack.minio });
  const { worker, connection: nc } = await createLifeboatWorker({
    address: stack.temporal.address,
    taskQueue,
    activities: createRoundTripActivities({ redisUrl: stack.redis.url, s3: { client: s3, bucket: stack.minio.bucket } }),
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const client = new Client({ connection });
    const probeId = randomUUID().slice(0, 8);
    const workflowId = `lifeboat-roundtrip-${probeId}`;
    log(`running workflow ${workflowId} ...`);
    const result = await client.workflow.execute(roundTripWorkflow, { taskQueue, workflowId, args: [{ probeId }] });
    const ok = result.readBack.redisSha256 === result.written.redisSha256 && result.readBack.s3Sha256 === result.written.s3Sha256;
    log(`round trip ${ok ? 'OK' : 'FAILED'}: Redis key ${result.readBack.redisKey}, S3 object s3://${stack.minio.bucket}/${result.readBack.s3Key}`);
    log(`Temporal UI: ${stack.temporal.uiUrl}/namespaces/default/workflows/${workflowId}`);
    if (!ok) process.exitCode = 1;
    if (opts.keep) {
      log('servers and worker keep running for the UI; press Ctrl-C to stop.');
      await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
    }
  } finally {
    worker.shutdown();
    await running;
    await nc.close();
    await connection.close();
    s3.destroy();
    await stack.stop();
  }
}
