/**
 * Inline byte writers for the hot paths. Node's Buffer#write(…, 'latin1')
 * costs a native call per use; keys and lengths are short, so a JS loop is
 * several times cheaper there.
 */

/** Writes a latin1 string (one byte per char); returns the new offset. */
export function putLatin1(b: Buffer, o: number, s: string): number {
  const n = s.length;
  if (n > 64) return o + b.write(s, o, 'latin1');
  for (let i = 0; i < n; i++) b[o + i] = s.charCodeAt(i);
  return o + n;
}

/** Writes a non-negative integer in decimal ASCII; returns the new offset. */
export function putDecimal(b: Buffer, o: number, v: number): number {
  if (v < 10) {
    b[o] = 48 + v;
    return o + 1;
  }
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = o + digits - 1; i >= o; i--) {
    b[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return o + digits;
}

/** Writes `$<n>\r\n`. */
export function putBulkHeader(b: Buffer, o: number, n: number): number {
  b[o] = 0x24;
  o = putDecimal(b, o + 1, n);
  b[o] = 13;
  b[o + 1] = 10;
  return o + 2;
}

export function putU32(b: Buffer, o: number, v: number): number {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
  return o + 4;
}

/** Big-endian 64-bit unsigned from a JS number (< 2^53). */
export function putU64(b: Buffer, o: number, v: number): number {
  putU32(b, o, Math.floor(v / 0x100000000) >>> 0);
  return putU32(b, o + 4, v >>> 0);
}
