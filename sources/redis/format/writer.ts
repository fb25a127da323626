import { FORMAT_VERSION, Flag, MAGIC, RecordTag, type StreamHeader } from './constants';
import * as bytes from '../wire/bytes';
import { endsGroupBefore } from '../../../lib/record-groups';

// Bound once: under tsx's CommonJS interop every use of an imported binding is a getter call, which shows in per-key loops.
const { putLatin1, putU32, putU64 } = bytes;

/** Values at least this big are emitted as their own chunk instead of being copied. */
const BIG = 64 * 1024;

/**
 * Encodes records into output pieces with one allocation per ~256 KiB rather
 * than per key. The pieces are record groups: a piece ends only between
 * records, before a key chosen by its name's hash (lib/record-groups.ts: about
 * every second key, or once a group reaches 16 KiB), and a big value (64 KiB or more) is a piece of
 * its own, passed through uncopied. The repository stores each group as one
 * blob (chunking: 'records'), so a changed key costs its group, not a chunk of
 * hundreds of keys. The bytes of the stream do not depend on the grouping.
 */
export class RecordWriter {
  private chunks: Buffer[] = [];
  private buf: Buffer = Buffer.allocUnsafe(256 * 1024);
  private len = 0;
  private ended = false;
  /** Bytes written since creation. */
  total = 0;

  // A full buffer moves the group in progress to a new one: a group is never split.
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(256 * 1024, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private cut(): void {
    if (!this.len) return;
    this.chunks.push(this.buf.subarray(0, this.len));
    this.buf = this.buf.subarray(this.len);
    this.len = 0;
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
    this.total += 1;
  }

  private u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
    this.total += 2;
  }

  private u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
    this.total += 4;
  }

  private u64(v: number): void {
    this.room(8);
    this.buf.writeUInt32BE(Math.floor(v / 0x100000000) >>> 0, this.len);
    this.buf.writeUInt32BE(v >>> 0, this.len + 4);
    this.len += 8;
    this.total += 8;
  }

  private raw(b: Buffer): void {
    if (b.length >= BIG) {
      this.cut();
      this.chunks.push(b);
    } else {
      this.room(b.length);
      b.copy(this.buf, this.len);
      this.len += b.length;
    }
    this.total += b.length;
  }

  header(h: Omit<StreamHeader, 'formatVersion'>): void {
    this.raw(MAGIC);
    this.u16(FORMAT_VERSION);
    this.u16(h.cluster ? Flag.cluster : 0);
    const v = Buffer.from(h.redisVersion, 'latin1');
    this.u8(v.length);
    this.raw(v);
    const p = Buffer.from(h.pattern, 'utf8');
    this.u32(p.length);
    this.raw(p);
    this.u32(h.dbs.length);
    for (const db of h.dbs) this.u32(db);
  }

  dbStart(db: number): void {
    this.u8(RecordTag.DB_START);
    this.u32(db);
  }

  /** A key record; `key` is a latin1 string (one char per byte) or raw bytes. */
  key(
    tag: typeof RecordTag.STRING | typeof RecordTag.DUMP,
    key: string | Buffer,
    expireAt: number,
    value: Buffer,
  ): void {
    if (endsGroupBefore(key, this.len)) this.cut();
    const klen = key.length;
    const vlen = value.length;
    const inline = vlen < BIG;
    this.room(17 + klen + (inline ? vlen : 0));
    const b = this.buf;
    let o = this.len;
    b[o++] = tag;
    o = putU32(b, o, klen);
    if (typeof key === 'string') o = putLatin1(b, o, key);
    else {
      key.copy(b, o);
      o += klen;
    }
    o = putU64(b, o, expireAt);
    o = putU32(b, o, vlen);
    this.len = o;
    this.total += 17 + klen;
    if (inline) {
      value.copy(b, o);
      this.len += vlen;
      this.total += vlen;
    } else this.raw(value);
  }

  dbEnd(db: number, keys: number, digestHex: string): void {
    this.u8(RecordTag.DB_END);
    this.u32(db);
    this.u64(keys);
    this.raw(Buffer.from(digestHex, 'hex'));
  }

  end(dbCount: number, keys: number): void {
    this.u8(RecordTag.END);
    this.u32(dbCount);
    this.u64(keys);
    this.ended = true;
  }

  /** The complete groups encoded since the last call (after end(): everything). */
  take(): Buffer[] {
    if (this.ended) this.cut();
    const out = this.chunks;
    this.chunks = [];
    return out;
  }
}
