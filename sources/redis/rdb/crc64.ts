/**
 * CRC-64/Jones as Redis uses it to seal DUMP payloads (reflected, poly
 * 0xad93d23594c935a9, init 0). Kept in two 32-bit halves to stay off BigInt;
 * only used to tell a corrupt payload from one a target is too old to read.
 */
const LO = new Uint32Array(256);
const HI = new Uint32Array(256);
(() => {
  // Reflected polynomial 0x95ac9329ac4bc9b5.
  const pHi = 0x95ac9329;
  const pLo = 0xac4bc9b5;
  for (let i = 0; i < 256; i++) {
    let hi = 0;
    let lo = i;
    for (let j = 0; j < 8; j++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        hi = (hi ^ pHi) >>> 0;
        lo = (lo ^ pLo) >>> 0;
      }
    }
    HI[i] = hi;
    LO[i] = lo;
  }
})();

/** CRC-64 of `data` as 8 little-endian bytes (the layout of a DUMP trailer). */
export function crc64(data: Uint8Array): Buffer {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]) & 0xff;
    lo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
    hi = hi >>> 8;
    lo = (lo ^ LO[idx]) >>> 0;
    hi = (hi ^ HI[idx]) >>> 0;
  }
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32LE(lo, 0);
  out.writeUInt32LE(hi, 4);
  return out;
}

/** Facts about a DUMP payload's trailer: the RDB version and whether its checksum holds. */
export function dumpTrailer(payload: Buffer): { rdbVersion: number; checksumOk: boolean } | undefined {
  if (payload.length < 11) return undefined;
  const rdbVersion = payload.readUInt16LE(payload.length - 10);
  const crc = crc64(payload.subarray(0, payload.length - 8));
  return { rdbVersion, checksumOk: crc.equals(payload.subarray(payload.length - 8)) };
}
