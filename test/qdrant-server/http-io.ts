import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, jsonFormatError } from './api-error';

/** Qdrant's default `service.max_request_size_mb`. */
export const MAX_JSON_BODY = 32 * 1024 * 1024;

const seconds = (startedNs: bigint) => Number(process.hrtime.bigint() - startedNs) / 1e9;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** `{"result": …, "status": "ok", "time": …}` — Qdrant's ApiResponse envelope. */
export function sendResult(res: ServerResponse, startedNs: bigint, result: unknown): void {
  sendJson(res, 200, { result, status: 'ok', time: seconds(startedNs) });
}

/** 202 for `wait=false` operations: Qdrant omits `result` (None is skipped). */
export function sendAccepted(res: ServerResponse, startedNs: bigint): void {
  sendJson(res, 202, { status: 'accepted', time: seconds(startedNs) });
}

/** `{"status": {"error": "…"}, "time": …}` — Qdrant's error body. */
export function sendError(res: ServerResponse, startedNs: bigint, err: unknown): void {
  const apiErr =
    err instanceof ApiError
      ? err
      : new ApiError(500, `Service internal error: ${(err as Error)?.message ?? String(err)}`);
  if (res.headersSent) {
    res.destroy(apiErr);
    return;
  }
  sendJson(res, apiErr.status, { status: { error: apiErr.message }, time: seconds(startedNs) });
}

/** Plain body without envelope (GET / answers VersionInfo directly). */
export function sendRaw(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body);
}

/** Reads a JSON body (bounded); an empty body reads as `{}` like the client's optional bodies. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) throw new ApiError(413, `Payload too large: request body exceeds ${MAX_JSON_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw jsonFormatError((e as Error).message);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw jsonFormatError('invalid type: expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** Parses `?wait=true` style booleans the way serde_urlencoded does (only "true"/"false"). */
export function boolParam(url: URL, name: string, dflt: boolean): boolean {
  const v = url.searchParams.get(name);
  if (v === null) return dflt;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ApiError(400, `Query deserialize error: provided string was not \`true\` or \`false\` for \`${name}\``);
}
