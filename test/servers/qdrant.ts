import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, spawnServer, type RunningServer } from './process';
import { projectRoot, sharedDir } from './tools';
import versions from '../../scripts/tool-versions.json';
import { ServerStartError } from '../../lib/errors';

export interface RealQdrant extends RunningServer {
  readonly url: string;
  readonly version: string;
}

/**
 * Where the real Qdrant comes from: `../shared/qdrant/` (see its README) when
 * this machine has it, else undefined and the tests use the stand-in alone.
 * When ../shared has it but scripts/setup has not unpacked it yet, that is
 * an error to fix, not a reason to skip the real server.
 */
export function realQdrantBinary(): string | undefined {
  const shared = sharedDir();
  if (!shared || !existsSync(path.join(shared, versions.qdrant.shared))) return undefined;
  const bin = path.join(projectRoot, '.tools', `qdrant-${versions.qdrant.version}`, 'bin', versions.qdrant.binary);
  if (!existsSync(bin))
    throw new ServerStartError(
      'qdrant',
      `${path.join(shared, versions.qdrant.shared)} is present but ${bin} is not: run scripts/setup to unpack it`,
    );
  return bin;
}

/** Starts the real Qdrant on loopback with its storage and snapshots in `dir`. */
export async function startRealQdrant(dir: string, binary: string): Promise<RealQdrant> {
  mkdirSync(dir, { recursive: true });
  const [port, grpc] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const srv = await spawnServer({
    name: `qdrant:${port}`,
    command: binary,
    args: [],
    cwd: dir,
    env: {
      QDRANT__SERVICE__HOST: '127.0.0.1',
      QDRANT__SERVICE__HTTP_PORT: String(port),
      QDRANT__SERVICE__GRPC_PORT: String(grpc),
      QDRANT__STORAGE__STORAGE_PATH: path.join(dir, 'storage'),
      QDRANT__STORAGE__SNAPSHOTS_PATH: path.join(dir, 'snapshots'),
      QDRANT__TELEMETRY_DISABLED: 'true',
    },
    logFile: path.join(dir, 'qdrant.log'),
    ready: async () => (await fetch(`${url}/`)).ok,
  });
  return Object.assign(srv, { url, version: versions.qdrant.version });
}
