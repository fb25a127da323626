/**
 * Incremental RESP2 reply parser. Bulk strings come out as Buffers (binary
 * safe); a bulk that fits in the chunk it arrived in is a zero-copy slice of
 * it, a bigger one is assembled into its own Buffer as chunks arrive, so a
 * 20 MB value is copied once and never re-scanned. Arrays in progress live on
 * a stack, so a partial reply is never parsed twice.
 */

/** An error reply (`-ERR …`), returned in place of a value. */
export class ReplyError {
  constructor(readonly message: string) {}
}

export type Reply = Buffer | string | number | null | ReplyError | Reply[];

const CR = 13;
/** Bulks at least this big that straddle chunks are assembled instead of re-joined. */
const BIG_BULK = 64 * 1024;
const EMPTY = Buffer.alloc(0);

interface Frame {
  arr: Reply[];
  idx: number;
}

export class RespParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private readonly stack: Frame[] = [];
  private bulk: Buffer | null = null;
  private bulkFill = 0;
  /** CRLF bytes still to drop after an assembled bulk. */
  private skip = 0;

  /**
   * When set, bulk strings (below BIG_BULK) come out as latin1 strings instead
   * of Buffers — one char per byte, so still binary-safe. Key listings use it
   * to skip a Buffer allocation per key. Switched between replies only.
   */
  bulkAsLatin1 = false;

  constructor(private readonly onReply: (reply: Reply) => void) {}

  feed(chunk: Buffer): void {
    let start = 0;
    if (this.skip) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      start = n;
    }
    if (this.bulk) {
      const n = Math.min(this.bulk.length - this.bulkFill, chunk.length - start);
      chunk.copy(this.bulk, this.bulkFill, start, start + n);
      this.bulkFill += n;
      start += n;
      if (this.bulkFill < this.bulk.length) return;
      const done = this.bulk;
      this.bulk = null;
      const crlf = Math.min(2, chunk.length - start);
      start += crlf;
      this.skip = 2 - crlf;
      this.emit(done);
    }
    if (start >= chunk.length) return;
    if (this.pos < this.buf.length) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), start ? chunk.subarray(start) : chunk]);
    } else {
      this.buf = start ? chunk.subarray(start) : chunk;
    }
    this.pos = 0;
    this.parse();
  }

  private parse(): void {
    const buf = this.buf;
    const len = buf.length;
    while (this.pos < len) {
      const head = this.pos;
      const type = buf[head];
      const eol = buf.indexOf(CR, head + 1);
      if (eol < 0 || eol + 1 >= len) return;
      const next = eol + 2;
      let value: Reply;
      if (type === 0x24 /* $ */) {
        const n = readInt(buf, head + 1, eol);
        if (n < 0) {
          value = null;
          this.pos = next;
        } else if (next + n + 2 <= len) {
          value = this.bulkAsLatin1 ? buf.toString('latin1', next, next + n) : buf.subarray(next, next + n);
          this.pos = next + n + 2;
        } else if (n >= BIG_BULK) {
          const big = Buffer.allocUnsafe(n);
          const have = len - next;
          buf.copy(big, 0, next, len);
          this.pos = len;
          if (have >= n) {
            // Value complete, only (part of) the CRLF is missing.
            this.skip = 2 - (have - n);
            this.emit(big);
          } else {
            this.bulk = big;
            this.bulkFill = have;
          }
          return;
        } else {
          return;
        }
      } else if (type === 0x2a /* * */) {
        const n = readInt(buf, head + 1, eol);
        this.pos = next;
        if (n < 0) value = null;
        else if (n === 0) value = [];
        else {
          this.stack.push({ arr: new Array<Reply>(n), idx: 0 });
          continue;
        }
      } else if (type === 0x3a /* : */) {
        value = readInt(buf, head + 1, eol);
        this.pos = next;
      } else if (type === 0x2b /* + */) {
        value = buf.toString('latin1', head + 1, eol);
        this.pos = next;
      } else if (type === 0x2d /* - */) {
        value = new ReplyError(buf.toString('utf8', head + 1, eol));
        this.pos = next;
      } else {
        throw new Error(`unexpected RESP type byte 0x${type.toString(16)}`);
      }
      this.emit(value);
    }
  }

  private emit(value: Reply): void {
    const stack = this.stack;
    while (stack.length) {
      const top = stack[stack.length - 1];
      top.arr[top.idx++] = value;
      if (top.idx < top.arr.length) return;
      value = top.arr;
      stack.pop();
    }
    this.onReply(value);
  }
}

function readInt(buf: Buffer, from: number, to: number): number {
  let neg = false;
  let i = from;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  }
  let n = 0;
  for (; i < to; i++) n = n * 10 + (buf[i] - 48);
  return neg ? -n : n;
}
