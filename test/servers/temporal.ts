import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort, spawnServer, type RunningServer } from './process';
import { toolPath } from './tools';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

export interface TemporalDevServer extends RunningServer {
  /** gRPC frontend, host:port. */
  readonly address: string;
  readonly namespace: string;
  /** Web UI URL, when started with a UI. */
  readonly uiUrl?: string;
  readonly dbFile: string;
}

export interface TemporalDevServerOptions {
  /** SQLite file holding all state; reuse it to restart with the same history. */
  dbFile: string;
  /** @default a free port */
  port?: number;
  /** Serve the Web UI. @default false */
  ui?: boolean;
  /** @default a free port (only with ui) */
  uiPort?: number;
  /** @default 'default' */
  namespace?: string;
}

/**
 * Starts `temporal server start-dev` (Temporal CLI, built by scripts/setup)
 * on loopback with a file database and Lifeboat's search attributes.
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const port = opts.port ?? (await freePort());
  const namespace = opts.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    opts.dbFile,
    '--namespace',
    namespace,
    '--log-level',
    'warn',
  ];
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  let uiUrl: string | undefined;
  if (opts.ui) {
    const uiPort = opts.uiPort ?? (await freePort());
    args.push('--ui-ip', '127.0.0.1', '--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  } else {
    args.push('--headless');
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  const address = `127.0.0.1:${port}`;
  const srv = await spawnServer({
    name: `temporal:${port}`,
    command: toolPath('temporal'),
    args,
    logFile: opts.dbFile.replace(/\.db$/, '') + '.log',
    timeoutMs: 90_000,
    ready: async () => {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await conn.close();
      }
    },
  });
  return Object.assign(srv, { address, namespace, uiUrl, dbFile: opts.dbFile });
}
