import { InvalidDurationError } from './errors';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;
const HELP = 'use numbers with units ms, s, m, h, d, w — e.g. "90s", "15m", "1h30m", "7d"';
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/**
 * Milliseconds in a duration such as "90s", "15m", "1h", "7d" or "1h30m"
 * (Go-style: parts add up, decimals allowed, "500ms"). Units are lowercase on
 * purpose: "1M" could mean a minute or a month, so it is refused rather than
 * guessed.
 * @throws InvalidDurationError naming the input and the accepted forms.
 */
export function parseDuration(input: string): number {
  if (typeof input !== 'string') {
    const hint = typeof input === 'number' ? `; add a unit, e.g. "${input}s" or "${input}m"` : '';
    throw new InvalidDurationError(input, `${JSON.stringify(input)} is not a duration${hint}; ${HELP}`);
  }
  const s = input.trim();
  if (s === '') throw new InvalidDurationError(input, `an empty string is not a duration; ${HELP}`);
  if (/^\d+(\.\d+)?$/.test(s))
    throw new InvalidDurationError(input, `"${input}" has no unit; write e.g. "${s}s" or "${s}m"`);
  let total = 0;
  const seen = new Set<Unit>();
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m) {
      const rest = s.slice(at);
      const upper = /^\d+(\.\d+)?[A-Z]/.test(rest) ? '; units are lowercase' : '';
      throw new InvalidDurationError(input, `"${input}" is not a duration (cannot read "${rest}")${upper}; ${HELP}`);
    }
    const unit = m[2] as Unit;
    if (seen.has(unit)) throw new InvalidDurationError(input, `"${input}" gives "${unit}" twice; ${HELP}`);
    seen.add(unit);
    total += Number(m[1]) * UNIT_MS[unit];
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER)
    throw new InvalidDurationError(input, `"${input}" is too long`);
  return Math.round(total);
}

/** The shortest readable form of a duration, e.g. 5_400_000 → "1h30m"; inverse of {@link parseDuration} for whole units. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const order: Unit[] = ['d', 'h', 'm', 's', 'ms'];
  let rest = Math.round(ms);
  let out = '';
  for (const u of order) {
    const n = Math.floor(rest / UNIT_MS[u]);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * UNIT_MS[u];
    }
  }
  return out;
}
