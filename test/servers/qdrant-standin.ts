import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, spawnServer, type RunningServer } from './process';
import { projectRoot } from './tools';

export interface QdrantStandIn extends RunningServer {
  readonly url: string;
}

/**
 * Starts the Qdrant-compatible test server shipped under test/qdrant-server
 * as its own process (no Qdrant server can be installed on the build
 * machines; production uses real Qdrant).
 */
export async function startQdrantStandIn(dir: string): Promise<QdrantStandIn> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const srv = await spawnServer({
    name: `qdrant-standin:${port}`,
    command: process.execPath,
    args: [
      '--import',
      'tsx',
      path.join(projectRoot, 'test', 'qdrant-server', 'main.ts'),
      '--data',
      path.join(dir, 'data'),
      '--port',
      String(port),
    ],
    cwd: projectRoot,
    logFile: path.join(dir, 'qdrant.log'),
    ready: async () => (await fetch(`${url}/`)).ok,
  });
  return Object.assign(srv, { url });
}
