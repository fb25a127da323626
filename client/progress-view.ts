import { formatBytes, formatCount } from '../lib/format';
import type { OutStream } from './cli-context';
import type { ActivityProgress, OperationHandle, OperationProgress } from './types';

const BAR_WIDTH = 20;

function bar(done: number, total: number): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(f * BAR_WIDTH);
  return `[${'#'.repeat(full)}${'.'.repeat(BAR_WIDTH - full)}] ${Math.floor(f * 100)}%`;
}

function activityText(a: ActivityProgress): string {
  const parts = [a.label ?? a.activityType];
  if (a.totalBytes)
    parts.push(`${formatBytes(a.bytes ?? 0)}/${formatBytes(a.totalBytes)} ${bar(a.bytes ?? 0, a.totalBytes)}`);
  else if (a.bytes !== undefined) parts.push(formatBytes(a.bytes));
  if (a.totalItems)
    parts.push(
      `${formatCount(a.items ?? 0)}/${formatCount(a.totalItems)} items${a.totalBytes ? '' : ` ${bar(a.items ?? 0, a.totalItems)}`}`,
    );
  else if (a.items !== undefined) parts.push(`${formatCount(a.items)} items`);
  if (a.attempt > 1) parts.push(`attempt ${a.attempt}${a.lastFailure ? ` (last: ${a.lastFailure})` : ''}`);
  return parts.join(' ');
}

/**
 * One line saying where an operation is: the workflow's phase, each source's
 * status, and the byte/item counts of running activities from their
 * heartbeats. Pure, so the rendering is testable.
 */
export function renderProgressLine(p: OperationProgress, width?: number): string {
  const segs: string[] = [];
  if (p.progress) {
    segs.push(p.progress.phase);
    const srcs = Object.entries(p.progress.sources).map(([n, s]) => `${n} ${s.status}`);
    if (srcs.length) segs.push(srcs.join(', '));
  } else {
    segs.push(p.status === 'RUNNING' ? 'waiting for a worker' : p.status.toLowerCase());
  }
  for (const a of p.activities) if (a.state !== 'SCHEDULED' || a.attempt > 1) segs.push(activityText(a));
  const line = segs.join(' · ');
  return width && line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

export interface WatchOptions {
  /** @default 500 */
  intervalMs?: number;
  /** Without a TTY, the same line is not repeated and a changed one at most this often (unless the phase changed). @default 5000 */
  plainEveryMs?: number;
}

/**
 * Waits for an operation's result while showing its progress on `out`: a
 * one-line bar redrawn in place on a terminal, plain lines otherwise (logs,
 * CI). Progress polling errors are ignored: the result is what counts.
 */
export async function watchOperation<T>(
  handle: OperationHandle<T>,
  out: OutStream,
  opts: WatchOptions = {},
): Promise<T> {
  const interval = opts.intervalMs ?? 500;
  const plainEvery = opts.plainEveryMs ?? 5000;
  let settled = false;
  const result = handle.result().finally(() => (settled = true));
  let last = '';
  let lastPhase = '';
  let lastAt = 0;
  let drawn = false;
  const onSigint = () => {
    if (drawn) out.write('\n');
    out.write(
      `lifeboat: stopped watching; ${handle.kind} ${handle.workflowId} keeps running (cancel it in the Temporal UI)\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    while (!settled) {
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, interval))]);
      if (settled) break;
      let p: OperationProgress;
      try {
        p = await handle.progress();
      } catch {
        continue;
      }
      if (settled) break;
      if (out.isTTY) {
        const line = renderProgressLine(p, (out.columns ?? 100) - 1);
        out.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else {
        const line = renderProgressLine(p);
        const phase = p.progress?.phase ?? p.status;
        const now = Date.now();
        if (line !== last && (phase !== lastPhase || now - lastAt >= plainEvery)) {
          out.write(`${line}\n`);
          last = line;
          lastPhase = phase;
          lastAt = now;
        }
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    if (drawn) out.write('\r\x1b[2K');
  }
  return result;
}
