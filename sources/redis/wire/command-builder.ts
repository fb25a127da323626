/**
 * Encodes many RESP commands into few large Buffers, so a pipeline of a
 * thousand commands is one socket write and no per-command allocation. Keys
 * travel as latin1 strings (one char per byte, see keyspace.ts) and are
 * written straight into the buffer; large values are kept as their own
 * segment instead of being copied.
 */
import * as bytes from './bytes';

// Bound once: under tsx's CommonJS interop every use of an imported binding is a getter call, which shows in per-key loops.
const { putBulkHeader, putDecimal, putLatin1 } = bytes;

const SEGMENT = 256 * 1024;
/** Arguments this big are sent as their own segment (no copy). */
const BIG_ARG = 32 * 1024;

export class CommandBuilder {
  private segments: Buffer[] = [];
  private cur: Buffer = Buffer.allocUnsafe(SEGMENT);
  private len = 0;
  /** Commands written so far. */
  count = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.cur.length) return;
    if (this.len) this.segments.push(this.cur.subarray(0, this.len));
    this.cur = Buffer.allocUnsafe(Math.max(SEGMENT, n));
    this.len = 0;
  }

  private ascii(s: string): void {
    this.ensure(s.length);
    this.len = putLatin1(this.cur, this.len, s);
  }

  /** Starts a command of `argc` arguments (the command name counts). */
  begin(argc: number): this {
    this.count++;
    this.ensure(24);
    const b = this.cur;
    b[this.len] = 0x2a;
    let o = putDecimal(b, this.len + 1, argc);
    b[o++] = 13;
    b[o++] = 10;
    this.len = o;
    return this;
  }

  /** An argument given as a latin1 string (command names, numbers, keys). */
  str(s: string): this {
    const n = s.length;
    this.ensure(n + 24);
    const b = this.cur;
    let o = putBulkHeader(b, this.len, n);
    o = putLatin1(b, o, s);
    b[o++] = 13;
    b[o++] = 10;
    this.len = o;
    return this;
  }

  num(n: number): this {
    return this.str(String(n));
  }

  buf(v: Buffer): this {
    const n = v.length;
    if (n >= BIG_ARG) {
      this.ascii(`$${n}\r\n`);
      this.segments.push(this.cur.subarray(0, this.len));
      this.segments.push(v);
      this.cur = this.cur.subarray(this.len);
      this.len = 0;
      this.ascii('\r\n');
      return this;
    }
    this.ensure(n + 24);
    const b = this.cur;
    let o = putBulkHeader(b, this.len, n);
    if (n <= 32) for (let i = 0; i < n; i++) b[o + i] = v[i];
    else v.copy(b, o);
    o += n;
    b[o++] = 13;
    b[o++] = 10;
    this.len = o;
    return this;
  }

  /** Shorthand for a command of string arguments. */
  cmd(...args: (string | number | Buffer)[]): this {
    this.begin(args.length);
    for (const a of args) {
      if (typeof a === 'string') this.str(a);
      else if (typeof a === 'number') this.num(a);
      else this.buf(a);
    }
    return this;
  }

  /** The encoded commands; the builder is reset. */
  take(): { segments: Buffer[]; count: number } {
    const segments = this.segments;
    if (this.len) segments.push(this.cur.subarray(0, this.len));
    const out = { segments, count: this.count };
    this.segments = [];
    this.cur = this.cur.length - this.len >= 4096 ? this.cur.subarray(this.len) : Buffer.allocUnsafe(SEGMENT);
    this.len = 0;
    this.count = 0;
    return out;
  }
}
