import { crc64 } from './crc64';
import { lzfDecompress } from './lzf';
import { DUMP_TRAILER, RdbType } from './value';

/**
 * A DUMP payload whose bytes depend on the value alone.
 *
 * A hash or set big enough to be stored as a hash table is dumped in the
 * table's iteration order, which follows the server's random hash seed: the
 * same data dumps differently after a restart, a failover or a restore, and
 * the backup stream around it changes, so deduplication would store it again.
 * For those two RDB types (HASH, SET: plain lists of strings) the elements
 * are put in ascending byte order of the field or member, each element's
 * encoded bytes kept as they are, and the checksum recomputed; RESTORE reads
 * any element order. Every other type is already deterministic (listpacks,
 * intsets and quicklists keep their order through RESTORE; skiplist sorted
 * sets dump in score order) and comes back unchanged, as does any payload
 * this cannot parse: canonical form is an optimisation, never a reason to
 * fail or alter a backup.
 */
export function canonicalDump(payload: Buffer): Buffer {
  const type = payload[0];
  if (type !== RdbType.HASH && type !== RdbType.SET) return payload;
  try {
    return reorder(payload, type === RdbType.HASH ? 2 : 1) ?? payload;
  } catch {
    return payload;
  }
}

/** Element spans sorted by their first string; undefined when already in order. */
function reorder(payload: Buffer, stringsPerElement: number): Buffer | undefined {
  const end = payload.length - DUMP_TRAILER;
  const s = new Scanner(payload, 1, end);
  const n = s.count();
  const headerEnd = s.pos;
  const starts = new Array<number>(n + 1);
  // Latin1 strings (one char per byte) compare in byte order, and much faster than Buffers.
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    starts[i] = s.pos;
    keys[i] = s.key();
    for (let j = 1; j < stringsPerElement; j++) s.skipString();
  }
  starts[n] = s.pos;
  if (s.pos !== end) throw new Error('trailing bytes after the value');
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (keys[i - 1] > keys[i]) sorted = false;
  if (sorted) return undefined;
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => (keys[x] < keys[y] ? -1 : keys[x] > keys[y] ? 1 : 0));
  const out = Buffer.allocUnsafe(payload.length);
  let o = copy(payload, out, 0, 0, headerEnd);
  for (const i of order) o = copy(payload, out, o, starts[i], starts[i + 1]);
  o = copy(payload, out, o, end, end + 2); // RDB version
  crc64(out.subarray(0, o)).copy(out, o);
  return out;
}

/** Copies src[from, to) to dst at `at`; returns the end. Most elements are a few bytes, where a loop beats Buffer.copy's call overhead. */
function copy(src: Buffer, dst: Buffer, at: number, from: number, to: number): number {
  if (to - from > 64) return at + src.copy(dst, at, from, to);
  for (let i = from; i < to; i++) dst[at++] = src[i];
  return at;
}

/** Just enough of the RDB string encoding to find element boundaries and compare fields. */
class Scanner {
  constructor(
    private readonly b: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new Error('payload ends early');
    this.pos += n;
    return at;
  }

  /** A length, or -1-enc for a special string encoding. */
  private len(): number {
    const first = this.b[this.take(1)];
    const t = first >> 6;
    if (t === 0) return first & 0x3f;
    if (t === 1) return ((first & 0x3f) << 8) | this.b[this.take(1)];
    if (t === 3) return -1 - (first & 0x3f);
    if (first === 0x80) return this.b.readUInt32BE(this.take(4));
    if (first === 0x81) return Number(this.b.readBigUInt64BE(this.take(8)));
    throw new Error(`bad length byte 0x${first.toString(16)}`);
  }

  count(): number {
    const n = this.len();
    if (n < 0) throw new Error('special encoding where a count was expected');
    return n;
  }

  /**
   * The string's value as a latin1 string (one char per byte, so it compares
   * in byte order): integers as their decimal text, compressed strings
   * decompressed. Fields and members are unique by it.
   */
  key(): string {
    const n = this.len();
    if (n >= 0) {
      const at = this.take(n);
      return this.b.toString('latin1', at, at + n);
    }
    const enc = -1 - n;
    if (enc === 0) return String(this.b.readInt8(this.take(1)));
    if (enc === 1) return String(this.b.readInt16LE(this.take(2)));
    if (enc === 2) return String(this.b.readInt32LE(this.take(4)));
    if (enc === 3) {
      const clen = this.count();
      const ulen = this.count();
      const at = this.take(clen);
      return lzfDecompress(this.b.subarray(at, at + clen), ulen).toString('latin1');
    }
    throw new Error(`unknown string encoding ${enc}`);
  }

  /** Steps over a string without decoding it. */
  skipString(): void {
    const n = this.len();
    if (n >= 0) this.take(n);
    else if (n === -1) this.take(1);
    else if (n === -2) this.take(2);
    else if (n === -3) this.take(4);
    else if (n === -4) {
      const clen = this.count();
      this.count();
      this.take(clen);
    } else throw new Error(`unknown string encoding ${-1 - n}`);
  }
}
