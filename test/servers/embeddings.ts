/**
 * A deterministic, OpenAI-compatible embedding server for tests: POST /v1/embeddings {model, input}
 * → {object: 'list', data: [{object: 'embedding', index, embedding}], model, usage}. The vector of a
 * text is a pure function of the text and the dimension (sha256-seeded, unit length), so a test can
 * build a reference index with embedFor(). It can be told to answer 429 (with Retry-After) or 500
 * for the next N requests, to be slow, or to use another dimension; it counts requests per input.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmbeddingServerBehaviour {
  /** Answer this many next requests with 429 (Retry-After: retryAfter seconds). */
  fail429?: number;
  retryAfter?: number;
  /** Answer this many next requests with 500. */
  fail500?: number;
  /** Wait this long before each answer. */
  delayMs?: number;
  dimension?: number;
  /** Hold every request (unanswered, uncounted) until set back to false. */
  hold?: boolean;
  /** Require `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
}

export interface EmbeddingServer {
  url: string;
  /** Successful embeddings per input text. */
  counts: Map<string, number>;
  requests: { ok: number; throttled: number; failed: number };
  /** Requests waiting while `hold` is on. */
  held(): number;
  set(b: EmbeddingServerBehaviour): void;
  close(): Promise<void>;
}

/** The vector the server returns for `text` (for reference indexes). */
export function embedFor(text: string, dimension: number): number[] {
  const out: number[] = [];
  let block = 0;
  while (out.length < dimension) {
    const h = createHash('sha256').update(`${block++}:${text}`).digest();
    for (let i = 0; i + 4 <= h.length && out.length < dimension; i += 4) out.push(h.readInt32LE(i) / 2 ** 31);
  }
  const norm = Math.hypot(...out) || 1;
  // Rounded through float32, as the stores keep them.
  return out.map((x) => Math.fround(x / norm));
}

export async function startEmbeddingServer(initial: EmbeddingServerBehaviour = {}): Promise<EmbeddingServer> {
  const b: Required<Omit<EmbeddingServerBehaviour, 'apiKey'>> & { apiKey?: string } = {
    hold: false,
    fail429: 0,
    retryAfter: 0,
    fail500: 0,
    delayMs: 0,
    dimension: 32,
    ...initial,
  };
  const counts = new Map<string, number>();
  const requests = { ok: 0, throttled: 0, failed: 0 };
  let waiting: (() => void)[] = [];
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void (async () => {
        if (b.hold) await new Promise<void>((r) => waiting.push(r));
        if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
        // The client went away (a killed worker): it never gets this answer, so nothing is counted.
        if (res.destroyed || !res.socket || res.socket.destroyed) return;
        if (req.method !== 'POST' || req.url !== '/v1/embeddings')
          return send(res, 404, {
            error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' },
          });
        if (b.apiKey && req.headers.authorization !== `Bearer ${b.apiKey}`)
          return send(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
        if (b.fail429 > 0) {
          b.fail429--;
          requests.throttled++;
          return send(
            res,
            429,
            { error: { message: 'Rate limit reached', type: 'requests' } },
            { 'retry-after': String(b.retryAfter) },
          );
        }
        if (b.fail500 > 0) {
          b.fail500--;
          requests.failed++;
          return send(res, 500, { error: { message: 'The server had an error', type: 'server_error' } });
        }
        let body: { model?: unknown; input?: unknown };
        try {
          body = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof body;
        } catch {
          return send(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
        }
        const input = typeof body.input === 'string' ? [body.input] : body.input;
        if (typeof body.model !== 'string' || !Array.isArray(input) || !input.every((x) => typeof x === 'string'))
          return send(res, 400, {
            error: { message: "'model' and 'input' (a list of strings) are required", type: 'invalid_request_error' },
          });
        requests.ok++;
        for (const t of input as string[]) counts.set(t, (counts.get(t) ?? 0) + 1);
        send(res, 200, {
          object: 'list',
          model: body.model,
          data: (input as string[]).map((t, index) => ({
            object: 'embedding',
            index,
            embedding: embedFor(t, b.dimension),
          })),
          usage: { prompt_tokens: 0, total_tokens: 0 },
        });
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    counts,
    requests,
    held: () => waiting.length,
    set: (x) => {
      Object.assign(b, x);
      if (!b.hold) {
        const go = waiting;
        waiting = [];
        for (const r of go) r();
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
