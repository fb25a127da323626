/**
 * The codec server the Temporal UI and `temporal` CLI call to show encrypted payloads in clear
 * (https://docs.temporal.io/production-deployment/data-encryption): POST /encode and /decode with
 * `{ payloads: [{ metadata: { k: base64 }, data: base64 }] }`, answered in the same shape.
 *
 * CORS: the UI runs in the operator's browser on another origin, so a preflight (OPTIONS) is
 * answered for the configured origins only, with the headers the UI sends (X-Namespace,
 * Content-Type, Authorization) and credentials allowed. With a token configured every request must
 * carry `Authorization: Bearer <token>` (compared in constant time); without one, bind to loopback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';

/** Request bodies bigger than this are refused (a history page of payloads is far smaller). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed by CORS, e.g. http://localhost:8233. */
  origins: readonly string[];
  /** Required bearer token. @default none */
  token?: string;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
  ),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {})
      .filter((e): e is [string, Uint8Array] => e[1] != null)
      .map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > MAX_BODY_BYTES)
      throw Object.assign(new Error(`request body over ${MAX_BODY_BYTES} bytes`), { status: 413 });
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

export function createCodecServer(opts: CodecServerOptions): Server {
  const allowed = new Set(opts.origins);
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  return createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      if (!origin || !allowed.has(origin))
        return send(res, 403, { error: `origin ${origin ?? '(none)'} is not allowed` });
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Max-Age': '600',
      });
      return res.end();
    }
    const route = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
    if (req.method !== 'POST' || (route !== '/encode' && route !== '/decode'))
      return send(res, 404, { error: 'POST /encode or /decode' });
    if (opts.token !== undefined) {
      const got = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (!timingSafeEqual(digest(got), digest(opts.token)))
        return send(res, 401, { error: 'missing or wrong bearer token (Authorization: Bearer <token>)' });
    }
    void (async () => {
      try {
        const body = JSON.parse((await readBody(req)).toString('utf8')) as { payloads?: JsonPayload[] };
        if (!Array.isArray(body.payloads)) return send(res, 400, { error: 'body must be { "payloads": [...] }' });
        const payloads = body.payloads.map(fromJson);
        const out = route === '/encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
        send(res, 200, { payloads: out.map(toJson) });
      } catch (e) {
        const status = (e as { status?: number }).status ?? (e instanceof SyntaxError ? 400 : 422);
        // The codec's messages name key ids and never key bytes or payload contents.
        send(res, status, { error: (e as Error).message });
      }
    })();
  });
}
