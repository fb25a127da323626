import { InvalidSizeError } from './errors';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};
const HELP =
  'write bytes as a number, or with a unit B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. "2GiB", "500MB"';

/**
 * Bytes in a size such as 1048576, "500MB" or "2GiB". Bare "K"/"M"/"G" are
 * refused: whether they mean 1000 or 1024 is exactly the ambiguity that
 * makes a 2 GB limit come out 7% off.
 * @throws InvalidSizeError naming the input and the accepted forms.
 */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0) return input;
    throw new InvalidSizeError(input, `${input} is not a size; ${HELP}`);
  }
  if (typeof input !== 'string') throw new InvalidSizeError(input, `${JSON.stringify(input)} is not a size; ${HELP}`);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!m) throw new InvalidSizeError(input, `"${input}" is not a size; ${HELP}`);
  const unit = m[2].toLowerCase() || 'b';
  const factor = UNITS[unit];
  if (factor === undefined) {
    const guess = ['k', 'm', 'g', 't'].includes(unit)
      ? `; write "${m[1]}${m[2].toUpperCase()}iB" or "${m[1]}${m[2].toUpperCase()}B"`
      : '';
    throw new InvalidSizeError(input, `"${input}" has an unknown unit "${m[2]}"${guess}; ${HELP}`);
  }
  const bytes = Math.round(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new InvalidSizeError(input, `"${input}" is too large`);
  return bytes;
}
