/**
 * Throw-away redis-server processes for restore drills: started on a free
 * loopback port with persistence off, in a folder of their own, detached from
 * the worker so that a worker that crashes mid-drill does not take the scratch
 * target away from the retried restore (the next worker finds it again by its
 * folder). Stopping checks that the pid still is that server before signalling it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { LifeboatError } from '../lib/errors';

export interface ScratchRedis {
  pid: number;
  port: number;
  url: string;
  dir: string;
}

/** The redis-server binary: configured, else the first on PATH or in the usual places. */
export function findRedisServer(configured?: string): string | undefined {
  if (configured) return existsSync(configured) ? configured : undefined;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const d of dirs) {
    const p = path.join(d, 'redis-server');
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * True when `pid` is the redis-server started for this folder (pids get reused):
 * redis-server retitles itself "redis-server 127.0.0.1:<port>", so the port tells.
 */
async function isOurs(pid: number, conf: string, port: number): Promise<boolean> {
  if (!alive(pid)) return false;
  try {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    return cmd.includes(conf) || (cmd.includes('redis-server') && cmd.includes(`:${port}`));
  } catch {
    // No /proc (not Linux): trust the pid file written by this folder's server.
    return true;
  }
}

async function pong(port: number, auth: { username?: string; password?: string }): Promise<boolean> {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    ...auth,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

const CONF = 'redis.conf';
const STATE = 'server.json';

/**
 * Starts (or, on a retry, finds again) the scratch server of `dir`. The
 * source's credentials are configured on it, because a restore into an
 * override target reuses the source's credentials; they go into a 0600 config
 * file, never onto the command line.
 */
export async function startScratchRedis(
  dir: string,
  opts: { binary: string; username?: string; password?: string; signal?: AbortSignal },
): Promise<ScratchRedis> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const conf = path.join(dir, CONF);
  const statePath = path.join(dir, STATE);
  const auth = { username: opts.username, password: opts.password };
  const known = await readFile(statePath, 'utf8').then(
    (t) => JSON.parse(t) as ScratchRedis,
    () => undefined,
  );
  if (known && (await isOurs(known.pid, conf, known.port)) && (await pong(known.port, auth))) return known;
  if (known && (await isOurs(known.pid, conf, known.port))) process.kill(known.pid, 'SIGKILL');

  const port = await freePort();
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    'save ""',
    'appendonly no',
    'daemonize no',
    'protected-mode no',
    `pidfile ${path.join(dir, 'redis.pid')}`,
    `logfile ${path.join(dir, 'redis.log')}`,
  ];
  const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (opts.username && opts.username !== 'default')
    lines.push(`user ${opts.username} on >${opts.password ?? ''} ~* &* +@all`, 'user default off');
  else if (opts.password) lines.push(`requirepass ${quote(opts.password)}`);
  await writeFile(conf, lines.join('\n') + '\n', { mode: 0o600 });
  const log = await open(path.join(dir, 'stdout.log'), 'a');
  const child = spawn(opts.binary, [conf], { detached: true, stdio: ['ignore', log.fd, log.fd] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', () => {});
  child.unref();
  await log.close();
  const pid = child.pid;
  if (!pid) throw new LifeboatError(`could not start ${opts.binary} for a drill scratch target`, 'SERVER_START');
  const state: ScratchRedis = { pid, port, url: `redis://127.0.0.1:${port}`, dir };
  await writeFile(statePath, JSON.stringify(state), { mode: 0o600 });
  let gone = false;
  void exited.then(() => (gone = true));
  for (let i = 0; i < 200; i++) {
    opts.signal?.throwIfAborted();
    if (await pong(port, auth)) return state;
    if (gone) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = await readFile(path.join(dir, 'redis.log'), 'utf8').catch(() => '');
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  throw new LifeboatError(
    `the drill's throw-away redis-server (${opts.binary}, port ${port}) did not answer PING: ${tail.slice(-500) || 'no log'}`,
    'SERVER_START',
  );
}

/**
 * Stops the scratch server of `dir` (if running) and removes the folder.
 * Returns what was stopped; idempotent.
 */
export async function stopScratchRedis(dir: string): Promise<{ stoppedPid?: number }> {
  const conf = path.join(dir, CONF);
  const known = await readFile(path.join(dir, STATE), 'utf8').then(
    (t) => JSON.parse(t) as ScratchRedis,
    () => undefined,
  );
  let stoppedPid: number | undefined;
  if (known && (await isOurs(known.pid, conf, known.port))) {
    process.kill(known.pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(known.pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (alive(known.pid)) process.kill(known.pid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(known.pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (alive(known.pid))
      throw new LifeboatError(`scratch redis-server pid ${known.pid} (${dir}) did not stop`, 'OPERATION_FAILED');
    stoppedPid = known.pid;
  }
  await rm(dir, { recursive: true, force: true });
  return stoppedPid ? { stoppedPid } : {};
}
