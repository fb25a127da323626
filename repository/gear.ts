import { createHash } from 'node:crypto';

/**
 * Gear table of a repository: 256 pseudo-random 32-bit words derived from the
 * config's secret gearSeed, so chunk boundaries (and thus chunk sizes) cannot
 * be predicted by someone who knows the data but not the repository secrets.
 *
 *   gear[i] = big-endian uint32 of SHA-256("lifeboat-gear-v1" || seed || byte(i))[0..4]
 */
export function deriveGearTable(seed: Buffer): Uint32Array {
  const g = new Uint32Array(256);
  const prefix = Buffer.from('lifeboat-gear-v1', 'utf8');
  for (let i = 0; i < 256; i++) {
    g[i] = createHash('sha256')
      .update(prefix)
      .update(seed)
      .update(Buffer.from([i]))
      .digest()
      .readUInt32BE(0);
  }
  return g;
}

/**
 * Mask with `bits` one-bits at positions 30 down to 31-bits. Bit 31 stays
 * clear so the two-bytes-per-step scan (which tests h<<1 against mask<<1) is
 * exactly equivalent to the byte-at-a-time definition.
 */
export function gearMask(bits: number): number {
  if (bits < 1 || bits > 30) throw new RangeError(`mask bits ${bits} out of range`);
  return ((2 ** bits - 1) * 2 ** (31 - bits)) | 0;
}
