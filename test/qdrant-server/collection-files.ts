import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Collection, type StoredPoint } from './collection';
import type { StoredConfig } from './collection-config';

/**
 * On-disk layout of one collection:
 *   config.json    {"name", "config", "opId"}
 *   points.ndjson  one StoredPoint per line (compacted state)
 *   wal.ndjson     upserts appended since the last compaction, replayed at start
 */
export const CONFIG_FILE = 'config.json';
export const POINTS_FILE = 'points.ndjson';
export const WAL_FILE = 'wal.ndjson';

export interface CollectionMeta {
  name: string;
  config: StoredConfig;
  opId: number;
}

/** Splits a byte stream into lines without holding more than one line plus one chunk. */
export async function* readLines(stream: Readable): AsyncGenerator<string> {
  let rest = '';
  // A multi-byte character may straddle two chunks.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of stream) {
    const text = rest + decoder.write(chunk as Buffer);
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l) yield l;
  }
  rest += decoder.end();
  if (rest) yield rest;
}

/** Writes with backpressure. */
export async function writeChunk(ws: NodeJS.WritableStream, data: string | Buffer): Promise<void> {
  if (!ws.write(data)) await once(ws as unknown as NodeJS.EventEmitter, 'drain');
}

export async function closeStream(ws: NodeJS.WritableStream & { close?: unknown }): Promise<void> {
  const done = once(ws as unknown as NodeJS.EventEmitter, 'finish');
  ws.end();
  await done;
}

/** Streams every point, id-ordered, as NDJSON lines into a file. */
export async function writePointsFile(file: string, points: StoredPoint[]): Promise<void> {
  const ws = createWriteStream(file);
  try {
    let buf = '';
    for (const p of points) {
      buf += `${JSON.stringify({ id: p.id, vectors: p.vectors, payload: p.payload, version: p.version })}\n`;
      if (buf.length > 1 << 16) {
        await writeChunk(ws, buf);
        buf = '';
      }
    }
    if (buf) await writeChunk(ws, buf);
    await closeStream(ws);
  } catch (e) {
    ws.destroy();
    throw e;
  }
}

/** Writes a complete collection directory (used for create, compaction and recovery). */
export async function writeCollectionDir(dir: string, col: Collection): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writePointsFile(path.join(dir, POINTS_FILE), col.sorted());
  await fs.writeFile(path.join(dir, WAL_FILE), '');
  const meta: CollectionMeta = { name: col.name, config: col.config, opId: col.opId };
  await fs.writeFile(path.join(dir, CONFIG_FILE), JSON.stringify(meta));
}

/** Loads a collection: compacted points, then the WAL; a torn last WAL line (crash mid-append) is dropped. */
export async function loadCollectionDir(dir: string): Promise<Collection> {
  const meta = JSON.parse(await fs.readFile(path.join(dir, CONFIG_FILE), 'utf8')) as CollectionMeta;
  const col = new Collection(meta.name, meta.config);
  col.opId = meta.opId;
  for await (const line of readLines(createReadStream(path.join(dir, POINTS_FILE))))
    col.load(JSON.parse(line) as StoredPoint);
  let walLines: string[] = [];
  try {
    walLines = (await fs.readFile(path.join(dir, WAL_FILE), 'utf8')).split('\n').filter(Boolean);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const [i, line] of walLines.entries()) {
    let op: { op: 'upsert'; opId: number; points: StoredPoint[] };
    try {
      op = JSON.parse(line);
    } catch (e) {
      if (i === walLines.length - 1) break;
      throw e;
    }
    col.upsert(op.points, op.opId);
  }
  return col;
}

/** Appends WAL records one at a time, in order, fsynced before the caller answers. */
export class WalWriter {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  append(record: unknown): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const run = this.tail.then(async () => {
      const fh = await fs.open(this.file, 'a');
      try {
        await fh.appendFile(line);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every append issued so far is on disk. */
  drain(): Promise<void> {
    return this.tail;
  }
}
