import { crc64 } from './crc64';
import { DUMP_TRAILER, Reader } from './reader';
import { RdbType } from './value';

/**
 * A DUMP payload whose bytes depend on the value alone.
 *
 * A hash or set big enough to be stored as a hash table is dumped in the
 * table's iteration order, which follows the server's random hash seed: the
 * same data dumps differently after a restart, a failover or a restore, and
 * the backup stream around it changes, so deduplication would store it again.
 * For those RDB types (HASH, SET: plain lists of strings; HASH_METADATA:
 * the same with a per-field TTL in front of each field) the elements
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
  if (type !== RdbType.HASH && type !== RdbType.SET && type !== RdbType.HASH_METADATA) return payload;
  try {
    // HASH_METADATA (hash-field TTLs): an 8-byte min expiry, then per field its TTL length before field and value.
    if (type === RdbType.HASH_METADATA) return reorder(payload, 2, 8, true) ?? payload;
    return reorder(payload, type === RdbType.HASH ? 2 : 1) ?? payload;
  } catch {
    return payload;
  }
}

/** Element spans sorted by their first string; undefined when already in order. */
function reorder(payload: Buffer, stringsPerElement: number, skip = 0, ttlFirst = false): Buffer | undefined {
  const end = payload.length - DUMP_TRAILER;
  const s = new Reader(payload, end);
  s.pos = 1 + skip;
  const n = s.count();
  const headerEnd = s.pos;
  const starts = new Array<number>(n + 1);
  // Latin1 strings (one char per byte) compare in byte order, and much faster than Buffers.
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    starts[i] = s.pos;
    if (ttlFirst) s.count();
    // Integers compare as their decimal text and compressed strings by their decompressed bytes: fields and members are unique by value.
    keys[i] = s.string().toString('latin1');
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
