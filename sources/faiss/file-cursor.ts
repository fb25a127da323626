import type { FileHandle } from 'node:fs/promises';
import { FaissCorruptFileError } from './errors';

const WINDOW = 64 * 1024;

/**
 * Forward-only little-endian reader over an open file, with a 64 KiB
 * read-ahead window: fields are read, payloads are skipped by moving the
 * position, so memory stays bounded whatever the file size. Reading past the
 * end raises FaissCorruptFileError('truncated') naming the file and the field.
 */
export class FileCursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  get remaining(): number {
    return this.size - this.pos;
  }

  /** Fails unless `n` more bytes exist; `what` names the field in the error. */
  need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new FaissCorruptFileError(
        this.path,
        'truncated',
        `${what} needs ${n} bytes but the file ends ${this.remaining} bytes later (file size ${this.size})`,
        this.pos,
      );
    }
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }

  /** Reads up to WINDOW bytes; larger spans must be read in pieces. */
  async bytes(n: number, what: string): Promise<Buffer> {
    if (n > WINDOW) throw new RangeError(`FileCursor.bytes: ${n} > ${WINDOW}`);
    this.need(n, what);
    const off = this.pos - this.bufStart;
    if (off < 0 || off + n > this.buf.length) {
      const len = Math.min(WINDOW, this.size - this.pos);
      const fresh = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const { bytesRead } = await this.fh.read(fresh, got, len - got, this.pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      // The file shrank under us: report it as the truncation it is.
      if (got < n)
        throw new FaissCorruptFileError(
          this.path,
          'truncated',
          `${what}: file ended early while reading`,
          this.pos + got,
        );
      this.buf = fresh.subarray(0, got);
      this.bufStart = this.pos;
    }
    const start = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(start, start + n);
  }

  async u8(what: string): Promise<number> {
    return (await this.bytes(1, what))[0];
  }
  async i32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readInt32LE(0);
  }
  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }
  async f32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readFloatLE(0);
  }
  /** int64/size_t as a JS number; values beyond 2^53 cannot be real sizes in a file. */
  async u64(what: string): Promise<number> {
    const v = (await this.bytes(8, what)).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FaissCorruptFileError(
        this.path,
        'inconsistent',
        `${what} is ${v}, which no real index has`,
        this.pos - 8,
      );
    }
    return Number(v);
  }
  async fourcc(what: string): Promise<string> {
    return (await this.bytes(4, what)).toString('latin1');
  }

  /**
   * Calls `visit` on consecutive pieces of the next `n` bytes (each a whole
   * number of `elem`-byte elements), then moves past them.
   */
  async scan(n: number, elem: number, what: string, visit: (chunk: Buffer) => void): Promise<void> {
    this.need(n, what);
    const step = Math.floor(WINDOW / elem) * elem;
    let left = n;
    while (left > 0) {
      const len = Math.min(step, left);
      visit(await this.bytes(len, what));
      left -= len;
    }
  }
}
