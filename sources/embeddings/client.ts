import { LifeboatError } from '../../lib/errors';

/**
 * OpenAI-compatible embeddings over HTTP: POST {base}/embeddings with
 * {model, input: [...]}, answered with {data: [{index, embedding}]}. 429 and
 * 5xx (and network errors) are retried with exponential backoff, honouring
 * Retry-After; any other 4xx is bad input and fails at once, naming it.
 */
export interface EmbeddingClientOptions {
  /** Base URL, e.g. https://api.openai.com/v1 (…/v1 is added when the URL has no path). */
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  /** Tries per request for 429/5xx/network errors before giving up (retryably). @default 8 */
  maxAttempts?: number;
  /** First backoff; doubles per attempt up to maxDelayMs. @default 500 */
  baseDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
  /** Requests per second at most (shared by every call of this client); 0 = no limit. */
  requestsPerSecond?: number;
  signal?: AbortSignal;
  /** Told about each throttled or failed attempt (heartbeat details, logs). */
  onRetry?: (info: { status?: number; attempt: number; delayMs: number; message: string }) => void;
}

export class EmbeddingRejectedError extends LifeboatError {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    const hint =
      status === 401 || status === 403
        ? 'check the API key (reindex.embedding.apiKey)'
        : status === 404
          ? 'check reindex.embedding.url (it should end in /v1) and the model name'
          : 'check reindex.embedding.model and the records';
    super(
      `the embedding API rejected the request with HTTP ${status}: ${detail}; ${hint}`,
      'EMBEDDING_REQUEST_REJECTED',
    );
  }
}

export class EmbeddingBadResponseError extends LifeboatError {
  constructor(detail: string) {
    super(
      `the embedding API answered, but not like /v1/embeddings: ${detail}; check reindex.embedding.url`,
      'EMBEDDING_BAD_RESPONSE',
    );
  }
}

/** 429/5xx that kept failing: retryable (the activity tries again later, from the same batch). */
export class EmbeddingUnavailableError extends LifeboatError {
  constructor(detail: string) {
    super(`the embedding API is unavailable: ${detail}`, 'EMBEDDING_BAD_RESPONSE', { retryable: true });
  }
}

export const embeddingsEndpoint = (base: string) => {
  const u = new URL(base);
  const p = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${p === '' ? '/v1' : p}/embeddings`;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/** Seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(h);
  return Number.isNaN(d) ? undefined : Math.max(0, d - Date.now());
}

export interface EmbeddingClient {
  embed(texts: string[]): Promise<number[][]>;
}

export function createEmbeddingClient(o: EmbeddingClientOptions): EmbeddingClient {
  const endpoint = embeddingsEndpoint(o.url);
  const maxAttempts = o.maxAttempts ?? 8;
  const base = o.baseDelayMs ?? 500;
  const maxDelay = o.maxDelayMs ?? 30_000;
  // Token spacing: each request takes the next slot, so concurrent calls share the rate.
  let nextSlot = 0;
  const throttle = async () => {
    if (!o.requestsPerSecond) return;
    const now = Date.now();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + 1000 / o.requestsPerSecond;
    if (slot > now) await sleep(slot - now, o.signal);
  };

  return {
    async embed(texts) {
      for (let attempt = 1; ; attempt++) {
        await throttle();
        let status: number | undefined;
        let message: string;
        let wait: number | undefined;
        try {
          const res = await fetch(endpoint, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
            },
            body: JSON.stringify({ model: o.model, input: texts }),
            signal: o.signal
              ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs ?? 60_000)])
              : AbortSignal.timeout(o.timeoutMs ?? 60_000),
          });
          status = res.status;
          const text = await res.text();
          if (res.ok) return parse(text, texts.length);
          const detail = errorDetail(text);
          if (status !== 429 && status < 500) throw new EmbeddingRejectedError(status, detail);
          message = `HTTP ${status}: ${detail}`;
          wait = retryAfterMs(res.headers.get('retry-after'));
        } catch (e) {
          if (e instanceof LifeboatError) throw e;
          o.signal?.throwIfAborted();
          message = (e as Error).message;
        }
        if (attempt >= maxAttempts) throw new EmbeddingUnavailableError(`${message} (after ${attempt} attempts)`);
        const backoff = Math.min(maxDelay, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        const delayMs = Math.min(maxDelay * 2, wait ?? backoff);
        o.onRetry?.({ status, attempt, delayMs, message });
        await sleep(delayMs, o.signal);
      }
    },
  };
}

/** The API's own error message, short, never the request (which holds the texts). */
function errorDetail(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: string } | string };
    const m = typeof j.error === 'string' ? j.error : j.error?.message;
    if (m) return m.slice(0, 300);
  } catch {
    // not JSON
  }
  return body.slice(0, 300) || '(empty body)';
}

function parse(body: string, n: number): number[][] {
  let j: { data?: { index?: unknown; embedding?: unknown }[] };
  try {
    j = JSON.parse(body) as typeof j;
  } catch {
    throw new EmbeddingBadResponseError(`the body is not JSON (${body.slice(0, 80)})`);
  }
  if (!Array.isArray(j.data)) throw new EmbeddingBadResponseError('no "data" list');
  const out: number[][] = new Array<number[]>(n);
  for (const [k, d] of j.data.entries()) {
    const i = typeof d.index === 'number' ? d.index : k;
    if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw new EmbeddingBadResponseError(`data[${k}].embedding is not a list of finite numbers`);
    if (i < 0 || i >= n) throw new EmbeddingBadResponseError(`data[${k}].index ${i} is outside the ${n} inputs`);
    out[i] = d.embedding as number[];
  }
  for (let i = 0; i < n; i++) if (!out[i]) throw new EmbeddingBadResponseError(`no embedding for input ${i} of ${n}`);
  const d = out[0].length;
  if (out.some((v) => v.length !== d))
    throw new EmbeddingBadResponseError('embeddings of different lengths in one answer');
  return out;
}
