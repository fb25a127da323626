import path from 'node:path';
import { startTemporalDevServer, type TemporalDevServer } from './temporal';
import { startRedis, type RedisServer } from './redis';
import { startMinio, type MinioServer } from './minio';
import { startQdrantStandIn, type QdrantStandIn } from './qdrant-standin';
import { tcpOpen } from './process';

export interface DevStack {
  temporal: TemporalDevServer;
  redis: RedisServer;
  minio: MinioServer;
  /** Absent when the caller brings its own Qdrant. */
  qdrant?: QdrantStandIn;
  stop(): Promise<void>;
}

/**
 * The servers the demo runs on: Temporal dev server (with UI, file database
 * under `dir`), Redis, MinIO and — unless a real Qdrant is given — the
 * Qdrant-compatible stand-in, all on loopback. Prefers Temporal's usual ports
 * 7233/8233 and falls back to free ones when they are taken.
 */
export async function startDevStack(dir: string, opts: { qdrant?: boolean } = {}): Promise<DevStack> {
  const preferred = !(await tcpOpen(7233)) && !(await tcpOpen(8233));
  const stops: (() => Promise<void>)[] = [];
  const track = <T extends { stop(): Promise<void> }>(s: T) => (stops.push(() => s.stop()), s);
  try {
    const [temporal, redis, minio, qdrant] = await Promise.all([
      startTemporalDevServer({
        dbFile: path.join(dir, 'temporal.db'),
        ui: true,
        ...(preferred ? { port: 7233, uiPort: 8233 } : {}),
      }).then(track),
      startRedis(path.join(dir, 'redis')).then(track),
      startMinio(path.join(dir, 'minio'), 'lifeboat-demo').then(track),
      opts.qdrant === false ? Promise.resolve(undefined) : startQdrantStandIn(path.join(dir, 'qdrant')).then(track),
    ]);
    return { temporal, redis, minio, qdrant, stop: async () => void (await Promise.allSettled(stops.map((s) => s()))) };
  } catch (e) {
    await Promise.allSettled(stops.map((s) => s()));
    throw e;
  }
}
