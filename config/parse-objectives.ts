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
  const o = mapping(c, raw, p, RETENTION_KEYS, { example: '{ keepLast: 3, keepDaily: 7 }' });
  if (!o) return {};
  const out: Partial<Record<keyof Retention, number>> = {};
  for (const k of RETENTION_KEYS) {
    const n = int(c, o[k], at(p, k), 0, 100_000);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

/** All rules at 0 would let prune delete every recovery point; restic refuses that too. */
export function checkRetentionKeepsSomething(c: Checker, r: Retention, p: string): void {
  if (RETENTION_KEYS.every((k) => r[k] === 0)) {
    c.add(
      p,
      'keeps nothing: every rule is 0, so prune would delete every recovery point; keep at least one, e.g. keepLast: 3',
    );
  }
}
