import { setTimeout as sleep } from 'node:timers/promises';
import { causeChain } from '../../lib/errors';

const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TimeoutError',
  'NetworkingError',
  'XMinioServerNotInitialized',
  'XMinioStorageFull',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'EBUSY',
]);

/** Network errors, 5xx, 408/429 and throttling are worth another attempt; 4xx and not-found are not. */
export function isTransient(e: unknown): boolean {
  for (const link of causeChain(e)) {
    const cur = link as Record<string, unknown>;
    const status = (cur.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode;
    if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
    if (typeof cur.name === 'string' && TRANSIENT_NAMES.has(cur.name)) return true;
    if (typeof cur.code === 'string' && TRANSIENT_CODES.has(cur.code)) return true;
  }
  return false;
}

export interface RetryPolicy {
  /** @default 5 */
  attempts: number;
  /** First delay; doubles each attempt, with full jitter. @default 200 */
  baseMs: number;
  /** @default 5000 */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 5000 };

/** Runs `fn`, retrying transient failures with exponential backoff and jitter. */
export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= policy.attempts || !isTransient(e)) throw e;
      const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      await sleep(cap / 2 + Math.random() * (cap / 2));
    }
  }
}
