import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { closeStream, writeChunk } from './collection-files';

/**
 * Minimal ustar writer/reader: Qdrant snapshots are tar archives, and so are
 * the stand-in's (config.json + points.ndjson), so `tar tf` can list them.
 */
const BLOCK = 512;

export interface TarEntrySource {
  name: string;
  /** A file to copy in (streamed), or literal bytes. */
  file?: string;
  data?: Buffer;
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.write(
    `${Math.floor(mtime / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
    'ascii',
  );
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** Writes a tar file and returns its size and sha256 (hashed while writing, no second pass). */
export async function writeTar(out: string, entries: TarEntrySource[]): Promise<{ size: number; sha256: string }> {
  const ws = createWriteStream(out);
  const hash = createHash('sha256');
  let size = 0;
  const put = async (b: Buffer) => {
    hash.update(b);
    size += b.length;
    await writeChunk(ws, b);
  };
  try {
    const now = Date.now();
    for (const e of entries) {
      const len = e.file ? (await fs.stat(e.file)).size : (e.data ?? Buffer.alloc(0)).length;
      await put(header(e.name, len, now));
      if (e.file) {
        for await (const chunk of createReadStream(e.file)) await put(chunk as Buffer);
      } else if (e.data) {
        await put(e.data);
      }
      if (len % BLOCK) await put(Buffer.alloc(BLOCK - (len % BLOCK)));
    }
    await put(Buffer.alloc(BLOCK * 2));
    await closeStream(ws);
  } catch (e) {
    ws.destroy();
    throw e;
  }
  return { size, sha256: hash.digest('hex') };
}

export interface TarEntry {
  name: string;
  /** Byte offset of the entry's content inside the archive. */
  offset: number;
  size: number;
}

/** Lists a tar's regular-file entries; throws on anything that is not a well-formed ustar archive. */
export async function listTar(file: string): Promise<TarEntry[]> {
  const fh = await fs.open(file, 'r');
  try {
    const total = (await fh.stat()).size;
    const out: TarEntry[] = [];
    let pos = 0;
    const h = Buffer.alloc(BLOCK);
    while (pos + BLOCK <= total) {
      await fh.read(h, 0, BLOCK, pos);
      if (h.every((b) => b === 0)) return out;
      const stored = parseInt(h.toString('ascii', 148, 156).replace(/\0.*$/, '').trim(), 8);
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
      if (!Number.isFinite(stored) || stored !== sum) throw new Error(`bad tar header checksum at byte ${pos}`);
      const name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
      const size = parseInt(h.toString('ascii', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
      const type = String.fromCharCode(h[156]);
      if (pos + BLOCK + size > total) throw new Error(`tar entry ${name} is truncated`);
      if (type === '0' || type === '\0') out.push({ name, offset: pos + BLOCK, size });
      pos += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
    throw new Error('tar archive has no end-of-archive marker (truncated?)');
  } finally {
    await fh.close();
  }
}
