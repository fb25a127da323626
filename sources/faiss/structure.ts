import type { FileHandle } from 'node:fs/promises';
import { FaissCorruptFileError } from './errors';
import { FileCursor } from './file-cursor';
import { openIndexFile, parseHeader } from './header';
import { NULL_FOURCC } from './fourcc';
import type { FaissHeader, FaissInspection } from './types';

/**
 * Walks the whole layout of an index file as faiss 1.7 writes it
 * (faiss/impl/index_write.cpp) without loading it: every vector's length
 * prefix is read and its payload skipped, counts are checked against the
 * header (ntotal × d floats for Flat, list sizes summing to ntotal for IVF,
 * levels/offsets/neighbours for HNSW, one id per vector for IDMap), HNSW
 * neighbour ids are checked to be in range, and the file must end exactly
 * where the layout does. This catches truncation and the corruptions that
 * make faiss crash, before anything loads the file.
 *
 * Walked: Flat (IxF2/IxFI/IxFl), IVF-Flat (IwFl), IVF-SQ (IwSq), IVF-PQ
 * (IwPQ), SQ (IxSQ), PQ (IxPq), HNSW (IHNf/IHNs/IHNp), IDMap (IxMp/IxM2).
 * Other known types get their header checked and `checked: false`.
 */
export async function inspectFaissFile(path: string): Promise<FaissInspection> {
  const fh = await openIndexFile(path);
  try {
    return await inspectOpenFile(fh, path);
  } finally {
    await fh.close();
  }
}

/** Same as inspectFaissFile on an already open handle (so a backup checks the very inode it streams). */
export async function inspectOpenFile(fh: FileHandle, path: string): Promise<FaissInspection> {
  const { size } = await fh.stat();
  const cur = new FileCursor(fh, size, path);
  const walker = new Walker(cur);
  const top = await walker.index('index');
  if (!top)
    throw new FaissCorruptFileError(path, 'unknown-type', 'the file holds a "null" index placeholder, not an index', 0);
  if (walker.unchecked === undefined && cur.remaining !== 0) {
    throw new FaissCorruptFileError(
      path,
      'inconsistent',
      `${cur.remaining} unexpected bytes after the end of the ${top.fourcc} index`,
      cur.pos,
    );
  }
  return {
    header: top,
    size,
    structure: {
      checked: walker.unchecked === undefined,
      chain: walker.chain,
      ...(walker.unchecked !== undefined ? { uncheckedReason: walker.unchecked } : {}),
    },
  };
}

/** Max elements faiss accepts in one serialized vector (READVECTOR). */
const MAX_VECTOR = 2 ** 40;

class Walker {
  chain: string[] = [];
  unchecked?: string;

  constructor(private readonly cur: FileCursor) {}

  private bad(detail: string, at = this.cur.pos): never {
    throw new FaissCorruptFileError(this.cur.path, 'inconsistent', detail, at);
  }

  /** A serialized std::vector: size_t count, then count elements; returns the count, payload skipped. */
  private async vector(elem: number, what: string, expectCount?: number): Promise<number> {
    const at = this.cur.pos;
    const n = await this.cur.u64(`${what} length`);
    if (n >= MAX_VECTOR) this.bad(`${what} claims ${n} elements`, at);
    if (expectCount !== undefined && n !== expectCount)
      this.bad(`${what} has ${n} elements where ${expectCount} were expected`, at);
    this.cur.skip(n * elem, `${what} (${n} elements of ${elem} bytes)`);
    return n;
  }

  /** Walks one (possibly nested) index; null for the "null" placeholder. */
  async index(role: string): Promise<FaissHeader | null> {
    const cur = this.cur;
    if (cur.remaining >= 4) {
      const peek = (await cur.bytes(4, `${role} type code`)).toString('latin1');
      cur.pos -= 4;
      if (peek === NULL_FOURCC) {
        cur.pos += 4;
        this.chain.push(NULL_FOURCC);
        return null;
      }
    }
    const h = await parseHeader(cur, role);
    this.chain.push(h.fourcc);
    const f = h.fourcc;
    if (h.binary) {
      if (f === 'IBxF') {
        // write_index_binary IBxF: header, then WRITEVECTOR(xb) of ntotal × code_size bytes.
        await this.vector(1, 'IBxF codes', h.ntotal * h.binary.codeSize);
      } else {
        this.unchecked = `the layout of ${h.indexType} (${f}) is not walked by Lifeboat; only its binary header was checked`;
      }
      return h;
    }
    if (f === 'IxF2' || f === 'IxFI' || f === 'IxFl') {
      // WRITEXBVECTOR: the count is in float units (codes.size() / 4).
      await this.vector(4, `${f} vectors`, h.ntotal * h.d);
    } else if (f === 'IxSQ') {
      const codeSize = await this.scalarQuantizer(h);
      await this.vector(1, 'SQ codes', h.ntotal * codeSize);
    } else if (f === 'IxPq') {
      const codeSize = await this.productQuantizer(h);
      await this.vector(1, 'PQ codes', h.ntotal * codeSize);
      cur.skip(4 + 1 + 4, 'PQ search parameters');
    } else if (f === 'IwFl') {
      const nlist = await this.ivfHeader(h);
      await this.invertedLists(h, nlist, h.d * 4);
    } else if (f === 'IwSq') {
      const nlist = await this.ivfHeader(h);
      const sqCodeSize = await this.scalarQuantizer(h);
      const codeSize = await cur.u64('IVF-SQ code_size');
      if (codeSize !== sqCodeSize) this.bad(`IVF-SQ code size ${codeSize} differs from its quantizer's ${sqCodeSize}`);
      cur.skip(1, 'IVF-SQ by_residual');
      await this.invertedLists(h, nlist, codeSize);
    } else if (f === 'IwPQ') {
      const nlist = await this.ivfHeader(h);
      cur.skip(1, 'IVF-PQ by_residual');
      const codeSize = await cur.u64('IVF-PQ code_size');
      const pqCodeSize = await this.productQuantizer(h);
      if (codeSize !== pqCodeSize) this.bad(`IVF-PQ code size ${codeSize} differs from its quantizer's ${pqCodeSize}`);
      await this.invertedLists(h, nlist, codeSize);
    } else if (f === 'IHNf' || f === 'IHNs' || f === 'IHNp') {
      await this.hnsw(h);
      if (this.unchecked !== undefined) return h;
      const storage = await this.index(`${f} storage`);
      if (storage) this.sameShape(h, storage, 'storage');
    } else if (f === 'IxMp' || f === 'IxM2') {
      const inner = await this.index(`${f} wrapped index`);
      if (this.unchecked !== undefined) return h;
      if (!inner) this.bad(`${f} wraps no index`);
      this.sameShape(h, inner, 'wrapped index');
      await this.vector(8, `${f} id map`, h.ntotal);
    } else {
      this.unchecked = `the layout of ${h.indexType} (${f}) is not walked by Lifeboat; only its header was checked`;
    }
    return h;
  }

  private sameShape(outer: FaissHeader, inner: FaissHeader, what: string): void {
    if (inner.d !== outer.d)
      this.bad(`${outer.fourcc} has dimension ${outer.d} but its ${what} ${inner.fourcc} has ${inner.d}`);
    if (inner.ntotal !== outer.ntotal)
      this.bad(`${outer.fourcc} holds ${outer.ntotal} vectors but its ${what} ${inner.fourcc} holds ${inner.ntotal}`);
  }

  /** write_ScalarQuantizer: qtype, rangestat, rangestat_arg, d, code_size, trained floats. */
  private async scalarQuantizer(h: FaissHeader): Promise<number> {
    this.cur.skip(4 + 4 + 4, 'scalar quantizer type');
    const d = await this.cur.u64('scalar quantizer d');
    if (d !== h.d) this.bad(`scalar quantizer dimension ${d} differs from the index's ${h.d}`);
    const codeSize = await this.cur.u64('scalar quantizer code_size');
    if (codeSize === 0 || codeSize > d * 8)
      this.bad(`scalar quantizer code size ${codeSize} is impossible for dimension ${d}`);
    await this.vector(4, 'scalar quantizer training');
    return codeSize;
  }

  /** write_ProductQuantizer: d, M, nbits, centroids (d × 2^nbits floats). */
  private async productQuantizer(h: FaissHeader): Promise<number> {
    const d = await this.cur.u64('PQ d');
    const m = await this.cur.u64('PQ M');
    const nbits = await this.cur.u64('PQ nbits');
    if (d !== h.d || m === 0 || d % m !== 0 || nbits === 0 || nbits > 24)
      this.bad(`product quantizer d=${d} M=${m} nbits=${nbits} does not fit dimension ${h.d}`);
    await this.vector(4, 'PQ centroids', d * 2 ** nbits);
    return Math.ceil((m * nbits) / 8);
  }

  /** write_ivf_header after the common header: nlist, nprobe, quantizer index, direct map. */
  private async ivfHeader(h: FaissHeader): Promise<number> {
    const nlist = await this.cur.u64('IVF nlist');
    await this.cur.u64('IVF nprobe');
    if (nlist === 0) this.bad('IVF index has 0 lists');
    const q = await this.index(`${h.fourcc} coarse quantizer`);
    if (this.unchecked !== undefined) return nlist;
    if (!q) this.bad(`${h.fourcc} has no coarse quantizer`);
    if (q.d !== h.d) this.bad(`${h.fourcc} has dimension ${h.d} but its quantizer has ${q.d}`);
    if (q.ntotal !== nlist) this.bad(`${h.fourcc} has ${nlist} lists but its quantizer holds ${q.ntotal} centroids`);
    const type = await this.cur.u8('IVF direct map type');
    if (type > 2) this.bad(`IVF direct map type ${type} is unknown`);
    await this.vector(8, 'IVF direct map');
    if (type === 2) await this.vector(16, 'IVF direct map hashtable');
    return nlist;
  }

  /** write_InvertedLists: "ilar", nlist, code_size, "full"|"sprs" sizes, then codes and ids per list. */
  private async invertedLists(h: FaissHeader, nlist: number, codeSize: number): Promise<void> {
    if (this.unchecked !== undefined) return;
    const cur = this.cur;
    const at = cur.pos;
    const kind = await cur.fourcc('inverted lists type');
    if (kind === 'il00') {
      if (h.ntotal !== 0) this.bad(`${h.fourcc} holds ${h.ntotal} vectors but has no inverted lists`, at);
      return;
    }
    if (kind !== 'ilar') {
      this.unchecked = `inverted lists of type ${JSON.stringify(kind)} (e.g. on-disk) are not walked by Lifeboat`;
      return;
    }
    const n = await cur.u64('inverted lists nlist');
    const cs = await cur.u64('inverted lists code_size');
    if (n !== nlist) this.bad(`inverted lists count ${n} differs from the index's nlist ${nlist}`);
    if (cs !== codeSize) this.bad(`inverted lists code size ${cs} differs from the expected ${codeSize}`);
    const layout = await cur.fourcc('inverted lists layout');
    const sizesAt = cur.pos;
    const count = await cur.u64('inverted list sizes length');
    let total = 0;
    if (layout === 'full') {
      if (count !== nlist) this.bad(`${count} list sizes for ${nlist} lists`, sizesAt);
      await cur.scan(count * 8, 8, 'inverted list sizes', (b) => {
        for (let i = 0; i < b.length; i += 8) total += Number(b.readBigUInt64LE(i));
      });
    } else if (layout === 'sprs') {
      if (count % 2 !== 0 || count > nlist * 2)
        this.bad(`sparse list table of ${count} entries for ${nlist} lists`, sizesAt);
      let bad = false;
      await cur.scan(count * 8, 16, 'inverted list sizes', (b) => {
        for (let i = 0; i < b.length; i += 16) {
          if (b.readBigUInt64LE(i) >= BigInt(nlist)) bad = true;
          total += Number(b.readBigUInt64LE(i + 8));
        }
      });
      if (bad) this.bad('sparse list table names a list beyond nlist', sizesAt);
    } else {
      this.bad(`inverted lists layout ${JSON.stringify(layout)} is neither "full" nor "sprs"`, sizesAt - 4);
    }
    if (total !== h.ntotal) this.bad(`inverted lists hold ${total} vectors but the header says ${h.ntotal}`, sizesAt);
    cur.skip(total * (codeSize + 8), `inverted list codes and ids (${total} vectors)`);
  }

  /** write_HNSW: assign_probas, cum_nneighbor_per_level, levels, offsets, neighbors, 5 × int32. */
  private async hnsw(h: FaissHeader): Promise<void> {
    const cur = this.cur;
    await this.vector(8, 'HNSW level probabilities');
    const cum = await this.vector(4, 'HNSW neighbours per level');
    if (cum === 0) this.bad('HNSW has no neighbours-per-level table');
    await this.vector(4, 'HNSW levels', h.ntotal);
    const offAt = cur.pos;
    const offCount = await cur.u64('HNSW offsets length');
    if (offCount !== h.ntotal + 1) this.bad(`HNSW has ${offCount} offsets for ${h.ntotal} vectors`, offAt);
    let last = 0;
    let prev = 0;
    let decreasing = false;
    await cur.scan(offCount * 8, 8, 'HNSW offsets', (b) => {
      for (let i = 0; i < b.length; i += 8) {
        const v = Number(b.readBigUInt64LE(i));
        if (v < prev) decreasing = true;
        prev = v;
        last = v;
      }
    });
    if (decreasing) this.bad('HNSW offsets go backwards', offAt);
    const nbAt = cur.pos;
    const nbCount = await cur.u64('HNSW neighbours length');
    if (nbCount !== last) this.bad(`HNSW has ${nbCount} neighbour slots but its offsets end at ${last}`, nbAt);
    let outOfRange = -2;
    // An out-of-range neighbour id makes faiss read outside its arrays during search (a crash, or wrong results).
    await cur.scan(nbCount * 4, 4, 'HNSW neighbours', (b) => {
      if (outOfRange !== -2) return;
      for (let i = 0; i < b.length; i += 4) {
        const v = b.readInt32LE(i);
        if (v < -1 || v >= h.ntotal) {
          outOfRange = v;
          return;
        }
      }
    });
    if (outOfRange !== -2) this.bad(`HNSW neighbour id ${outOfRange} is outside 0..${h.ntotal - 1}`, nbAt);
    const entry = await cur.i32('HNSW entry point');
    const maxLevel = await cur.i32('HNSW max level');
    cur.skip(12, 'HNSW search parameters');
    if (h.ntotal > 0 && (entry < 0 || entry >= h.ntotal))
      this.bad(`HNSW entry point ${entry} is outside 0..${h.ntotal - 1}`);
    if (maxLevel < -1 || maxLevel >= cum) this.bad(`HNSW max level ${maxLevel} is impossible`);
  }
}
