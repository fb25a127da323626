/**
 * A key's value decoded from its DUMP payload into encoding-free form. Redis
 * may serialise the same value differently (listpack vs hashtable, intset vs
 * listpack, ziplist on Redis 6, LZF-compressed or not), and RESTORE may
 * re-encode it; digests are computed over this form so that "equal" means the
 * same logical value. Streams and module types stay opaque (their body bytes,
 * without the RDB version and checksum), which is exact for a round trip
 * through the same RDB version.
 */
export type LogicalValue =
  | { kind: 'string'; value: Buffer }
  | { kind: 'list'; items: Buffer[] }
  | { kind: 'set'; members: Buffer[] }
  | {
      kind: 'hash';
      fields: Buffer[];
      values: Buffer[];
      /** Per-field absolute expiry in unix ms, 0 = none (Redis ≥ 7.4). */ expires?: number[];
    }
  | VectorSetValue
  | { kind: 'zset'; members: Buffer[]; scores: number[] }
  | { kind: 'opaque'; rdbType: number; body: Buffer; /** Module type name, for a module value. */ module?: string };

/** RDB object type bytes (rdb.h). */
export const RdbType = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  MODULE_2: 7,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
} as const;

/** The RDB types this adapter decodes into a logical value (everything else is passed through opaque). */
export const KNOWN_RDB_TYPES: ReadonlySet<number> = new Set([
  0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 24, 25,
]);

import { DUMP_TRAILER, Reader } from './reader';
import { decodeModule, hashListpackEx, hashMetadata, type VectorSetValue } from './redis8';

const int = (v: number | bigint) => Buffer.from(String(v));

/** Elements of a listpack blob; integers come back as their decimal string, as Redis reads them. */
export function listpackEntries(lp: Buffer, out: Buffer[] = []): Buffer[] {
  let p = 6;
  const end = lp.length;
  for (;;) {
    if (p >= end) throw new Error('listpack without end marker');
    const b = lp[p];
    if (b === 0xff) break;
    let entryLen: number;
    if ((b & 0x80) === 0) {
      out.push(int(b & 0x7f));
      entryLen = 1;
    } else if ((b & 0xc0) === 0x80) {
      const n = b & 0x3f;
      out.push(lp.subarray(p + 1, p + 1 + n));
      entryLen = 1 + n;
    } else if ((b & 0xe0) === 0xc0) {
      let v = ((b & 0x1f) << 8) | lp[p + 1];
      if (v >= 1 << 12) v -= 1 << 13;
      out.push(int(v));
      entryLen = 2;
    } else if ((b & 0xf0) === 0xe0) {
      const n = ((b & 0x0f) << 8) | lp[p + 1];
      out.push(lp.subarray(p + 2, p + 2 + n));
      entryLen = 2 + n;
    } else if (b === 0xf0) {
      const n = lp.readUInt32LE(p + 1);
      out.push(lp.subarray(p + 5, p + 5 + n));
      entryLen = 5 + n;
    } else if (b === 0xf1) {
      out.push(int(lp.readInt16LE(p + 1)));
      entryLen = 3;
    } else if (b === 0xf2) {
      out.push(int(lp.readIntLE(p + 1, 3)));
      entryLen = 4;
    } else if (b === 0xf3) {
      out.push(int(lp.readInt32LE(p + 1)));
      entryLen = 5;
    } else if (b === 0xf4) {
      out.push(int(lp.readBigInt64LE(p + 1)));
      entryLen = 9;
    } else {
      throw new Error(`bad listpack encoding byte 0x${b.toString(16)}`);
    }
    const backlen = entryLen <= 127 ? 1 : entryLen < 16383 ? 2 : entryLen < 2097151 ? 3 : entryLen < 268435455 ? 4 : 5;
    p += entryLen + backlen;
    if (p > end) throw new Error('listpack entry runs past its end');
  }
  return out;
}

/** Elements of a ziplist blob (Redis ≤ 6 encodings). */
export function ziplistEntries(zl: Buffer, out: Buffer[] = []): Buffer[] {
  let p = 10;
  const end = zl.length;
  for (;;) {
    if (p >= end) throw new Error('ziplist without end marker');
    if (zl[p] === 0xff) break;
    p += zl[p] === 0xfe ? 5 : 1;
    const b = zl[p];
    const t = b >> 6;
    if (t === 0) {
      const n = b & 0x3f;
      out.push(zl.subarray(p + 1, p + 1 + n));
      p += 1 + n;
    } else if (t === 1) {
      const n = ((b & 0x3f) << 8) | zl[p + 1];
      out.push(zl.subarray(p + 2, p + 2 + n));
      p += 2 + n;
    } else if (t === 2) {
      const n = zl.readUInt32BE(p + 1);
      out.push(zl.subarray(p + 5, p + 5 + n));
      p += 5 + n;
    } else if (b === 0xc0) {
      out.push(int(zl.readInt16LE(p + 1)));
      p += 3;
    } else if (b === 0xd0) {
      out.push(int(zl.readInt32LE(p + 1)));
      p += 5;
    } else if (b === 0xe0) {
      out.push(int(zl.readBigInt64LE(p + 1)));
      p += 9;
    } else if (b === 0xf0) {
      out.push(int(zl.readIntLE(p + 1, 3)));
      p += 4;
    } else if (b === 0xfe) {
      out.push(int(zl.readInt8(p + 1)));
      p += 2;
    } else if (b >= 0xf1 && b <= 0xfd) {
      out.push(int((b & 0x0f) - 1));
      p += 1;
    } else {
      throw new Error(`bad ziplist encoding byte 0x${b.toString(16)}`);
    }
    if (p > end) throw new Error('ziplist entry runs past its end');
  }
  return out;
}

function intsetEntries(is: Buffer): Buffer[] {
  const width = is.readUInt32LE(0);
  const n = is.readUInt32LE(4);
  if (![2, 4, 8].includes(width) || 8 + width * n > is.length) throw new Error('bad intset header');
  const out: Buffer[] = new Array(n);
  for (let i = 0, p = 8; i < n; i++, p += width) {
    out[i] = int(width === 2 ? is.readInt16LE(p) : width === 4 ? is.readInt32LE(p) : is.readBigInt64LE(p));
  }
  return out;
}

function parseScore(b: Buffer): number {
  const s = b.toString('latin1');
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  const v = Number(s);
  if (Number.isNaN(v)) throw new Error(`bad zset score "${s}"`);
  return v;
}

function pairs(flat: Buffer[]): { a: Buffer[]; b: Buffer[] } {
  if (flat.length % 2) throw new Error('odd number of entries in a pair encoding');
  const a: Buffer[] = new Array(flat.length / 2);
  const b: Buffer[] = new Array(flat.length / 2);
  for (let i = 0; i < a.length; i++) {
    a[i] = flat[2 * i];
    b[i] = flat[2 * i + 1];
  }
  return { a, b };
}

function opaque(payload: Buffer): LogicalValue {
  return { kind: 'opaque', rdbType: payload[0], body: payload.subarray(1, payload.length - DUMP_TRAILER) };
}

/**
 * Decodes a DUMP payload. Types it does not know (streams, modules, future
 * encodings) and payloads it cannot parse come back opaque rather than
 * failing: the digest then compares bytes, which still proves a same-version
 * round trip.
 */
export function decodeDump(payload: Buffer): LogicalValue {
  if (payload.length < DUMP_TRAILER + 1) throw new Error('DUMP payload shorter than its trailer');
  try {
    const v = decodeKnown(payload);
    return v ?? opaque(payload);
  } catch {
    return opaque(payload);
  }
}

function decodeKnown(payload: Buffer): LogicalValue | undefined {
  const r = new Reader(payload, payload.length - DUMP_TRAILER);
  const type = r.u8();
  let v: LogicalValue;
  switch (type) {
    case RdbType.STRING:
      v = { kind: 'string', value: r.string() };
      break;
    case RdbType.LIST:
    case RdbType.SET: {
      const n = r.count();
      const items: Buffer[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = r.string();
      v = type === RdbType.LIST ? { kind: 'list', items } : { kind: 'set', members: items };
      break;
    }
    case RdbType.ZSET:
    case RdbType.ZSET_2: {
      const n = r.count();
      const members: Buffer[] = new Array(n);
      const scores: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        members[i] = r.string();
        scores[i] = type === RdbType.ZSET ? r.doubleText() : r.doubleBinary();
      }
      v = { kind: 'zset', members, scores };
      break;
    }
    case RdbType.HASH: {
      const n = r.count();
      const fields: Buffer[] = new Array(n);
      const values: Buffer[] = new Array(n);
      for (let i = 0; i < n; i++) {
        fields[i] = r.string();
        values[i] = r.string();
      }
      v = { kind: 'hash', fields, values };
      break;
    }
    case RdbType.HASH_METADATA:
      v = { kind: 'hash', ...hashMetadata(r) };
      break;
    case RdbType.HASH_LISTPACK_EX:
      v = { kind: 'hash', ...hashListpackEx(r, (lp) => listpackEntries(lp)) };
      break;
    case RdbType.MODULE_2: {
      const m = decodeModule(r);
      if (m.kind === 'module')
        return {
          kind: 'opaque',
          rdbType: type,
          body: payload.subarray(1, payload.length - DUMP_TRAILER),
          module: m.name,
        };
      v = m;
      break;
    }
    case RdbType.LIST_ZIPLIST:
      v = { kind: 'list', items: ziplistEntries(r.string()) };
      break;
    case RdbType.SET_INTSET:
      v = { kind: 'set', members: intsetEntries(r.string()) };
      break;
    case RdbType.SET_LISTPACK:
      v = { kind: 'set', members: listpackEntries(r.string()) };
      break;
    case RdbType.ZSET_ZIPLIST:
    case RdbType.ZSET_LISTPACK: {
      const blob = r.string();
      const { a, b } = pairs(type === RdbType.ZSET_ZIPLIST ? ziplistEntries(blob) : listpackEntries(blob));
      v = { kind: 'zset', members: a, scores: b.map(parseScore) };
      break;
    }
    case RdbType.HASH_ZIPLIST:
    case RdbType.HASH_LISTPACK: {
      const blob = r.string();
      const { a, b } = pairs(type === RdbType.HASH_ZIPLIST ? ziplistEntries(blob) : listpackEntries(blob));
      v = { kind: 'hash', fields: a, values: b };
      break;
    }
    case RdbType.LIST_QUICKLIST: {
      const n = r.count();
      const items: Buffer[] = [];
      for (let i = 0; i < n; i++) ziplistEntries(r.string(), items);
      v = { kind: 'list', items };
      break;
    }
    case RdbType.LIST_QUICKLIST_2: {
      const n = r.count();
      const items: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const container = r.count();
        const blob = r.string();
        if (container === 1) items.push(blob);
        else if (container === 2) listpackEntries(blob, items);
        else throw new Error(`unknown quicklist container ${container}`);
      }
      v = { kind: 'list', items };
      break;
    }
    default:
      return undefined;
  }
  if (r.pos !== r.end) throw new Error('trailing bytes after the value');
  return v;
}
