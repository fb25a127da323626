/**
 * Where record groups end (the pieces a source hands the repository with
 * `chunking: 'records'`): before a record whose key hashes to an even value,
 * so about two records per group, and boundaries that depend on keys only.
 * FNV-1a alone is not enough: its lowest bit is the parity of the key's
 * characters, which structured keys (`user:1`, `user:3`, …) make lopsided; the
 * MurmurHash3 finalizer mixes every bit of the key into it.
 */

/** Groups also end before a record once they hold this many bytes, whatever the hash says. */
export const GROUP_MAX_BYTES = 16 * 1024;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of a key given as a latin1 string (one char per byte) or as bytes. */
export function keyHash(key: string | Uint8Array): number {
  let h = 0x811c9dc5;
  if (typeof key === 'string') for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  else for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i], 0x01000193);
  return fmix32(h);
}

/** Whether a group holding `groupBytes` bytes ends before the record of `key`. */
export function endsGroupBefore(key: string | Uint8Array, groupBytes: number): boolean {
  return groupBytes > 0 && ((keyHash(key) & 1) === 0 || groupBytes >= GROUP_MAX_BYTES);
}
