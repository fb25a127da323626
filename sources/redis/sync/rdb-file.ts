import { open, type FileHandle } from 'node:fs/promises';
import { Reader, ShortRead } from '../rdb/reader';

/**
 * Finds the keys of an RDB file (the snapshot a server sends over SYNC) and
 * the byte span of each value — without decoding listpacks or any value
 * encoding. A DUMP payload is exactly the RDB object's type byte and
 * serialised value followed by the 2-byte RDB version and a CRC64, so a span
 * of the file plus that trailer IS the key's DUMP payload (dump-payload.ts).
 *
 * The file is read through a window that grows only to the largest single
 * value, so memory stays bounded by the biggest key, not the snapshot.
 */

/** Opcodes (rdb.h RDB_OPCODE_*). */
const Op = {
  SLOT_INFO: 0xf4,
  FUNCTION2: 0xf5,
  FUNCTION_PRE_GA: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

export interface RdbEntry {
  db: number;
  key: Buffer;
  /** Absolute unix ms, 0 = none. */
  expireAt: number;
  /** RDB object type byte (in the file it precedes the key; in a DUMP payload, the value). */
  type: number;
  /** File offsets of the serialised value [start, end), after the key. */
  start: number;
  end: number;
}

export class RdbFormatError extends Error {}

/** Steps over one module value's opcode-tagged items, up to its EOF opcode. */
function skipModuleItems(r: Reader): void {
  for (;;) {
    const op = r.count();
    if (op === 0) return;
    if (op === 1 || op === 2) r.len();
    else if (op === 3) r.bytes(4);
    else if (op === 4) r.bytes(8);
    else if (op === 5) r.skipString();
    else throw new RdbFormatError(`unknown module opcode ${op}`);
  }
}

/** Steps over a value of RDB type `type` (the type byte already read). */
export function skipValue(r: Reader, type: number): void {
  const strings = (n: number) => {
    for (let i = 0; i < n; i++) r.skipString();
  };
  switch (type) {
    case 0: // string
    case 9: // zipmap
    case 10: // list ziplist
    case 11: // intset
    case 12: // zset ziplist
    case 13: // hash ziplist
    case 16: // hash listpack
    case 17: // zset listpack
    case 20: // set listpack
      return r.skipString();
    case 1:
    case 2:
    case 14:
      return strings(r.count());
    case 4:
      return strings(2 * r.count());
    case 3: {
      const n = r.count();
      for (let i = 0; i < n; i++) {
        r.skipString();
        const l = r.u8();
        if (l < 253) r.bytes(l);
      }
      return;
    }
    case 5: {
      const n = r.count();
      for (let i = 0; i < n; i++) {
        r.skipString();
        r.bytes(8);
      }
      return;
    }
    case 18: {
      const n = r.count();
      for (let i = 0; i < n; i++) {
        r.count();
        r.skipString();
      }
      return;
    }
    case 24: {
      r.bytes(8);
      const n = r.count();
      for (let i = 0; i < n; i++) {
        r.len();
        r.skipString();
        r.skipString();
      }
      return;
    }
    case 25:
      r.bytes(8);
      return r.skipString();
    case 7: // module value: module id, then items up to EOF
      r.len();
      return skipModuleItems(r);
    case 15:
    case 19:
    case 21:
      return skipStream(r, type);
    default:
      throw new RdbFormatError(`RDB type ${type} is not known: its end cannot be found`);
  }
}

/** Streams (rdb.c rdbSaveObject, stream part): nodes, counters, consumer groups with their PELs and consumers. */
function skipStream(r: Reader, type: number): void {
  const nodes = r.count();
  for (let i = 0; i < nodes; i++) {
    r.skipString(); // master id
    r.skipString(); // listpack
  }
  r.len(); // length
  r.len(); // last id ms
  r.len(); // last id seq
  if (type >= 19) {
    for (let i = 0; i < 5; i++) r.len(); // first id, max deleted id, entries added
  }
  const groups = r.count();
  for (let g = 0; g < groups; g++) {
    r.skipString();
    r.len();
    r.len();
    if (type >= 19) r.len(); // entries read
    const pel = r.count();
    for (let i = 0; i < pel; i++) {
      r.bytes(16 + 8);
      r.len();
    }
    const consumers = r.count();
    for (let c = 0; c < consumers; c++) {
      r.skipString();
      r.bytes(8); // seen time
      if (type >= 21) r.bytes(8); // active time
      const n = r.count();
      r.bytes(16 * n);
    }
  }
}

/** Steps over the body of a non-key opcode; returns the new db for SELECTDB. */
function skipOpcode(r: Reader, op: number): void {
  switch (op) {
    case Op.AUX:
      r.skipString();
      return r.skipString();
    case Op.RESIZEDB:
      r.len();
      r.len();
      return;
    case Op.SLOT_INFO:
      r.len();
      r.len();
      r.len();
      return;
    case Op.FREQ:
      r.bytes(1);
      return;
    case Op.IDLE:
      r.len();
      return;
    case Op.FUNCTION2:
      return r.skipString();
    case Op.MODULE_AUX:
      r.len(); // module id
      r.len(); // when opcode
      r.len(); // when
      return skipModuleItems(r);
    case Op.FUNCTION_PRE_GA:
      throw new RdbFormatError('the RDB holds Redis 7.0 release-candidate functions, which cannot be read');
    default:
      throw new RdbFormatError(`unknown RDB opcode 0x${op.toString(16)}`);
  }
}

/**
 * Reads the RDB file at `path`, calling `onEntry` for each key in file order.
 * Returns the file's RDB version (the one its DUMP payloads carry).
 */
export async function scanRdbFile(
  path: string,
  onEntry: (e: RdbEntry) => void,
  o: { signal?: AbortSignal } = {},
): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const win = new Window(fh);
    await win.fill(9);
    const magic = win.buf.subarray(0, 9).toString('latin1');
    const m = /^REDIS(\d{4})$/.exec(magic);
    if (!m) throw new RdbFormatError(`not an RDB file (starts with ${JSON.stringify(magic)})`);
    const rdbVersion = Number(m[1]);
    win.consume(9);
    let db = 0;
    let expireAt = 0;
    for (;;) {
      o.signal?.throwIfAborted();
      const at = win.base + win.pos;
      let result: RdbEntry | 'eof' | 'op';
      try {
        const r = new Reader(win.buf, win.buf.length);
        r.pos = win.pos;
        const op = r.u8();
        if (op === Op.EOF) result = 'eof';
        else if (op === Op.SELECTDB) {
          db = r.count();
          result = 'op';
        } else if (op === Op.EXPIRETIME_MS) {
          expireAt = Number(r.bytes(8).readBigInt64LE(0));
          result = 'op';
        } else if (op === Op.EXPIRETIME) {
          expireAt = r.bytes(4).readUInt32LE(0) * 1000;
          result = 'op';
        } else if (op >= Op.SLOT_INFO) {
          skipOpcode(r, op);
          result = 'op';
        } else {
          const key = Buffer.from(r.string());
          const start = r.pos;
          skipValue(r, op);
          result = { db, key, expireAt, type: op, start: win.base + start, end: win.base + r.pos };
          expireAt = 0;
        }
        win.pos = r.pos;
      } catch (e) {
        if (!(e instanceof ShortRead)) throw e;
        // The item runs past the window: read more (at least double) and parse it again from its start.
        if (!(await win.more())) throw new RdbFormatError(`the RDB file ends inside the item at byte ${at}`);
        continue;
      }
      if (result === 'eof') return rdbVersion;
      if (result !== 'op') onEntry(result);
      win.compact();
    }
  } finally {
    await fh.close();
  }
}

/** A sliding window over a file: `buf` holds file bytes from `base`; `pos` is the parse position within it. */
class Window {
  buf: Buffer = Buffer.alloc(0);
  base = 0;
  pos = 0;
  private fileEnd = false;
  constructor(private readonly fh: FileHandle) {}

  async fill(n: number): Promise<void> {
    while (this.buf.length < n && (await this.more())) {
      // keep reading
    }
    if (this.buf.length < n) throw new RdbFormatError('the RDB file is shorter than its header');
  }

  consume(n: number): void {
    this.pos += n;
  }

  /** Drops parsed bytes once they are a good part of the window. */
  compact(): void {
    if (this.pos > 1 << 20 && this.pos > this.buf.length / 2) {
      this.buf = Buffer.from(this.buf.subarray(this.pos));
      this.base += this.pos;
      this.pos = 0;
    }
  }

  async more(): Promise<boolean> {
    if (this.fileEnd) return false;
    // Drop what is parsed, then grow by at least the window size, so a big value is re-parsed O(log size) times.
    if (this.pos) {
      this.buf = this.buf.subarray(this.pos);
      this.base += this.pos;
      this.pos = 0;
    }
    const want = Math.max(1 << 20, this.buf.length);
    const chunk = Buffer.allocUnsafe(want);
    const { bytesRead } = await this.fh.read(chunk, 0, want, this.base + this.buf.length);
    if (bytesRead === 0) {
      this.fileEnd = true;
      return false;
    }
    this.buf = Buffer.concat([this.buf, chunk.subarray(0, bytesRead)]);
    return true;
  }
}
