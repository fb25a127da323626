import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FaissCancelledError,
  FaissInvalidArgumentError,
  FaissLoadError,
  FaissProbeTimeoutError,
  FaissSandboxError,
} from './errors';
import type { ProbeReply, ProbeRequest } from './probe-protocol';
import type { FaissProbeOptions, FaissProbes } from './types';
import { formatBytes } from '../../lib/format';

export const PROBE_DEFAULTS = {
  maxProbeBytes: 2 * 1024 ** 3,
  probeQueries: 8,
  probeK: 10,
  probeSeed: 1,
  probeTimeoutMs: 300_000,
} as const;

const STDERR_TAIL = 4096;

export interface RunProbesOptions extends FaissProbeOptions {
  signal?: AbortSignal;
  /** File size when the caller already knows it (saves a stat). */
  size?: number;
  /** Called every `aliveIntervalMs` while the child works, so an activity can keep heartbeating through a long load. */
  onAlive?: () => void;
  /** @default 5000 */
  aliveIntervalMs?: number;
}

/**
 * Loads `file` with faiss in a child process and runs the probe queries.
 * Returns `{ status: 'skipped' }` for files above maxProbeBytes or when
 * probes are off. A child killed by a signal (faiss aborts on some damaged
 * files), exiting non-zero, or refused by faiss gives FaissLoadError; the
 * calling process is never at risk.
 */
export async function runFaissProbes(file: string, opts: RunProbesOptions = {}): Promise<FaissProbes> {
  const o = probeOptions(opts);
  if (opts.probes === false) return { status: 'skipped', reason: 'probes turned off' };
  const size = opts.size ?? (await stat(file)).size;
  if (size > o.maxProbeBytes) {
    return {
      status: 'skipped',
      reason: `file is ${formatBytes(size)}, above maxProbeBytes (${formatBytes(o.maxProbeBytes)})`,
    };
  }
  const req: ProbeRequest = { path: path.resolve(file), seed: o.probeSeed, queries: o.probeQueries, k: o.probeK };
  const alive = opts.onAlive ? setInterval(opts.onAlive, opts.aliveIntervalMs ?? 5000) : undefined;
  try {
    return await runChild(file, req, o.probeTimeoutMs, opts.signal);
  } finally {
    clearInterval(alive);
  }
}

/** Validated options with defaults. */
export function probeOptions(opts: FaissProbeOptions): Required<Omit<FaissProbeOptions, 'probes'>> {
  const o = {
    maxProbeBytes: opts.maxProbeBytes ?? PROBE_DEFAULTS.maxProbeBytes,
    probeQueries: opts.probeQueries ?? PROBE_DEFAULTS.probeQueries,
    probeK: opts.probeK ?? PROBE_DEFAULTS.probeK,
    probeSeed: opts.probeSeed ?? PROBE_DEFAULTS.probeSeed,
    probeTimeoutMs: opts.probeTimeoutMs ?? PROBE_DEFAULTS.probeTimeoutMs,
  };
  const intIn = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max)
      throw new FaissInvalidArgumentError(name, `${v} is not an integer in ${min}..${max}`);
  };
  intIn('maxProbeBytes', o.maxProbeBytes, 0, Number.MAX_SAFE_INTEGER);
  intIn('probeQueries', o.probeQueries, 1, 1000);
  intIn('probeK', o.probeK, 1, 1000);
  intIn('probeSeed', o.probeSeed, 0, 2 ** 32 - 1);
  intIn('probeTimeoutMs', o.probeTimeoutMs, 1, 24 * 3600 * 1000);
  return o;
}

/**
 * How to start the child: under tsx when this module runs as TypeScript,
 * plain node when it was compiled to dist/ (the entry sits beside this file
 * either way).
 */
function childCommand(req: ProbeRequest): { entry: string; args: string[] } {
  const ext = path.extname(__filename);
  const entry = path.join(__dirname, `probe-child${ext}`);
  const loader = ext === '.ts' ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  return { entry, args: [...loader, entry, JSON.stringify(req)] };
}

function runChild(file: string, req: ProbeRequest, timeoutMs: number, signal?: AbortSignal): Promise<FaissProbes> {
  if (signal?.aborted) return Promise.reject(new FaissCancelledError(file, { cause: signal.reason }));
  const { entry, args } = childCommand(req);
  if (!existsSync(entry)) return Promise.reject(new FaissSandboxError(file, `its entry file ${entry} is missing`));
  return new Promise<FaissProbes>((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env });
    let stderr = '';
    let ready = false;
    let reply: Exclude<ProbeReply, { ready: true }> | undefined;
    let stopped: Error | undefined;
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_TAIL);
    });
    child.on('message', (m: ProbeReply) => {
      if ('ready' in m) ready = true;
      else reply = m;
    });
    const stop = (err: Error) => {
      stopped ??= err;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new FaissProbeTimeoutError(file, timeoutMs)), timeoutMs);
    const onAbort = () => stop(new FaissCancelledError(file, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (stopped) return reject(stopped);
      const stderrTail = stderr.trim() || undefined;
      if (!ready)
        return reject(
          new FaissSandboxError(
            file,
            `it exited (${sig ?? `code ${code}`}) before faiss-node was loaded${stderrTail ? `:\n${stderrTail}` : ''}`,
          ),
        );
      if (reply?.ok === false) return reject(new FaissLoadError(file, { faissMessage: reply.message, stderrTail }));
      if (sig || code !== 0 || !reply)
        return reject(new FaissLoadError(file, { signal: sig, exitCode: code, stderrTail }));
      resolve(reply.probes);
    });
  });
}
