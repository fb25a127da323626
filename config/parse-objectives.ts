import { at, type Checker, duration, int, isAbsent, mapping } from './check';
import type { Retention, Targets } from './types';

const RETENTION_KEYS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/** `targets: { rpo: 1h, rto: 15m }`, either key optional: what is given overrides what is inherited. */
export function parsePartialTargets(c: Checker, raw: unknown, p: string): Partial<Targets> {
  if (isAbsent(raw)) return {};
  const o = mapping(c, raw, p, ['rpo', 'rto'], { example: '{ rpo: 1h, rto: 15m }' });
  if (!o) return {};
  const out: { rpo?: number; rto?: number } = {};
  const rpo = duration(c, o.rpo, at(p, 'rpo'));
  const rto = duration(c, o.rto, at(p, 'rto'));
  if (rpo !== undefined) out.rpo = rpo;
  if (rto !== undefined) out.rto = rto;
  return out;
}

/** `retention: { keepDaily: 7 }`: each given rule overrides the inherited one; 0 turns a rule off. */
export function parsePartialRetention(c: Checker, raw: unknown, p: string): Partial<Retention> {
  if (isAbsent(raw)) return {};
  const o = mapping(c, raw, p, [...RETENTION_KEYS, 'keepWithin', 'keepTags', 'keepSafetyWithin', 'timezone'], {
    example: '{ keepLast: 3, keepDaily: 7, keepWithin: 2d, timezone: Europe/Berlin }',
  });
  if (!o) return {};
  const out: { -readonly [K in keyof Retention]?: Retention[K] } = {};
  for (const k of RETENTION_KEYS) {
    // -1 = unlimited, as restic.
    const n = int(c, o[k], at(p, k), -1, 100_000);
    if (n !== undefined) out[k] = n;
  }
  const within = duration(c, o.keepWithin, at(p, 'keepWithin'));
  if (within !== undefined) out.keepWithin = within;
  const safety = duration(c, o.keepSafetyWithin, at(p, 'keepSafetyWithin'));
  if (safety !== undefined) out.keepSafetyWithin = safety;
  if (!isAbsent(o.keepTags)) {
    const tags = o.keepTags;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.trim() === '')) {
      c.add(at(p, 'keepTags'), 'must be a list of non-empty tag names, e.g. [monthly-audit]', tags);
    } else out.keepTags = tags as string[];
  }
  if (!isAbsent(o.timezone)) {
    const tz = o.timezone;
    if (p !== 'retention') {
      c.add(
        at(p, 'timezone'),
        'is set once, in the global retention: period boundaries are the same for every source',
        tz,
      );
    } else if (typeof tz !== 'string' || !validTimezone(tz)) {
      c.add(at(p, 'timezone'), 'is not an IANA time zone; use e.g. UTC or Europe/Berlin', tz);
    } else out.timezone = tz;
  }
  return out;
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** All rules at 0 would let prune delete every recovery point; restic refuses that too. */
export function checkRetentionKeepsSomething(c: Checker, r: Retention, p: string): void {
  if (RETENTION_KEYS.every((k) => r[k] === 0) && !r.keepWithin && !r.keepTags?.length) {
    c.add(
      p,
      'keeps nothing: every rule is 0, so prune would delete every recovery point; keep at least one, e.g. keepLast: 3',
    );
  }
}
