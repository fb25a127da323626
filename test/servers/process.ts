import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import { ServerStartError } from '../../lib/errors';

/** A server process started on loopback; `stop()` is idempotent. */
export interface RunningServer {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the server answers; polled until `timeoutMs`. */
  ready: () => Promise<boolean>;
  /** @default 60000 */
  timeoutMs?: number;
}

/**
 * Spawns a server with its output in a log file and waits until `ready()`
 * says so. If it exits or never becomes ready, throws with the log's tail, so
 * a failed start is loud and explains itself.
 */
export async function spawnServer(opts: SpawnOptions): Promise<RunningServer> {
  const fd = openSync(opts.logFile, 'a');
  const child: ChildProcess = spawn(opts.command, opts.args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    stdio: ['ignore', fd, fd],
    detached: false,
  });
  closeSync(fd);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (spawnError) throw new ServerStartError(opts.name, `could not spawn ${opts.command}: ${spawnError.message}`);
    if (exited) {
      throw new ServerStartError(
        opts.name,
        `exited during start-up (code ${exited.code}, signal ${exited.signal})`,
        tail(opts.logFile),
      );
    }
    if (await opts.ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new ServerStartError(opts.name, `not ready after ${opts.timeoutMs ?? 60_000} ms`, tail(opts.logFile));
    }
    await sleep(100);
  }

  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    pid: child.pid!,
    logFile: opts.logFile,
    stop() {
      stopping ??= (async () => {
        if (exited) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exitPromise;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** True when something accepts TCP connections on host:port. */
export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
