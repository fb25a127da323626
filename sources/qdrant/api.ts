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

  /** Runs one client call; on failure throws the translated error. */
  async call<T>(operation: string, fn: (c: QdrantClient) => Promise<T>, collection?: string): Promise<T> {
    try {
      return await fn(this.client);
    } catch (e) {
      throw this.translate(e, operation, collection);
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
