import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleError, route } from './routes';
import { Storage } from './storage';

export interface QdrantServerOptions {
  /** Folder holding collections, aliases and snapshots; reused across restarts. */
  dataDir: string;
  /**
   * TCP port on 127.0.0.1; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
}

export interface RunningQdrantServer {
  /** Base URL for @qdrant/js-client-rest, e.g. http://127.0.0.1:6333 */
  url: string;
  port: number;
  dataDir: string;
  /** Stops accepting requests and waits for the open ones (and pending disk writes) to finish. */
  stop(): Promise<void>;
}

/** Starts the Qdrant-compatible stand-in in this process, on loopback. */
export async function startQdrantServer(opts: QdrantServerOptions): Promise<RunningQdrantServer> {
  const storage = await Storage.open(opts.dataDir);
  const server = http.createServer((req, res) => {
    const r = { req, res, storage, started: process.hrtime.bigint(), url: new URL(req.url ?? '/', 'http://stand-in') };
    route(r).catch((e) => handleError(r, e));
  });
  server.on('connection', (s) => s.setNoDelay(true));
  // Snapshot downloads and uploads can be long; never cut them off.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    dataDir: storage.dataDir,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).then(() => storage.lock.run(async () => undefined))),
  };
}
