import { at, type Checker, choice, duration, isAbsent, mapping } from './check';
import type { ObjectLockConfig } from './types';

const MODES = ['governance', 'compliance'] as const;
const DAY = 86_400_000;

/**
 * `repository.objectLock: { mode: governance | compliance, retention: 30d }` (S3 only; the caller
 * refuses it for a local repository). Retention is at least a day: shorter protects nothing.
 */
export function parseObjectLock(c: Checker, raw: unknown, p: string): ObjectLockConfig | undefined {
  if (isAbsent(raw)) return undefined;
  const o = mapping(c, raw, p, ['mode', 'retention'], { example: '{ mode: governance, retention: 30d }' });
  if (!o) return undefined;
  const before = c.problems.length;
  if (isAbsent(o.mode))
    c.add(
      at(p, 'mode'),
      'is required: governance (an admin with s3:BypassGovernanceRetention can still delete) or compliance (nobody can, not even the root account)',
    );
  if (isAbsent(o.retention))
    c.add(
      at(p, 'retention'),
      'is required: how long each object stays undeletable after upload, e.g. 30d; longer than your longest retention rule keeps points',
    );
  const mode = choice(c, o.mode, at(p, 'mode'), MODES, 'an Object Lock mode');
  const retentionMs = duration(c, o.retention, at(p, 'retention'), DAY);
  if (c.problems.length > before || !mode || retentionMs === undefined) return undefined;
  return { mode, retentionMs };
}
