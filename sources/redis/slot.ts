/** Redis Cluster hash slots (CRC16/XMODEM of the key or its {hash tag}, mod 16384). */
export const SLOTS = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

function crc16(b: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b[i]) & 0xff];
  return crc;
}

/** The slot of a key, following Redis' hash-tag rule (first `{`, next `}`, non-empty between). */
export function keySlot(key: Uint8Array): number {
  const len = key.length;
  let open = -1;
  for (let i = 0; i < len; i++) {
    if (key[i] === 0x7b) {
      open = i;
      break;
    }
  }
  if (open >= 0) {
    for (let j = open + 1; j < len; j++) {
      if (key[j] === 0x7d) {
        if (j > open + 1) return crc16(key, open + 1, j) & (SLOTS - 1);
        break;
      }
    }
  }
  return crc16(key, 0, len) & (SLOTS - 1);
}

/** keySlot for a key held as a latin1 string (one char per byte). */
export function keySlotLatin1(key: string): number {
  const len = key.length;
  let from = 0;
  let to = len;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff];
  return crc & (SLOTS - 1);
}
