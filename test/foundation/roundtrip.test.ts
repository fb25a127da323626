import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { testEnv } from '../harness/env';
import { createLifeboatWorker } from '../../workers/worker';
import { createRoundTripActivities } from '../../activities/roundtrip';
import { roundTripWorkflow, roundTripProgressQuery } from '../../workflows/roundtrip';

const env = testEnv();
const taskQueue = `roundtrip-${randomUUID()}`;
let s3: S3Client;
let stopWorker: () => Promise<void>;
let client: Client;
let connection: Connection;

before(async () => {
  s3 = new S3Client({ endpoint: env.minio.endpoint, region: env.minio.region, forcePathStyle: true, credentials: env.minio });
  const { worker, connection: nc } = await createLifeboatWorker({
    address: env.temporal.address,
    taskQueue,
    preferBundle: false,
    activities: createRoundTripActivities({ redisUrl: env.redis.url, s3: { client: s3, bucket: env.minio.bucket } }),
  });
  const running = worker.run();
  stopWorker = async () => {
    worker.shutdown();
    await running;
    await nc.close();
  };
  connection = await Connection.connect({ address: env.temporal.address });
  client = new Client({ connection, namespace: env.temporal.namespace });
});

after(async () => {
  await stopWorker?.();
  await connection?.close();
  s3?.destroy();
});

test('a workflow on the real dev server writes to Redis and MinIO through a real worker', async () => {
  const probeId = randomUUID();
  const handle = await client.workflow.start(roundTripWorkflow, { taskQueue, workflowId: `roundtrip-${probeId}`, args: [{ probeId }] });
  const result = await handle.result();
  assert.equal(await handle.query(roundTripProgressQuery), 'done');

  // Check the stores directly, not through Lifeboat.
  const expected = Buffer.from(`lifeboat round trip ${probeId}`);
  const redis = new Redis(env.redis.url);
  try {
    assert.deepEqual(await redis.getBuffer(`lifeboat:probe:${probeId}`), expected);
  } finally {
    redis.disconnect();
  }
  const obj = await s3.send(new GetObjectCommand({ Bucket: env.minio.bucket, Key: `probes/${probeId}` }));
  assert.deepEqual(Buffer.from(await obj.Body!.transformToByteArray()), expected);

  const sha = createHash('sha256').update(expected).digest('hex');
  assert.equal(result.readBack.redisSha256, sha);
  assert.equal(result.readBack.s3Sha256, sha);

  const desc = await handle.describe();
  assert.equal(desc.status.name, 'COMPLETED');
  assert.deepEqual(desc.searchAttributes.LifeboatKind, ['roundtrip']);
});
