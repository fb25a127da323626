import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError, badInput, badRequest, notFound } from './api-error';
import { Collection, type StoredPoint } from './collection';
import { vectorsOutput, type StoredConfig } from './collection-config';
import { readLines, writePointsFile } from './collection-files';
import type { Storage } from './storage';
import { listTar, writeTar } from './tar';

/** config.json inside a stand-in snapshot archive. */
interface SnapshotManifest {
  format: 'lifeboat-qdrant-stand-in-snapshot';
  version: 1;
  collection: string;
  config: StoredConfig;
  opId: number;
}

export interface SnapshotDescription {
  name: string;
  creation_time: string | null;
  size: number;
  checksum: string | null;
}

const SNAPSHOT_NAME_OK = /^[^/\\\0]+$/;

function checkSnapshotName(name: string): void {
  if (!SNAPSHOT_NAME_OK.test(name) || name === '.' || name === '..') throw badRequest(`Invalid snapshot name: ${name}`);
}

const stamp = (d: Date) => d.toISOString().slice(0, 19).replace('T', '-').replace(/:/g, '-');

/** Creates `<collection>-<peer>-<YYYY-MM-DD-HH-MM-SS>.snapshot` (a tar) and its `.checksum` file. */
export async function createSnapshot(storage: Storage, name: string): Promise<SnapshotDescription> {
  // Points are immutable objects: holding the sorted array is a consistent view while writes go on.
  const { col, points, opId, config } = await storage.lock.run(async () => {
    const col = storage.resolve(name);
    return { col, points: col.sorted(), opId: col.opId, config: col.config };
  });
  const dir = storage.snapshotDir(col.name);
  await fs.mkdir(dir, { recursive: true });
  const now = new Date();
  let snapName = `${col.name}-${storage.peerId}-${stamp(now)}.snapshot`;
  for (let n = 1; await exists(path.join(dir, snapName)); n++)
    snapName = `${col.name}-${storage.peerId}-${stamp(now)}-${n}.snapshot`;
  const pointsTmp = storage.tmpPath('snapshot-points');
  const tarTmp = path.join(dir, `.${snapName}.tmp`);
  try {
    await writePointsFile(pointsTmp, points);
    const manifest: SnapshotManifest = {
      format: 'lifeboat-qdrant-stand-in-snapshot',
      version: 1,
      collection: col.name,
      config,
      opId,
    };
    const { size, sha256 } = await writeTar(tarTmp, [
      { name: 'config.json', data: Buffer.from(JSON.stringify(manifest)) },
      { name: 'points.ndjson', file: pointsTmp },
    ]);
    await fs.rename(tarTmp, path.join(dir, snapName));
    await fs.writeFile(path.join(dir, `${snapName}.checksum`), sha256);
    return { name: snapName, creation_time: now.toISOString().slice(0, 19), size, checksum: sha256 };
  } finally {
    await fs.rm(pointsTmp, { force: true });
    await fs.rm(tarTmp, { force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

export async function listSnapshots(storage: Storage, name: string): Promise<SnapshotDescription[]> {
  const col = storage.resolve(name);
  const dir = storage.snapshotDir(col.name);
  let names: string[] = [];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const out: SnapshotDescription[] = [];
  for (const n of names.sort()) {
    if (n.startsWith('.') || n.endsWith('.checksum')) continue;
    const st = await fs.stat(path.join(dir, n));
    const checksum = await fs.readFile(path.join(dir, `${n}.checksum`), 'utf8').then(
      (s) => s.trim(),
      () => null,
    );
    out.push({ name: n, creation_time: st.mtime.toISOString().slice(0, 19), size: st.size, checksum });
  }
  return out;
}

/** Path of an existing snapshot file, or Qdrant's 404. */
export async function snapshotFile(storage: Storage, name: string, snapshot: string): Promise<string> {
  const col = storage.resolve(name);
  checkSnapshotName(snapshot);
  const file = path.join(storage.snapshotDir(col.name), snapshot);
  if (snapshot.startsWith('.') || !(await exists(file))) throw notFound(`Snapshot file \`${snapshot}\` does not exist`);
  return file;
}

export async function deleteSnapshot(storage: Storage, name: string, snapshot: string): Promise<boolean> {
  const file = await snapshotFile(storage, name, snapshot);
  await fs.rm(file);
  await fs.rm(`${file}.checksum`, { force: true });
  return true;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Recovers collection `name` from a snapshot archive. An existing collection
 * keeps its config and must have the same vectors (Qdrant's compatibility
 * check); a missing one is created from the snapshot's config.
 */
export async function recoverFromFile(storage: Storage, name: string, file: string): Promise<boolean> {
  let entries;
  try {
    entries = await listTar(file);
  } catch (e) {
    throw badInput(`Snapshot is not a valid collection snapshot: ${(e as Error).message}`);
  }
  const cfgEntry = entries.find((e) => e.name === 'config.json');
  const ptsEntry = entries.find((e) => e.name === 'points.ndjson');
  if (!cfgEntry || !ptsEntry)
    throw badInput('Snapshot is not a valid collection snapshot: config.json or points.ndjson is missing');
  const fh = await fs.open(file, 'r');
  let manifest: SnapshotManifest;
  try {
    const buf = Buffer.alloc(cfgEntry.size);
    await fh.read(buf, 0, cfgEntry.size, cfgEntry.offset);
    manifest = JSON.parse(buf.toString('utf8')) as SnapshotManifest;
  } catch (e) {
    throw badInput(`Snapshot is not a valid collection snapshot: bad config.json (${(e as Error).message})`);
  } finally {
    await fh.close();
  }
  if (manifest.format !== 'lifeboat-qdrant-stand-in-snapshot')
    throw badInput('Snapshot is not a valid collection snapshot: unknown format');
  return storage.lock.run(async () => {
    const existing = storage.tryResolve(name);
    if (existing) {
      const have = JSON.stringify(vectorsOutput(existing.config));
      const got = JSON.stringify(vectorsOutput(manifest.config));
      if (have !== got)
        throw badInput(
          `Snapshot is not compatible with existing collection: Collection vectors: ${have} Snapshot Vectors: ${got}`,
        );
    }
    const col = new Collection(existing?.name ?? name, existing?.config ?? manifest.config);
    const stream = createReadStream(file, { start: ptsEntry.offset, end: ptsEntry.offset + ptsEntry.size - 1 });
    for await (const line of readLines(stream)) col.load(JSON.parse(line) as StoredPoint);
    col.opId = Math.max(col.opId, manifest.opId, existing?.opId ?? 0);
    await storage.replaceCollection(col);
    return true;
  });
}

/** Fetches a `location` (file:// or http(s)://) to a local path; the caller removes `temp` if set. */
export async function fetchLocation(storage: Storage, location: string): Promise<{ file: string; temp?: string }> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new ApiError(422, `Validation error in JSON body: [location: invalid URL ${location}]`);
  }
  if (url.protocol === 'file:') {
    const file = fileURLToPath(url);
    if (!(await exists(file))) throw badRequest(`Snapshot file ${JSON.stringify(file)} does not exist`);
    return { file };
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const temp = storage.tmpPath('download');
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new ApiError(500, `Service internal error: Http request error: ${(e as Error).message}`);
    }
    if (!res.ok || !res.body) throw badRequest(`Failed to download snapshot from ${location}: status ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(temp));
    return { file: temp, temp };
  }
  throw badRequest(`URL ${location} with scheme ${url.protocol.replace(':', '')} is not supported`);
}
