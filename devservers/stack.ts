import path from 'node:path';
import { startTemporalDevServer, type TemporalDevServer } from './temporal';
import { startRedis, type RedisServer } from './redis';
import { startMinio, type MinioServer } from './minio';
import { tcpOpen } from './process';

export interface DevStack {
  temporal: TemporalDevServer;
  redis: RedisServer;
  minio: MinioServer;
  stop(): Promise<void>;
}

/**
 * The servers the demo runs on: Temporal dev server (with UI, file database
 * under `dir`), Redis and MinIO, all on loopback. Prefers Temporal's usual
 * ports 7233/8233 and falls back to free ones when they are taken.
 */
export async function startDevStack(dir: string): Promise<DevStack> {
  const preferred = !(await tcpOpen(7233)) && !(await tcpOpen(8233));
  const stops: (() => Promise<void>)[] = [];
  try {
    const [temporal, redis, minio] = await Promise.all([
      startTemporalDevServer({ dbFile: path.join(dir, 'temporal.db'), ui: true, ...(preferred ? { port: 7233, uiPort: 8233 } : {}) }).then((s) => (stops.push(s.stop), s)),
      startRedis(path.join(dir, 'redis')).then((s) => (stops.push(s.stop), s)),
      startMinio(path.join(dir, 'minio'), 'lifeboat-demo').then((s) => (stops.push(s.stop), s)),
    ]);
    return { temporal, redis, minio, stop: async () => void (await Promise.allSettled(stops.map((s) => s()))) };
  } catch (e) {
    await Promise.allSettled(stops.map((s) => s()));
    throw e;
  }
}
