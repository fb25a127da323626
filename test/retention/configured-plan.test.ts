import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config';
import type { RecoveryPoint } from '../../repository';
import { decide } from '../../activities/retention';
import { rawTestConfig } from '../client/helpers';

/*
 * The configured plan (what forget --policy, prune --dry-run and pruneWorkflow all use): a month
 * of hourly backups under the config's rules, the newest *verified* point always kept (item 8 of
 * issue 9), a damaged point kept for inspection, command-line overrides over the config.
 */
const HOUR = 3_600_000;
const config = parseConfig(
  {
    ...rawTestConfig({ sources: [{ name: 'meta', type: 'redis', url: 'redis://127.0.0.1:1' }] }),
    retention: { keepLast: 2, keepDaily: 3 },
  },
  '<test>',
);
const idAt = (ms: number) =>
  `${new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}-0000000a`;
const points: RecoveryPoint[] = [];
for (let t = Date.parse('2026-11-01T00:00:00Z'); t <= Date.parse('2026-11-30T23:00:00Z'); t += HOUR)
  points.push({
    id: idAt(t),
    time: new Date(t).toISOString(),
    host: 'h',
    tags: [],
    labels: {},
    artifacts: [{ source: 'meta', kind: 'redis-logical', name: 'db0', size: 1, sha256: 'x', indexId: 'i', chunks: 1 }],
  });
points.push({
  id: '20261010T000000Z-deadbeef',
  time: '2026-10-10T00:00:00.000Z',
  host: '',
  tags: [],
  labels: {},
  artifacts: [],
  damaged: 'manifest fails authentication',
});
points.reverse(); // newest first, as the repository lists them
const verifiedId = idAt(Date.parse('2026-11-15T07:00:00Z'));

test('720 hourly points: last 2, daily 3, the newest verified point and the damaged one kept, with reasons', () => {
  const plan = decide(config, points, new Set([verifiedId, 'gone-point']), {}, Date.parse('2026-12-01T00:00:00Z'));
  assert.equal(plan.points.length, 721);
  assert.equal(plan.timezone, 'UTC');
  assert.deepEqual(plan.verified, [verifiedId]);
  const kept = plan.points.filter((p) => p.keep).map((p) => [p.id, p.reasons]);
  assert.deepEqual(kept, [
    [idAt(Date.parse('2026-11-30T23:00:00Z')), ['meta: last 1', 'meta: daily 2026-11-30']],
    [idAt(Date.parse('2026-11-30T22:00:00Z')), ['meta: last 2']],
    [idAt(Date.parse('2026-11-29T23:00:00Z')), ['meta: daily 2026-11-29']],
    [idAt(Date.parse('2026-11-28T23:00:00Z')), ['meta: daily 2026-11-28']],
    [verifiedId, ['meta: newest verified']],
    ['20261010T000000Z-deadbeef', ['damaged, kept for inspection: manifest fails authentication']],
  ]);
  assert.equal(plan.remove.length, 715);
  assert.ok(!plan.remove.includes(verifiedId));
});

test('overrides replace the config rule by rule; nothing verified: the newest is kept and the plan says so', () => {
  const plan = decide(config, points, new Set(), { keepLast: 1, keepDaily: 0 }, Date.parse('2026-12-01T00:00:00Z'));
  assert.deepEqual(
    plan.points.filter((p) => p.keep).map((p) => [p.id, p.reasons]),
    [
      [idAt(Date.parse('2026-11-30T23:00:00Z')), ['meta: last 1', 'meta: newest (none verified)']],
      ['20261010T000000Z-deadbeef', ['damaged, kept for inspection: manifest fails authentication']],
    ],
  );
});
