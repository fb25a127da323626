import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, spawnServer, type RunningServer } from './process';
import { toolPath } from './tools';

export interface MinioServer extends RunningServer {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** A bucket created at start. */
  readonly bucket: string;
}

/** Starts MinIO on loopback with data in `dir` and creates `bucket`. */
export async function startMinio(dir: string, bucket = 'lifeboat-test'): Promise<MinioServer> {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const consolePort = await freePort();
  const accessKeyId = 'lifeboat-minio';
  const secretAccessKey = 'lifeboat-minio-secret-key';
  const endpoint = `http://127.0.0.1:${port}`;
  const srv = await spawnServer({
    name: `minio:${port}`,
    command: toolPath('minio'),
    args: [
      'server',
      path.join(dir, 'data'),
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      '--quiet',
    ],
    env: {
      MINIO_ROOT_USER: accessKeyId,
      MINIO_ROOT_PASSWORD: secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    },
    logFile: path.join(dir, 'minio.log'),
    ready: async () => (await fetch(`${endpoint}/minio/health/live`)).ok,
  });
  const region = 'us-east-1';
  const s3 = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    // A restarted MinIO keeps its data folder, and with it the bucket.
    if ((e as { name?: string }).name !== 'BucketAlreadyOwnedByYou') {
      await srv.stop();
      throw e;
    }
  } finally {
    s3.destroy();
  }
  return Object.assign(srv, { endpoint, accessKeyId, secretAccessKey, region, bucket });
}
