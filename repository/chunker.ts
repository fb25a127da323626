import { gearMask } from './gear';

export interface ChunkerParams {
  minSize: number;
  /** FastCDC's "normal size": where the strict mask gives way to the loose one; a power of two. */
  normalSize: number;
  maxSize: number;
  /** Mask bits above/below log2(normalSize) before/after the normal size. */
  normalization: number;
}

/**
 * FastCDC with normalized chunking over a 32-bit gear hash, streaming.
 * Definition (docs/repository-format.md, "Chunking"), k = log2(normalSize),
 * L = normalization:
 *
 *   for a chunk starting at byte 0, h = 0; for i = minSize, minSize+1, ...:
 *     h = (2*h + gear[b[i]]) mod 2^32
 *     cut after byte i if (h & mask) == 0, mask = mask(k+L) while i < normalSize, else mask(k-L)
 *   cut at maxSize if no cut before; the stream's last chunk may be shorter than minSize.
 *
 * Bytes are copied once, into 8 MiB slabs; chunks are views of a slab, so a
 * slab is freed when its last chunk has been stored. The scan does two bytes
 * per iteration (FastCDC 2020) with no allocation.
 */
export class Chunker {
  private readonly min: number;
  private readonly normal: number;
  private readonly max: number;
  private readonly maskS: number;
  private readonly maskS2: number;
  private readonly maskL: number;
  private readonly maskL2: number;
  private readonly gear: Uint32Array;
  private readonly gearShifted: Uint32Array;
  private readonly slabSize: number;
  private slab: Buffer;
  /** Start of the current chunk in the slab. */
  private start = 0;
  /** Bytes of the current chunk in the slab. */
  private fill = 0;
  /** Chunk-relative position up to which the hash has been computed. */
  private scanned = 0;
  /** [0]: gear hash carried between scans of the same chunk. */
  private readonly state = new Int32Array(1);

  constructor(p: ChunkerParams, gear: Uint32Array) {
    const bits = Math.log2(p.normalSize);
    const L = p.normalization;
    if (
      !Number.isInteger(bits) ||
      !(p.minSize > 0 && p.minSize < p.normalSize && p.normalSize < p.maxSize) ||
      !Number.isInteger(L) ||
      L < 0 ||
      L > 4 ||
      bits - L < 4 ||
      bits + L > 30
    ) {
      throw new RangeError(
        `chunker parameters must satisfy 0 < min < normal < max, normal a power of two, normalization 0-4; got ${JSON.stringify(p)}`,
      );
    }
    this.min = p.minSize;
    this.normal = p.normalSize;
    this.max = p.maxSize;
    this.maskS = gearMask(bits + L);
    this.maskL = gearMask(bits - L);
    this.maskS2 = (this.maskS << 1) | 0;
    this.maskL2 = (this.maskL << 1) | 0;
    this.gear = gear;
    this.gearShifted = new Uint32Array(256);
    for (let i = 0; i < 256; i++) this.gearShifted[i] = (gear[i] << 1) >>> 0;
    // Two max-size chunks per slab at least: bytes are copied in once; only a partial chunk moves on a slab switch.
    this.slabSize = Math.max(2 * this.max, 8 * 1024 * 1024);
    this.slab = Buffer.allocUnsafe(this.slabSize);
  }

  /** Feeds bytes (copied; the caller may reuse `input`). Completed chunks are appended to `out`. */
  push(input: Uint8Array, out: Buffer[]): void {
    let off = 0;
    const n = input.length;
    while (off < n) {
      let room = this.slabSize - (this.start + this.fill);
      if (room === 0) {
        this.newSlab();
        room = this.slabSize - this.fill;
      }
      const take = Math.min(n - off, this.max - this.fill, room);
      this.slab.set(input.subarray(off, off + take), this.start + this.fill);
      off += take;
      this.fill += take;
      for (let cut = this.findCut(); cut > 0; cut = this.findCut()) out.push(this.emit(cut));
    }
  }

  /** Ends the current chunk (if any) here, as at the end of a stream, and goes on: the next bytes start a new chunk. */
  cutHere(out: Buffer[]): void {
    if (this.fill > 0) out.push(this.emit(this.fill));
  }

  /** End of the stream: the remaining bytes (if any) as the last chunk. */
  finish(out: Buffer[]): void {
    if (this.fill > 0) out.push(this.emit(this.fill));
    this.slab = Buffer.alloc(0);
  }

  private emit(len: number): Buffer {
    const chunk = this.slab.subarray(this.start, this.start + len);
    this.start += len;
    this.fill -= len;
    this.scanned = 0;
    this.state[0] = 0;
    return chunk;
  }

  // The current chunk's bytes move to a fresh slab; chunks already emitted
  // keep the old one alive until they are stored.
  private newSlab(): void {
    const next = Buffer.allocUnsafe(this.slabSize);
    this.slab.copy(next, 0, this.start, this.start + this.fill);
    this.slab = next;
    this.start = 0;
  }

  /** Length of the current chunk if it ends within the bytes seen, else -1. */
  private findCut(): number {
    const fill = this.fill;
    if (fill <= this.min) return fill >= this.max ? this.max : -1;
    const base = this.start;
    let pos = this.scanned < this.min ? this.min : this.scanned;
    if (pos < this.normal) {
      const e = fill < this.normal ? fill : this.normal;
      const r = gearScan(
        this.slab,
        base + pos,
        base + e,
        this.gear,
        this.gearShifted,
        this.maskS,
        this.maskS2,
        this.state,
      );
      if (r >= 0) return r - base;
      pos = e;
    }
    if (pos < fill) {
      const r = gearScan(
        this.slab,
        base + pos,
        base + fill,
        this.gear,
        this.gearShifted,
        this.maskL,
        this.maskL2,
        this.state,
      );
      if (r >= 0) return r - base;
      pos = fill;
    }
    this.scanned = pos;
    return fill >= this.max ? this.max : -1;
  }
}

/**
 * The hot loop: slab index just after the cut byte in [from, to), or -1 with
 * the hash kept in state[0]. Two bytes per iteration (FastCDC 2020): after the
 * first byte h is kept shifted left by one, so it is tested against mask<<1.
 * A top-level function over typed arrays so V8 keeps it monomorphic.
 */
function gearScan(
  d: Uint8Array,
  from: number,
  to: number,
  g: Uint32Array,
  gs: Uint32Array,
  mask: number,
  mask2: number,
  state: Int32Array,
): number {
  let h = state[0];
  let i = from;
  const end2 = to - 1;
  let cut = -1;
  while (i < end2) {
    h = ((h << 2) + gs[d[i]]) | 0;
    if ((h & mask2) === 0) {
      cut = i + 1;
      break;
    }
    h = (h + g[d[i + 1]]) | 0;
    if ((h & mask) === 0) {
      cut = i + 2;
      break;
    }
    i += 2;
  }
  if (cut < 0 && i === end2) {
    h = ((h << 1) + g[d[i]]) | 0;
    if ((h & mask) === 0) cut = i + 1;
  }
  state[0] = cut < 0 ? h : 0;
  return cut;
}

// Gives every branch of gearScan type feedback before real data arrives;
// otherwise V8 optimizes the loop before the rare paths (a cut, an odd tail)
// have run, and deoptimizes again each time one is taken.
(function primeGearScan() {
  const g = new Uint32Array(256);
  const gs = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    g[i] = (Math.imul(i + 1, 0x9e3779b1) ^ (i << 24)) >>> 0;
    gs[i] = (g[i] << 1) >>> 0;
  }
  const d = Buffer.allocUnsafe(4096);
  for (let i = 0; i < d.length; i++) d[i] = Math.imul(i, 2654435761) >>> 24;
  const st = new Int32Array(1);
  // Short masks cut often (both bytes of a pair and the odd tail); long ones run through.
  for (const bits of [1, 2, 3, 20]) {
    const mask = gearMask(bits);
    const mask2 = (mask << 1) | 0;
    for (let from = 0; from < 64; from++) {
      st[0] = 0;
      gearScan(d, from, from + 1 + (from % 7) * 9, g, gs, mask, mask2, st);
    }
  }
})();
