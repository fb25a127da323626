/**
 * The worker's log lines. With LIFEBOAT_LOG_FORMAT=json every line is one JSON object: time,
 * level, message and the SDK's attributes (workflowId, runId, activityId, activityType,
 * taskQueue, ...). Attributes that could hold a secret are redacted, and credentials are cut out
 * of URLs, whatever the format.
 */
import type { LogEntry, LogLevel } from '@temporalio/worker';

const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|routing[-_]?key|authorization|cookie|credential/i;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]*:[^/\s@]*@/gi;

/** A copy of `v` safe to log: secret-looking keys replaced, URL passwords removed. */
export function redactForLog(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.replace(URL_CREDENTIALS, '$1***@');
  if (typeof v === 'bigint') return String(v);
  if (typeof v !== 'object' || v === null) return v;
  if (depth > 6) return '[…]';
  if (v instanceof Error) return { name: v.name, message: redactForLog(v.message, depth + 1) };
  if (Array.isArray(v)) return v.map((x) => redactForLog(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    // A secret reference ({ env } / { file }) says where the secret is, not what it is: keep it.
    const isRef = typeof x === 'object' && x !== null && ('env' in x || 'file' in x);
    out[k] = SECRET_KEY.test(k) && !isRef ? '[redacted]' : redactForLog(x, depth + 1);
  }
  return out;
}

export function jsonLogLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = (redactForLog(entry.meta ?? {}) as Record<string, unknown>) ?? {};
  return JSON.stringify({ time, level: entry.level, message: redactForLog(entry.message), ...meta });
}

/** 'json' when LIFEBOAT_LOG_FORMAT=json, else 'text' (the SDK's default lines). */
export const logFormat = (): 'json' | 'text' =>
  process.env.LIFEBOAT_LOG_FORMAT?.toLowerCase() === 'json' ? 'json' : 'text';

/**
 * One line of the worker's own output (start, signals, stop; not the SDK's lines): with
 * LIFEBOAT_LOG_FORMAT=json a JSON object like the SDK's, so every line of a worker's log parses.
 */
export function workerLogLine(level: LogLevel, message: string, meta: Record<string, unknown> = {}): string {
  if (logFormat() !== 'json') return message;
  const fields = redactForLog(meta) as Record<string, unknown>;
  return JSON.stringify({ time: new Date().toISOString(), level, message: redactForLog(message), ...fields });
}
