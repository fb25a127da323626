import { at, type Checker, duration, int, isAbsent, list, mapping, str } from './check';
import type { Retention, Targets } from './types';

const RETENTION_KEYS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;
/** Keys of the top-level `retention` only (config/parse-retention.ts). */
export const RETENTION_GLOBAL_KEYS = ['timezone', 'safety'] as const;

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
export function parsePartialRetention(c: Checker, raw: unknown, p: string, global = false): Partial<Retention> {
  if (isAbsent(raw)) return {};
  const foreign = global
    ? undefined
    : Object.fromEntries(
        RETENTION_GLOBAL_KEYS.map((k) => [
          k,
          `is repository-wide: set it under the top-level retention, not per source`,
        ]),
      );
  const o = mapping(
    c,
    raw,
    p,
    [...RETENTION_KEYS, 'keepWithin', 'keepTags', ...(global ? RETENTION_GLOBAL_KEYS : [])],
    {
      example: '{ keepLast: 3, keepDaily: 7, keepWithin: 2d }',
      foreign,
    },
  );
  if (!o) return {};
  const out: { -readonly [K in keyof Retention]?: Retention[K] } = {};
  for (const k of RETENTION_KEYS) {
    const n = int(c, o[k], at(p, k), 0, 100_000);
    if (n !== undefined) out[k] = n;
  }
  if (o.keepWithin === 0 || o.keepWithin === '0') out.keepWithin = 0;
  else {
    const within = duration(c, o.keepWithin, at(p, 'keepWithin'));
    if (within !== undefined) out.keepWithin = within;
  }
  const tags = list(c, o.keepTags, at(p, 'keepTags'), '[pre-upgrade, monthly-audit]');
  if (tags) {
    const ok: string[] = [];
    tags.forEach((t, i) => {
      const tag = str(c, t, at(at(p, 'keepTags'), i), { hint: 'a tag as given to lifeboat backup --tag' });
      if (tag !== undefined) ok.push(tag);
    });
    out.keepTags = ok;
  }
  return out;
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
