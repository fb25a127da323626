import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { ApiError, jsonFormatError, notFound } from './api-error';
import { boolParam, readJson, sendAccepted, sendError, sendRaw, sendResult } from './http-io';
import { parsePathPointId } from './point-ids';
import { saveMultipartField } from './multipart';
import {
  createSnapshot,
  deleteSnapshot,
  fetchLocation,
  listSnapshots,
  recoverFromFile,
  sha256File,
  snapshotFile,
} from './snapshots';
import { validateCollectionName, type Storage } from './storage';

/** Reported by GET /; within one minor version of @qdrant/js-client-rest 1.18 so it does not warn. */
export const STAND_IN_VERSION = '1.19.0';

const PRIORITIES = ['no_sync', 'snapshot', 'replica'];
const SHA256_RE = /^[0-9a-fA-F]{64}$/;

export interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  started: bigint;
  storage: Storage;
}

/** Runs `work` and answers 200 with its result, or 202 at once when `wait` is false (Qdrant's time_or_accept). */
async function timeOrAccept(r: Request, wait: boolean, work: () => Promise<unknown>): Promise<void> {
  if (wait) return sendResult(r.res, r.started, await work());
  work().catch((e) => console.error(`qdrant stand-in: background operation failed: ${(e as Error).message}`));
  sendAccepted(r.res, r.started);
}

function snapshotQuery(url: URL): { priority?: string; checksum?: string } {
  const priority = url.searchParams.get('priority') ?? undefined;
  if (priority !== undefined && !PRIORITIES.includes(priority)) {
    throw new ApiError(
      400,
      `Query deserialize error: unknown variant \`${priority}\`, expected one of \`no_sync\`, \`snapshot\`, \`replica\``,
    );
  }
  const checksum = url.searchParams.get('checksum') ?? undefined;
  if (checksum !== undefined && !SHA256_RE.test(checksum))
    throw new ApiError(422, `Validation error in query params: [checksum: invalid SHA256 hash ${checksum}]`);
  return { priority, checksum };
}

async function uploadSnapshot(r: Request, name: string): Promise<void> {
  validateCollectionName(name);
  const { checksum } = snapshotQuery(r.url);
  const wait = boolParam(r.url, 'wait', true);
  const temp = r.storage.tmpPath('upload');
  let upload;
  try {
    upload = await saveMultipartField(r.req, 'snapshot', temp);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw e;
  }
  const work = async () => {
    try {
      // Same argument order as Qdrant's upload handler: "expected" is the file's hash, "actual" the given one.
      if (checksum && upload.sha256.toLowerCase() !== checksum.toLowerCase()) {
        throw new ApiError(400, `Checksum mismatch: expected ${upload.sha256}, actual ${checksum}`);
      }
      // Qdrant keeps the upload in the collection's snapshot folder under its (sanitised) file name.
      const col = r.storage.tryResolve(name);
      const dir = r.storage.snapshotDir(col?.name ?? name);
      await fs.mkdir(dir, { recursive: true });
      const base = path.basename(upload.filename || '') || randomUUID();
      const kept = path.join(dir, base.startsWith('.') ? `upload-${base}` : base);
      await fs.rename(temp, kept);
      return await recoverFromFile(r.storage, name, kept);
    } finally {
      await fs.rm(temp, { force: true });
    }
  };
  await timeOrAccept(r, wait, work);
}

async function recoverSnapshot(r: Request, name: string): Promise<void> {
  validateCollectionName(name);
  const wait = boolParam(r.url, 'wait', true);
  const body = await readJson(r.req);
  if (typeof body.location !== 'string') throw jsonFormatError('missing field `location`');
  if (body.priority != null && !PRIORITIES.includes(String(body.priority)))
    throw jsonFormatError(`unknown variant \`${String(body.priority)}\``);
  const checksum = body.checksum == null ? undefined : String(body.checksum);
  const location = body.location;
  await timeOrAccept(r, wait, async () => {
    const { file, temp } = await fetchLocation(r.storage, location);
    try {
      if (checksum) {
        const actual = await sha256File(file);
        if (actual.toLowerCase() !== checksum.toLowerCase())
          throw new ApiError(400, `Wrong input: Snapshot checksum mismatch: expected ${checksum}, got ${actual}`);
      }
      return await recoverFromFile(r.storage, name, file);
    } finally {
      if (temp) await fs.rm(temp, { force: true });
    }
  });
}

async function downloadSnapshot(r: Request, name: string, snapshot: string): Promise<void> {
  const file = await snapshotFile(r.storage, name, snapshot);
  const st = await fs.stat(file);
  r.res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': st.size,
    'content-disposition': `attachment; filename="${snapshot}"`,
  });
  await pipeline(createReadStream(file), r.res);
}

/** Dispatches one request. Paths, methods and defaults follow openapi-1.19.json. */
export async function route(r: Request): Promise<void> {
  const { req, url, storage, res, started } = r;
  const method = req.method ?? 'GET';
  let seg: string[];
  try {
    seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new ApiError(400, `Bad request: malformed path ${url.pathname}`);
  }
  const ok = (result: unknown) => sendResult(res, started, result);
  const top = `${method} /${seg.join('/')}`;

  if (seg.length === 0 && method === 'GET')
    return sendRaw(res, 200, {
      title: 'qdrant - vector search engine',
      version: STAND_IN_VERSION,
      commit: 'lifeboat-stand-in',
    });
  if (seg.length === 1 && ['healthz', 'livez', 'readyz'].includes(seg[0]) && method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return void res.end(`${seg[0]} check passed`);
  }
  if (top === 'GET /collections')
    return ok({ collections: [...storage.collections.keys()].sort().map((name) => ({ name })) });
  if (top === 'GET /aliases') return ok(storage.listAliases());
  if (method === 'POST' && seg.length === 2 && seg[0] === 'collections' && seg[1] === 'aliases')
    return ok(await storage.updateAliases(await readJson(req)));
  if (seg[0] !== 'collections' || seg.length < 2) throw notFound404();

  const name = seg[1];
  const rest = seg.slice(2);
  const sub = `${method} ${rest.join('/')}`;
  switch (true) {
    case sub === 'GET ':
      return ok(storage.resolve(name).info());
    case sub === 'PUT ':
      return ok(await storage.createCollection(name, await readJson(req)));
    case sub === 'DELETE ':
      return ok(await storage.deleteCollection(name));
    case sub === 'GET exists':
      return ok({ exists: storage.tryResolve(name) !== undefined });
    case sub === 'GET aliases':
      return ok(storage.listAliases(storage.resolve(name).name));
    case sub === 'PUT points': {
      const wait = boolParam(url, 'wait', false);
      const opId = await storage.upsert(name, await readJson(req));
      return ok({ operation_id: opId, status: wait ? 'completed' : 'acknowledged' });
    }
    case sub === 'POST points':
      return ok(storage.resolve(name).retrieve(await readJson(req)));
    case method === 'GET' && rest.length === 2 && rest[0] === 'points': {
      const point = storage.resolve(name).getPoint(parsePathPointId(rest[1]));
      if (!point) throw notFound(`No point with id ${rest[1]} found`);
      return ok(point);
    }
    case sub === 'POST points/scroll':
      return ok(storage.resolve(name).scroll(await readJson(req)));
    case sub === 'POST points/count':
      return ok(storage.resolve(name).count(await readJson(req)));
    case sub === 'POST points/query':
      return ok(storage.resolve(name).query(await readJson(req)));
    case sub === 'GET snapshots':
      return ok(await listSnapshots(storage, name));
    case sub === 'POST snapshots':
      storage.resolve(name);
      return timeOrAccept(r, boolParam(url, 'wait', true), () => createSnapshot(storage, name));
    case sub === 'POST snapshots/upload':
      return uploadSnapshot(r, name);
    case sub === 'PUT snapshots/recover':
      return recoverSnapshot(r, name);
    case method === 'GET' && rest.length === 2 && rest[0] === 'snapshots':
      return downloadSnapshot(r, name, rest[1]);
    case method === 'DELETE' && rest.length === 2 && rest[0] === 'snapshots':
      return timeOrAccept(r, boolParam(url, 'wait', true), () => deleteSnapshot(storage, name, rest[1]));
  }
  throw notFound404();
}

/** actix answers unknown routes with an empty 404. */
class NotFoundRoute extends ApiError {}
const notFound404 = () => new NotFoundRoute(404, '');

export function handleError(r: Request, e: unknown): void {
  if (e instanceof NotFoundRoute) {
    r.res.writeHead(404).end();
    return;
  }
  if (!(e instanceof ApiError)) console.error(`qdrant stand-in: ${(e as Error)?.stack ?? e}`);
  sendError(r.res, r.started, e);
}
