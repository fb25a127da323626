import { RedisBackupFormatError } from '../errors';
import * as C from './constants';
import type { StreamHeader } from './constants';

// Bound once: under tsx's CommonJS interop every use of an imported binding is a getter call, which shows in per-key loops.
const { FORMAT_VERSION, Limits, MAGIC } = C;
const { STRING, DUMP, DB_START, DB_END, END } = C.RecordTag;

export type DecodedRecord =
  | { tag: 'dbStart'; offset: number; db: number }
  | { tag: 'key'; offset: number; dump: boolean; key: Buffer; expireAt: number; value: Buffer }
  | { tag: 'dbEnd'; offset: number; db: number; keys: number; digest: string }
  | { tag: 'end'; offset: number; dbCount: number; keys: number };

const EMPTY = Buffer.alloc(0);

/**
 * Incremental decoder of a backup stream: push chunks as they arrive, pull
 * records until it says it needs more. A record split across chunks is
 * joined once, when enough bytes for all of it have arrived (a 20 MB value is
 * copied once, not once per chunk). Every length is checked against the
 * format's limits before anything is allocated, and errors give the offset.
 */
export class RecordDecoder {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Stream offset of buf[0]. */
  private base = 0;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes needed from pos before parsing is worth retrying. */
  private want = 1;
  private headerDone = false;
  private finished = false;

  /** Stream bytes received so far. */
  get received(): number {
    return this.base + this.buf.length + this.pendingLen;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  push(chunk: Buffer): void {
    if (!chunk.length) return;
    if (this.finished) throw new RedisBackupFormatError(this.received, 'data after the end record');
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
  }

  private fold(): boolean {
    const have = this.buf.length - this.pos;
    if (have >= this.want) return true;
    if (have + this.pendingLen < this.want || !this.pendingLen) return false;
    const parts = have ? [this.buf.subarray(this.pos), ...this.pending] : this.pending;
    this.base += this.pos;
    this.buf = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.pos = 0;
    this.pending = [];
    this.pendingLen = 0;
    return true;
  }

  private fail(at: number, reason: string): never {
    throw new RedisBackupFormatError(this.base + at, reason);
  }

  /** The header, or undefined until enough bytes arrived. Validates magic and version. */
  header(): StreamHeader | undefined {
    for (;;) {
      if (!this.fold()) return undefined;
      const h = this.parseHeader();
      if (h) return h;
    }
  }

  private parseHeader(): StreamHeader | undefined {
    const b = this.buf;
    const p0 = this.pos;
    let p = p0;
    let required = 0;
    const need = (n: number) => {
      if (p + n > b.length) {
        required = p + n - p0;
        throw NEED;
      }
    };
    try {
      need(8);
      if (!b.subarray(p, p + 8).equals(MAGIC)) {
        this.fail(p, 'not a Lifeboat Redis backup (bad magic bytes)');
      }
      p += 8;
      need(5);
      const version = b.readUInt16BE(p);
      if (version !== FORMAT_VERSION)
        this.fail(p, `format version ${version} is not supported (this Lifeboat reads version ${FORMAT_VERSION})`);
      const flags = b.readUInt16BE(p + 2);
      const vlen = b[p + 4];
      p += 5;
      if (vlen > Limits.versionBytes) this.fail(p - 1, `redis version field of ${vlen} bytes`);
      need(vlen + 4);
      const redisVersion = b.toString('latin1', p, p + vlen);
      p += vlen;
      const plen = b.readUInt32BE(p);
      p += 4;
      if (plen > Limits.patternBytes) this.fail(p - 4, `pattern field of ${plen} bytes`);
      need(plen + 4);
      const pattern = b.toString('utf8', p, p + plen);
      p += plen;
      const n = b.readUInt32BE(p);
      p += 4;
      if (n > Limits.dbs) this.fail(p - 4, `${n} dbs listed`);
      need(4 * n);
      const dbs: number[] = [];
      for (let i = 0; i < n; i++, p += 4) dbs.push(b.readUInt32BE(p));
      this.pos = p;
      this.want = 1;
      this.headerDone = true;
      return { formatVersion: version, cluster: (flags & 1) === 1, redisVersion, pattern, dbs };
    } catch (e) {
      if (e !== NEED) throw e;
      this.want = required;
      return undefined;
    }
  }

  /** The next record, or undefined until more bytes arrive. */
  next(): DecodedRecord | undefined {
    if (!this.headerDone) throw new Error('header() first');
    for (;;) {
      if (!this.fold()) return undefined;
      const r = this.parseRecord();
      if (r) return r;
    }
  }

  private parseRecord(): DecodedRecord | undefined {
    const b = this.buf;
    const p0 = this.pos;
    const avail = b.length - p0;
    const tag = b[p0];
    const offset = this.base + p0;
    switch (tag) {
      case STRING:
      case DUMP: {
        if (avail < 5) return this.short(5);
        const klen = b.readUInt32BE(p0 + 1);
        if (klen > Limits.keyBytes) this.fail(p0 + 1, `key length ${klen} exceeds the format's limit`);
        const vOff = p0 + 5 + klen + 8;
        if (avail < vOff + 4 - p0) return this.short(vOff + 4 - p0);
        const vlen = b.readUInt32BE(vOff);
        const end = vOff + 4 + vlen;
        if (b.length < end) return this.short(end - p0);
        const hi = b.readUInt32BE(p0 + 5 + klen);
        const lo = b.readUInt32BE(p0 + 9 + klen);
        this.pos = end;
        this.want = 1;
        return {
          tag: 'key',
          offset,
          dump: tag === DUMP,
          key: b.subarray(p0 + 5, p0 + 5 + klen),
          expireAt: hi * 0x100000000 + lo,
          value: b.subarray(vOff + 4, end),
        };
      }
      case DB_START:
        if (avail < 5) return this.short(5);
        this.pos = p0 + 5;
        this.want = 1;
        return { tag: 'dbStart', offset, db: b.readUInt32BE(p0 + 1) };
      case DB_END:
        if (avail < 45) return this.short(45);
        this.pos = p0 + 45;
        this.want = 1;
        return {
          tag: 'dbEnd',
          offset,
          db: b.readUInt32BE(p0 + 1),
          keys: b.readUInt32BE(p0 + 5) * 0x100000000 + b.readUInt32BE(p0 + 9),
          digest: b.toString('hex', p0 + 13, p0 + 45),
        };
      case END: {
        if (avail < 13) return this.short(13);
        this.pos = p0 + 13;
        this.finished = true;
        if (this.pos < b.length || this.pendingLen) this.fail(this.pos, 'data after the end record');
        return {
          tag: 'end',
          offset,
          dbCount: b.readUInt32BE(p0 + 1),
          keys: b.readUInt32BE(p0 + 5) * 0x100000000 + b.readUInt32BE(p0 + 9),
        };
      }
      default:
        this.fail(p0, `unknown record tag 0x${tag.toString(16)} (corrupt stream)`);
    }
  }

  private short(n: number): undefined {
    this.want = n;
    return undefined;
  }

  /** Call when the input ended: throws if it stopped in the middle of something. */
  finish(): void {
    if (this.finished) return;
    const where = this.headerDone ? 'before the end record' : 'inside the header';
    const partial = this.buf.length - this.pos + this.pendingLen;
    throw new RedisBackupFormatError(
      this.received,
      `stream ends ${where}${partial ? ` with ${partial} bytes of an incomplete record` : ''} — the backup is truncated`,
    );
  }
}

const NEED = Symbol('need more bytes');

/** What restore and inspect read from: a Readable, or any (async) iterable of byte chunks. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export function chunkIterator(input: ByteSource): AsyncIterator<Uint8Array> | Iterator<Uint8Array> {
  const a = (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator];
  return a ? a.call(input) : (input as Iterable<Uint8Array>)[Symbol.iterator]();
}

export const asBuffer = (c: Uint8Array): Buffer =>
  Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
