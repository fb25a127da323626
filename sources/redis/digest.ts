import { createHash, type Hash } from 'node:crypto';
import type { LogicalValue } from './rdb/value';
import * as bytes from './wire/bytes';

// Bound once: under tsx's CommonJS interop every use of an imported binding is a getter call, which shows in per-key loops.
const { putLatin1, putU32, putU64 } = bytes;

/**
 * Content digest of one db, fed key by key in the stream's canonical order
 * (ascending hash slot, then key bytes — see keyspace.ts). Because that order
 * is a function of the keys alone, the digest depends only on the set of
 * (key, expiry, type, value) — not on SCAN order, cluster layout or value
 * encodings. docs/redis-format.md specifies the bytes hashed.
 *
 * Expiries enter at whole-second resolution: PEXPIRETIME (Redis ≥ 7) is exact
 * and RESTORE … ABSTTL keeps it to the millisecond, but on older servers the
 * expiry is derived from PTTL and the server clock and may be a few ms off.
 */
export class DbDigest {
  private buf = Buffer.allocUnsafe(1 << 16);
  private len = 0;
  count = 0;

  constructor(private readonly hash: Hash = createHash('sha256')) {}

  /** A digest that has seen everything this one has; both go on independently. */
  fork(): DbDigest {
    this.flush();
    const copy = new DbDigest(this.hash.copy());
    copy.count = this.count;
    return copy;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  private flush(): void {
    if (this.len) this.hash.update(this.buf.subarray(0, this.len));
    this.len = 0;
  }

  private u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  private u64(v: number): void {
    this.room(8);
    this.buf.writeUInt32BE(Math.floor(v / 0x100000000) >>> 0, this.len);
    this.buf.writeUInt32BE(v >>> 0, this.len + 4);
    this.len += 8;
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  /** Length-prefixed bytes; big ones go to the hash directly instead of being copied. */
  private bytes(b: Buffer, wide = false): void {
    if (wide) this.u64(b.length);
    else this.u32(b.length);
    if (b.length >= 16384) {
      this.flush();
      this.hash.update(b);
      return;
    }
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  private head(key: Buffer | string, expireAt: number, tag: number): void {
    this.count++;
    const klen = key.length;
    if (klen >= 16384) {
      this.bytes(typeof key === 'string' ? Buffer.from(key, 'latin1') : key);
      this.u64(expireAt > 0 ? Math.floor(expireAt / 1000) : 0);
      this.u8(tag);
      return;
    }
    this.room(17 + klen);
    const b = this.buf;
    let o = putU32(b, this.len, klen);
    if (typeof key === 'string') o = putLatin1(b, o, key);
    else {
      key.copy(b, o);
      o += klen;
    }
    o = putU64(b, o, expireAt > 0 ? Math.floor(expireAt / 1000) : 0);
    b[o++] = tag;
    this.len = o;
  }

  /** A plain string value (keys as latin1 strings or Buffers). */
  addString(key: Buffer | string, expireAt: number, value: Buffer): void {
    this.head(key, expireAt, Tag.string);
    this.bytes(value, true);
  }

  add(key: Buffer | string, expireAt: number, v: LogicalValue): void {
    switch (v.kind) {
      case 'string':
        return this.addString(key, expireAt, v.value);
      case 'list':
        this.head(key, expireAt, Tag.list);
        this.u64(v.items.length);
        for (const it of v.items) this.bytes(it);
        return;
      case 'set':
        this.head(key, expireAt, Tag.set);
        this.u64(v.members.length);
        for (const m of [...v.members].sort(Buffer.compare)) this.bytes(m);
        return;
      case 'hash': {
        // Field TTLs (Redis ≥ 7.4) are part of the value; a hash without any digests as before.
        const exp = v.expires?.some((e) => e > 0) ? v.expires : undefined;
        this.head(key, expireAt, exp ? Tag.hashWithFieldTtls : Tag.hash);
        this.u64(v.fields.length);
        for (const i of sortedIndex(v.fields)) {
          this.bytes(v.fields[i]);
          this.bytes(v.values[i]);
          if (exp) this.u64(exp[i]);
        }
        return;
      }
      case 'vectorset': {
        // What the set means — elements, their stored vectors, norms and attributes — not the HNSW graph,
        // which every load rebuilds differently (so a vector set's DUMP bytes change across RESTORE).
        this.head(key, expireAt, Tag.vectorset);
        this.u32(v.dim);
        this.u8(v.quant);
        this.u32(v.m);
        this.u32(v.projInputDim);
        this.bytes(v.projMatrix, true);
        this.u64(v.elements.length);
        const els = v.elements.map((e) => e.element);
        for (const i of sortedIndex(els)) {
          const e = v.elements[i];
          this.bytes(e.element);
          this.bytes(e.attributes);
          this.bytes(e.vector);
          this.u32(Number(e.norm >> 32n));
          this.u32(Number(e.norm & 0xffffffffn));
        }
        return;
      }
      case 'zset': {
        this.head(key, expireAt, Tag.zset);
        this.u64(v.members.length);
        for (const i of sortedIndex(v.members)) {
          this.bytes(v.members[i]);
          this.room(8);
          this.buf.writeDoubleBE(v.scores[i], this.len);
          this.len += 8;
        }
        return;
      }
      case 'opaque':
        this.head(key, expireAt, Tag.opaque);
        this.u8(v.rdbType);
        this.bytes(v.body, true);
        return;
    }
  }

  /** Hex SHA-256; the accumulator is spent afterwards. */
  digest(): string {
    this.flush();
    return this.hash.digest('hex');
  }
}

/** Type tags in the hashed bytes. */
export const Tag = {
  string: 1,
  list: 2,
  set: 3,
  zset: 4,
  hash: 5,
  opaque: 6,
  hashWithFieldTtls: 7,
  vectorset: 8,
} as const;

function sortedIndex(keys: Buffer[]): number[] {
  const idx = keys.map((_, i) => i);
  return idx.sort((a, b) => Buffer.compare(keys[a], keys[b]));
}

/** Label of a db in fingerprints: `db0`, `db1`, … */
export const dbLabel = (db: number) => `db${db}`;
