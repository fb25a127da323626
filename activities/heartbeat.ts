import { Context } from '@temporalio/activity';
import type { SourceProgress } from '../sources/types';

export interface Heartbeat {
  /** Aborted when Temporal cancels the activity (delivered through heartbeats). */
  signal: AbortSignal;
  onProgress: (p: SourceProgress) => void;
}

/**
 * Runs long activity work with heartbeats: the latest progress is sent every
 * `everyMs` (visible in the UI and to `lifeboat … --wait`) even while the
 * work is silent (e.g. Qdrant building a snapshot), so a dead worker is
 * noticed within the heartbeat timeout and a live one never is mistaken for
 * dead. Cancellation reaches the stream code as an AbortSignal.
 */
export async function withHeartbeat<T>(label: string, fn: (hb: Heartbeat) => Promise<T>, everyMs = 2000): Promise<T> {
  const ctx = Context.current();
  let latest: SourceProgress & { label: string } = { label, bytes: 0 };
  ctx.heartbeat(latest);
  const timer = setInterval(() => ctx.heartbeat(latest), everyMs);
  try {
    return await fn({ signal: ctx.cancellationSignal, onProgress: (p) => (latest = { label, ...p }) });
  } finally {
    clearInterval(timer);
  }
}
