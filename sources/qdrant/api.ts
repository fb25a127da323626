import { QdrantClient } from '@qdrant/js-client-rest';
import { LifeboatError } from '../../lib/errors';
import {
  QdrantChecksumMismatchError,
  QdrantCollectionNotFoundError,
  QdrantRequestError,
  QdrantUnreachableError,
} from './errors';
import type { QdrantConnection } from './types';

const DEFAULT_TIMEOUT_MS = 300_000;

/**
 * Calls that change nothing (or set the same state again) and may therefore
 * be sent a second time when the connection dropped under them.
 */
const IDEMPOTENT = new Set([
  'version check (GET /)',
  'list aliases',
  'list collections',
  'collection info',
  'collection exists',
  'count points',
  'scroll points',
  'probe query',
  'list snapshots',
  'upsert points',
]);

/**
 * A keep-alive connection the server closed as the request went out (Qdrant's
 * actix closes idle ones after 5 s): undici's "other side closed"
 * (UND_ERR_SOCKET) or a reset. Not a refused connection: that server is down.
 */
function droppedConnection(e: unknown): boolean {
  for (let c: unknown = e, i = 0; c && i < 4; c = (c as { cause?: unknown }).cause, i++) {
    const code = (c as { code?: string }).code;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return true;
  }
  return /other side closed|socket hang up|ECONNRESET/i.test(String((e as Error)?.message));
}

/** Qdrant's own error text from an error body `{"status":{"error":"…"}}`. */
function serverMessage(data: unknown, fallback: string): string {
  const err = (data as { status?: { error?: unknown } } | undefined)?.status?.error;
  return typeof err === 'string' ? err : typeof data === 'string' && data ? data.slice(0, 300) : fallback;
}

/**
 * The typed client plus raw streaming requests (snapshot download/upload),
 * with every failure turned into a Lifeboat error that names the server and
 * the operation.
 */
export class QdrantApi {
  readonly client: QdrantClient;
  readonly url: string;

  constructor(readonly conn: QdrantConnection) {
    this.url = conn.url.replace(/\/+$/, '');
    this.client = new QdrantClient({
      url: this.url,
      apiKey: conn.apiKey,
      timeout: conn.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      checkCompatibility: false,
    });
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.conn.apiKey ? { 'api-key': this.conn.apiKey } : {}), ...extra };
  }

  /** Maps client/fetch failures onto Lifeboat errors; AbortErrors and Lifeboat errors pass through. */
  translate(e: unknown, operation: string, collection?: string): unknown {
    if (e instanceof LifeboatError) return e;
    const err = e as { name?: string; status?: unknown; data?: unknown; statusText?: string; message?: string };
    if (err?.name === 'AbortError') return e;
    if (typeof err?.status === 'number') {
      const msg = serverMessage(err.data, err.statusText ?? '');
      const missing = /^Not found: Collection `(.*)` doesn't exist!$/s.exec(msg);
      if (err.status === 404 && missing) return new QdrantCollectionNotFoundError(this.url, collection ?? missing[1]);
      const sum =
        /(?:Snapshot checksum mismatch: expected (\w+), got (\w+))|(?:Checksum mismatch: expected (\w+), actual (\w+))/.exec(
          msg,
        );
      // Qdrant's upload handler prints the file's hash as "expected" and the given one as "actual".
      if (sum)
        return new QdrantChecksumMismatchError(
          `snapshot uploaded to ${collection ?? 'Qdrant'}`,
          sum[1] ?? sum[4],
          sum[2] ?? sum[3],
        );
      return new QdrantRequestError(operation, err.status, msg, this.url);
    }
    if (err?.name === 'QdrantClientTimeoutError' || err?.name === 'TimeoutError')
      return new QdrantRequestError(
        operation,
        408,
        `no answer within ${this.conn.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`,
        this.url,
      );
    if (
      err instanceof TypeError ||
      /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|socket/i.test(String(err?.message))
    )
      return new QdrantUnreachableError(this.url, e);
    return e;
  }

  /**
   * Runs one client call; on failure throws the translated error. An
   * idempotent call whose connection was dropped under it is sent again (up to
   * twice): a 100 MB fingerprint scroll otherwise failed the whole backup now
   * and then, as "unreachable", on a server that was up all along.
   */
  async call<T>(operation: string, fn: (c: QdrantClient) => Promise<T>, collection?: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(this.client);
      } catch (e) {
        if (attempt < 2 && IDEMPOTENT.has(operation) && droppedConnection(e)) continue;
        throw this.translate(e, operation, collection);
      }
    }
  }

  /** A raw request (streaming bodies); non-2xx answers become Lifeboat errors. */
  async fetch(
    operation: string,
    path: string,
    init: RequestInit & { duplex?: 'half' },
    collection?: string,
  ): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        ...init,
        headers: this.headers((init.headers as Record<string, string>) ?? {}),
      });
    } catch (e) {
      throw this.translate(e, operation, collection);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    throw this.translate({ status: res.status, data, statusText: res.statusText }, operation, collection);
  }

  /** GET / — also the reachability check. */
  async serverVersion(): Promise<string> {
    const v = await this.call('version check (GET /)', (c) => c.versionInfo());
    return String((v as { version?: unknown }).version ?? 'unknown');
  }
}

export const collectionPath = (name: string) => `/collections/${encodeURIComponent(name)}`;
