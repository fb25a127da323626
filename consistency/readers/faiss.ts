import type { FileHandle } from 'node:fs/promises';
import { FaissCorruptFileError } from '../../sources/faiss/errors';
import { FileCursor } from '../../sources/faiss/file-cursor';
import { openIndexFile, parseHeader } from '../../sources/faiss/header';
import { NULL_FOURCC } from '../../sources/faiss/fourcc';
import type { FaissHeader } from '../../sources/faiss/types';

/**
 * Reads a FAISS index file's ids and raw vectors for the consistency checks, straight from the bytes
 * faiss wrote (faiss/impl/index_write.cpp) — without faiss: every read is bounds-checked against the
 * file (FileCursor), so a damaged file gives FaissCorruptFileError, never a crash, and the worker
 * needs no child process for it (faiss-node is only ever loaded in the probe sandbox).
 *
 * Vectors are read from the types that store them raw: IndexFlat/FlatL2/FlatIP (IxF*),
 * IndexHNSWFlat (IHNf, its flat storage), IndexIVFFlat (IwFl, its inverted lists) and IndexIDMap/2
 * (IxMp/IxM2) around one of these. Other types (PQ, SQ, HNSW-PQ/SQ, …) keep codes, not vectors:
 * their ids are still read and their declared dimension checked, but no per-vector check is made.
 */

const FLAT = new Set(['IxF2', 'IxFI', 'IxFl']);
const IDMAP = new Set(['IxMp', 'IxM2']);
const MAX_VECTOR = 2 ** 40;

interface List {
  n: number;
  codes: number;
  ids: number;
}

interface Inner {
  header: FaissHeader;
  chain: string[];
  /** Raw float vectors: contiguous in storage order, or per inverted list. */
  vectors?: { kind: 'flat'; offset: number } | { kind: 'lists' };
  lists?: List[];
  /** Why no vectors can be read. */
  why?: string;
}

export interface FaissLayout {
  file: string;
  size: number;
  header: FaissHeader;
  /** Outer type first, e.g. ["IxMp", "IHNf", "IxF2"]. */
  chain: string[];
  d: number;
  ntotal: number;
  /** Where the ids come from. */
  ids: { kind: 'positions' } | { kind: 'idmap'; offset: number } | { kind: 'lists'; lists: List[] };
  vectors?: { kind: 'flat'; offset: number } | { kind: 'lists'; lists: List[] };
  /** Why vectors are not read (type without raw vectors), or how ids were read. */
  note?: string;
}

class Unsupported extends Error {}

async function vectorLen(cur: FileCursor, what: string, elem: number, skip = true): Promise<number> {
  const at = cur.pos;
  const n = await cur.u64(`${what} length`);
  if (n >= MAX_VECTOR) throw new FaissCorruptFileError(cur.path, 'inconsistent', `${what} claims ${n} elements`, at);
  if (skip) cur.skip(n * elem, what);
  return n;
}

async function walk(cur: FileCursor, role: string): Promise<Inner> {
  const peek = (await cur.bytes(4, `${role} type code`)).toString('latin1');
  cur.pos -= 4;
  if (peek === NULL_FOURCC) throw new Unsupported(`${role} is a "null" placeholder`);
  const h = await parseHeader(cur, role);
  const f = h.fourcc;
  if (h.binary) throw new Unsupported(`${h.indexType} is a binary index (bits, not float vectors)`);
  if (FLAT.has(f)) {
    const n = await vectorLen(cur, `${f} vectors`, 4, false);
    if (n !== h.ntotal * h.d)
      throw new FaissCorruptFileError(
        cur.path,
        'inconsistent',
        `${f} holds ${n} floats for ${h.ntotal} × ${h.d}`,
        cur.pos,
      );
    const offset = cur.pos;
    cur.skip(n * 4, `${f} vectors`);
    return { header: h, chain: [f], vectors: { kind: 'flat', offset } };
  }
  if (f === 'IHNf') {
    await vectorLen(cur, 'HNSW level probabilities', 8);
    await vectorLen(cur, 'HNSW neighbours per level', 4);
    await vectorLen(cur, 'HNSW levels', 4);
    await vectorLen(cur, 'HNSW offsets', 8);
    await vectorLen(cur, 'HNSW neighbours', 4);
    cur.skip(20, 'HNSW entry point, levels and search parameters');
    const storage = await walk(cur, `${f} storage`);
    return { ...storage, header: h, chain: [f, ...storage.chain] };
  }
  if (f === 'IwFl') {
    const nlist = await cur.u64('IVF nlist');
    await cur.u64('IVF nprobe');
    const q = await walk(cur, 'IVF coarse quantizer');
    const dmType = await cur.u8('IVF direct map type');
    await vectorLen(cur, 'IVF direct map', 8);
    if (dmType === 2) await vectorLen(cur, 'IVF direct map hashtable', 16);
    const kind = await cur.fourcc('inverted lists type');
    if (kind === 'il00') return { header: h, chain: [f, ...q.chain], vectors: { kind: 'lists' }, lists: [] };
    if (kind !== 'ilar') throw new Unsupported(`inverted lists of type ${JSON.stringify(kind)} (e.g. on disk)`);
    const n = await cur.u64('inverted lists nlist');
    const codeSize = await cur.u64('inverted lists code_size');
    if (n !== nlist || codeSize !== h.d * 4)
      throw new FaissCorruptFileError(
        cur.path,
        'inconsistent',
        `IVF-Flat lists (${n}, code size ${codeSize}) do not fit`,
        cur.pos,
      );
    const layout = await cur.fourcc('inverted lists layout');
    const count = await cur.u64('inverted list sizes length');
    const sizes = new Array<number>(nlist).fill(0);
    if (layout === 'full') {
      for (let i = 0; i < count; i++) sizes[i] = await cur.u64('inverted list size');
    } else if (layout === 'sprs') {
      for (let i = 0; i < count; i += 2) {
        const list = await cur.u64('sparse list number');
        const size = await cur.u64('sparse list size');
        if (list >= nlist)
          throw new FaissCorruptFileError(cur.path, 'inconsistent', `list ${list} beyond nlist`, cur.pos);
        sizes[list] = size;
      }
    } else throw new FaissCorruptFileError(cur.path, 'inconsistent', `inverted lists layout ${layout}`, cur.pos);
    const lists: List[] = [];
    for (const size of sizes) {
      if (!size) continue;
      const codes = cur.pos;
      cur.skip(size * codeSize, 'inverted list codes');
      const ids = cur.pos;
      cur.skip(size * 8, 'inverted list ids');
      lists.push({ n: size, codes, ids });
    }
    const total = lists.reduce((a, l) => a + l.n, 0);
    if (total !== h.ntotal)
      throw new FaissCorruptFileError(
        cur.path,
        'inconsistent',
        `inverted lists hold ${total} of ${h.ntotal} vectors`,
        cur.pos,
      );
    return { header: h, chain: [f, ...q.chain], vectors: { kind: 'lists' }, lists };
  }
  throw new Unsupported(`${h.indexType} (${f}) keeps encoded vectors, not raw ones`);
}

/** Finds where a file's ids and raw vectors are. `ids` is the link's mapping. */
export async function faissLayout(file: string, ids: 'positions' | 'idmap'): Promise<FaissLayout> {
  const fh = await openIndexFile(file);
  try {
    const { size } = await fh.stat();
    const cur = new FileCursor(fh, size, file);
    const top = await parseHeader(cur, 'index');
    cur.pos = 0;
    let inner: Inner | undefined;
    let why: string | undefined;
    let idmapOffset: number | undefined;
    if (IDMAP.has(top.fourcc)) {
      // The id map is the file's last vector: its place is known from ntotal, whatever the wrapped type.
      idmapOffset = size - 8 - top.ntotal * 8;
      const count = idmapOffset >= 0 ? (await readAt(fh, idmapOffset, 8)).readBigUInt64LE(0) : -1n;
      if (count !== BigInt(top.ntotal))
        throw new FaissCorruptFileError(
          file,
          'inconsistent',
          `${top.fourcc} id map does not hold ${top.ntotal} ids`,
          idmapOffset,
        );
      await parseHeader(cur, 'index');
    }
    try {
      inner = await walk(cur, IDMAP.has(top.fourcc) ? `${top.fourcc} wrapped index` : 'index');
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      why = e.message;
    }
    const chain = [...(IDMAP.has(top.fourcc) ? [top.fourcc] : []), ...(inner?.chain ?? [])];
    const base = { file, size, header: top, chain, d: top.d, ntotal: top.ntotal };
    const lists = inner?.lists;
    if (ids === 'idmap' && idmapOffset === undefined && !lists)
      throw new FaissIdMappingError(
        file,
        top,
        'keeps no id map (only IndexIDMap/IndexIDMap2 and IVF lists store ids); use ids: positions',
      );
    if (idmapOffset !== undefined && lists) {
      // The map's ids are indexed by the inner IVF labels: ids are readable, vectors not matched to them.
      return { ...base, ids: { kind: 'idmap', offset: idmapOffset }, note: 'IDMap around IVF: vectors not checked' };
    }
    const idSource: FaissLayout['ids'] =
      lists !== undefined
        ? { kind: 'lists', lists }
        : ids === 'idmap' && idmapOffset !== undefined
          ? { kind: 'idmap', offset: idmapOffset }
          : { kind: 'positions' };
    const vectors: FaissLayout['vectors'] =
      inner?.vectors?.kind === 'flat'
        ? inner.vectors
        : inner?.vectors?.kind === 'lists'
          ? { kind: 'lists', lists: lists! }
          : undefined;
    return {
      ...base,
      ids: idSource,
      ...(vectors ? { vectors } : {}),
      ...(why ? { note: `${why}: ids and the declared dimension checked, vectors not read` } : {}),
    };
  } finally {
    await fh.close();
  }
}

/** The link says `ids: idmap` but the file has none. */
export class FaissIdMappingError extends Error {
  constructor(
    readonly file: string,
    header: FaissHeader,
    detail: string,
  ) {
    super(`FAISS file ${file} is ${header.indexType} (${header.fourcc}), which ${detail}`);
  }
}

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const b = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(b, got, len - got, pos + got);
    if (bytesRead === 0)
      throw new FaissCorruptFileError('(index)', 'truncated', 'file ended early while reading', pos + got);
    got += bytesRead;
  }
  return b;
}

function floats(b: Buffer): Float32Array {
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function int64s(b: Buffer): string[] {
  const a = new BigInt64Array(b.length / 8);
  new Uint8Array(a.buffer).set(b);
  const out = new Array<string>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i].toString();
  return out;
}

export interface FaissBatch {
  ids: string[];
  /** ids.length × d floats, when the type keeps raw vectors and they were asked for. */
  vectors?: Float32Array;
}

/**
 * Every (id, vector) of the file in storage order, in batches of about 1 MiB of vectors. Ids are
 * decimal strings (positions or the stored int64 labels).
 */
export async function* faissEntries(
  layout: FaissLayout,
  opts: { vectors: boolean; signal?: AbortSignal },
): AsyncGenerator<FaissBatch> {
  const fh = await openIndexFile(layout.file);
  try {
    const { d, ntotal } = layout;
    const per = Math.max(1, Math.min(16_384, Math.floor((1 << 20) / (d * 4))));
    const want = opts.vectors && layout.vectors !== undefined;
    const spans: { n: number; ids: (from: number, k: number) => Promise<string[]>; vec?: number }[] = [];
    const ids = layout.ids;
    if (ids.kind === 'lists') {
      for (const l of ids.lists)
        spans.push({ n: l.n, ids: async (from, k) => int64s(await readAt(fh, l.ids + from * 8, k * 8)), vec: l.codes });
    } else {
      const idsAt =
        ids.kind === 'idmap'
          ? async (from: number, k: number) => int64s(await readAt(fh, ids.offset + 8 + from * 8, k * 8))
          : async (from: number, k: number) => Array.from({ length: k }, (_, j) => String(from + j));
      spans.push({ n: ntotal, ids: idsAt, vec: layout.vectors?.kind === 'flat' ? layout.vectors.offset : undefined });
    }
    for (const s of spans) {
      for (let from = 0; from < s.n; from += per) {
        opts.signal?.throwIfAborted();
        const k = Math.min(per, s.n - from);
        const batch: FaissBatch = { ids: await s.ids(from, k) };
        if (want && s.vec !== undefined) batch.vectors = floats(await readAt(fh, s.vec + from * d * 4, k * d * 4));
        yield batch;
      }
    }
  } finally {
    await fh.close();
  }
}
