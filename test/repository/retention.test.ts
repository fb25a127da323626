/**
 * The retention policy against a hand-computed table (no servers: planRetention is pure).
 *
 * 700 daily points at 22:30Z from 2027-01-01 to 2028-11-30, planned in Europe/Berlin:
 * 22:30Z is 23:30 the same day in winter (CET) but 00:30 the NEXT day in summer (CEST),
 * so month ends under DST move to the previous UTC day. 2028-02-29 is a leap day.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planRetention, type RetentionPolicy } from '../../repository/retention';
import type { ArtifactRef, RecoveryPoint } from '../../repository/types';

const DAY = 86_400_000;
const OFF: RetentionPolicy = { keepLast: 0, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 };

function artifact(source: string): ArtifactRef {
  return {
    source,
    name: source,
    kind: 'file',
    size: 1,
    sha256: '0'.repeat(64),
    indexId: `i-${source}`,
    chunks: 1,
  } as ArtifactRef;
}

function point(iso: string, sources: string[], extra: Partial<RecoveryPoint> = {}): RecoveryPoint {
  const t = new Date(iso);
  const id = `${t.toISOString().replace(/[-:]|\.\d{3}/g, '')}-${sources.join('').length.toString(16).padStart(8, '0')}`;
  return { id, time: t.toISOString(), host: 'h', tags: [], labels: {}, artifacts: sources.map(artifact), ...extra };
}

function fixture(): RecoveryPoint[] {
  const points: RecoveryPoint[] = [];
  for (let t = Date.parse('2027-01-01T22:30:00Z'); t <= Date.parse('2028-11-30T22:30:00Z'); t += DAY) {
    const iso = new Date(t).toISOString();
    points.push(
      point(
        iso,
        ['sessions', 'vectors'],
        iso.startsWith('2027-06-15') ? { hold: { reason: 'case 42', time: iso } } : {},
      ),
    );
  }
  // Partial points: manual backups of one source.
  for (const iso of ['2028-11-30T20:30:00Z', '2028-11-30T21:00:00Z', '2028-11-30T21:30:00Z'])
    points.push(point(iso, ['sessions']));
  points.push(point('2027-03-03T12:00:00Z', ['sessions'], { tags: ['audit'] }));
  points.push(point('2027-08-08T12:00:00Z', ['cache']));
  // Safety points: never counted for a source, kept 7 days.
  for (const iso of ['2028-11-30T23:00:00Z', '2028-11-29T12:00:00Z', '2028-11-20T12:00:00Z'])
    points.push(point(iso, ['sessions'], { tags: ['safety'] }));
  points.push(point('2027-05-05T12:00:00Z', [], { damaged: 'manifest does not open' }));
  return points;
}

const POLICIES: Record<string, RetentionPolicy> = {
  sessions: {
    keepLast: 2,
    keepHourly: 2,
    keepDaily: 3,
    keepWeekly: 2,
    keepMonthly: 10,
    keepYearly: 2,
    keepTags: ['audit'],
  },
  vectors: { ...OFF, keepDaily: 5, keepWithin: 2 * DAY },
  cache: OFF,
};
const NOW = new Date('2028-12-01T00:00:00Z');

/** Hand-computed: time of each kept point → its reasons, in order. Every other point is removed. */
const EXPECTED: Record<string, string[]> = {
  '2028-11-30T23:00:00.000Z': ['safety within 7d'],
  '2028-11-30T22:30:00.000Z': [
    'newest of sessions',
    'last 1 (sessions)',
    'hourly 2028-11-30 23h (sessions)',
    'daily 2028-11-30 (sessions)',
    'weekly 2028-W48 (sessions)',
    'monthly 2028-11 (sessions)',
    'yearly 2028 (sessions)',
    'newest of vectors',
    'daily 2028-11-30 (vectors)',
    'within 2d (vectors)',
  ],
  '2028-11-30T21:30:00.000Z': ['last 2 (sessions)', 'hourly 2028-11-30 22h (sessions)'],
  '2028-11-29T22:30:00.000Z': ['daily 2028-11-29 (sessions)', 'daily 2028-11-29 (vectors)', 'within 2d (vectors)'],
  '2028-11-29T12:00:00.000Z': ['safety within 7d'],
  '2028-11-28T22:30:00.000Z': ['daily 2028-11-28 (sessions)', 'daily 2028-11-28 (vectors)'],
  '2028-11-27T22:30:00.000Z': ['daily 2028-11-27 (vectors)'],
  // Sunday of ISO week 47.
  '2028-11-26T22:30:00.000Z': ['weekly 2028-W47 (sessions)', 'daily 2028-11-26 (vectors)'],
  // After the DST end (2028-10-29): 22:30Z is still Oct 31 in Berlin.
  '2028-10-31T22:30:00.000Z': ['monthly 2028-10 (sessions)'],
  // Summer time: 09-30T22:30Z is already October 1st in Berlin, so September's newest is 09-29.
  '2028-09-29T22:30:00.000Z': ['monthly 2028-09 (sessions)'],
  '2028-08-30T22:30:00.000Z': ['monthly 2028-08 (sessions)'],
  '2028-07-30T22:30:00.000Z': ['monthly 2028-07 (sessions)'],
  '2028-06-29T22:30:00.000Z': ['monthly 2028-06 (sessions)'],
  '2028-05-30T22:30:00.000Z': ['monthly 2028-05 (sessions)'],
  '2028-04-29T22:30:00.000Z': ['monthly 2028-04 (sessions)'],
  // DST began 2028-03-26: 03-31T22:30Z is April 1st.
  '2028-03-30T22:30:00.000Z': ['monthly 2028-03 (sessions)'],
  // Leap day, winter time.
  '2028-02-29T22:30:00.000Z': ['monthly 2028-02 (sessions)'],
  '2027-12-31T22:30:00.000Z': ['yearly 2027 (sessions)'],
  '2027-08-08T12:00:00.000Z': ['newest of cache'],
  '2027-06-15T22:30:00.000Z': ['legal hold: case 42'],
  '2027-05-05T12:00:00.000Z': ['damaged, kept for inspection: manifest does not open'],
  '2027-03-03T12:00:00.000Z': ['tag audit (sessions)'],
};

test('per-source GFS policy in Europe/Berlin: exact kept set and reasons', () => {
  const points = fixture();
  assert.equal(points.length, 709);
  const plan = planRetention(points, (s) => POLICIES[s], { now: NOW, timezone: 'Europe/Berlin' });
  assert.equal(plan.length, points.length);
  const kept = Object.fromEntries(plan.filter((d) => d.keep).map((d) => [d.time, d.reasons]));
  assert.deepEqual(kept, EXPECTED);
  for (const d of plan) assert.equal(d.keep, d.reasons.length > 0, d.id);
  assert.equal(plan.filter((d) => !d.keep).length, 709 - Object.keys(EXPECTED).length);
  // Newest first.
  assert.deepEqual(
    plan.map((d) => d.time),
    [...plan.map((d) => d.time)].sort().reverse(),
  );
});

test('the same points in UTC: month and day boundaries follow UTC', () => {
  const plan = planRetention(fixture(), (s) => POLICIES[s], { now: NOW });
  const monthly = plan.flatMap((d) => d.reasons.filter((r) => r.startsWith('monthly')).map((r) => `${d.time} ${r}`));
  assert.deepEqual(monthly, [
    '2028-11-30T22:30:00.000Z monthly 2028-11 (sessions)',
    '2028-10-31T22:30:00.000Z monthly 2028-10 (sessions)',
    '2028-09-30T22:30:00.000Z monthly 2028-09 (sessions)',
    '2028-08-31T22:30:00.000Z monthly 2028-08 (sessions)',
    '2028-07-31T22:30:00.000Z monthly 2028-07 (sessions)',
    '2028-06-30T22:30:00.000Z monthly 2028-06 (sessions)',
    '2028-05-31T22:30:00.000Z monthly 2028-05 (sessions)',
    '2028-04-30T22:30:00.000Z monthly 2028-04 (sessions)',
    '2028-03-31T22:30:00.000Z monthly 2028-03 (sessions)',
    '2028-02-29T22:30:00.000Z monthly 2028-02 (sessions)',
  ]);
});

test('-1 keeps every period; a point is removed only when no source keeps it', () => {
  const pts = [
    point('2028-01-01T10:00:00Z', ['a', 'b']),
    point('2028-01-01T11:00:00Z', ['a']),
    point('2028-01-02T10:00:00Z', ['b']),
  ];
  const plan = planRetention(pts, (s) => (s === 'a' ? { ...OFF, keepDaily: -1 } : OFF), { now: NOW });
  assert.deepEqual(
    plan.map((d) => [d.time, d.keep, d.reasons]),
    [
      ['2028-01-02T10:00:00.000Z', true, ['newest of b']],
      ['2028-01-01T11:00:00.000Z', true, ['newest of a', 'daily 2028-01-01 (a)']],
      ['2028-01-01T10:00:00.000Z', false, []],
    ],
  );
});

test('an unknown time zone is refused with a message naming it', () => {
  assert.throws(
    () => planRetention([], OFF, { now: NOW, timezone: 'Mars/Olympus' }),
    /unknown time zone "Mars\/Olympus"/,
  );
});
