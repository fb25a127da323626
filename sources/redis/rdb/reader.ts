import { lzfDecompress } from './lzf';

/** The bytes end before the value does (a reader of a stream then waits for more). */
export class ShortRead extends Error {
  constructor() {
    super('payload ends early');
  }
}

/** DUMP trailer: 2-byte RDB version + 8-byte CRC64. */
export const DUMP_TRAILER = 10;

/** Reads RDB lengths and strings (rdb.c) from a DUMP payload. */
export class Reader {
  pos = 0;
  constructor(
    readonly b: Buffer,
    readonly end: number,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.end) throw new ShortRead();
  }

  u8(): number {
    this.need(1);
    return this.b[this.pos++];
  }

  /** Returns the length, or -1-enc for a special string encoding. */
  len(): number {
    const first = this.u8();
    const t = first >> 6;
    if (t === 0) return first & 0x3f;
    if (t === 1) return ((first & 0x3f) << 8) | this.u8();
    if (t === 3) return -1 - (first & 0x3f);
    if (first === 0x80) {
      this.need(4);
      const v = this.b.readUInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    if (first === 0x81) {
      this.need(8);
      const v = Number(this.b.readBigUInt64BE(this.pos));
      this.pos += 8;
      return v;
    }
    throw new Error(`bad length byte 0x${first.toString(16)}`);
  }

  count(): number {
    const n = this.len();
    if (n < 0) throw new Error('special encoding where a count was expected');
    return n;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  string(): Buffer {
    const n = this.len();
    if (n >= 0) return this.bytes(n);
    const enc = -1 - n;
    if (enc === 0) return Buffer.from(String(this.bytes(1).readInt8(0)));
    if (enc === 1) return Buffer.from(String(this.bytes(2).readInt16LE(0)));
    if (enc === 2) return Buffer.from(String(this.bytes(4).readInt32LE(0)));
    if (enc === 3) {
      const clen = this.count();
      const ulen = this.count();
      return lzfDecompress(this.bytes(clen), ulen);
    }
    throw new Error(`unknown string encoding ${enc}`);
  }

  /** Steps over a string without decoding (or decompressing) it. */
  skipString(): void {
    const n = this.len();
    if (n >= 0) this.bytes(n);
    else if (n === -1) this.bytes(1);
    else if (n === -2) this.bytes(2);
    else if (n === -3) this.bytes(4);
    else if (n === -4) {
      const clen = this.count();
      this.count();
      this.bytes(clen);
    } else throw new Error(`unknown string encoding ${-1 - n}`);
  }

  doubleText(): number {
    const n = this.u8();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    return Number(this.bytes(n).toString('latin1'));
  }

  doubleBinary(): number {
    return this.bytes(8).readDoubleLE(0);
  }
}
