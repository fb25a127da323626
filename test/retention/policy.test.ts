import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isoWeek, periodKey } from '../../retention/periods';
import { planRetention, type KeepRules, type PolicyPoint } from '../../retention/policy';

/*
 * The policy against hand-computed tables. The points are generated from
 * calendar rules written here independently of Intl (the EU summer-time rule:
 * last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC); the
 * expected kept points and reasons are written out by hand, in UTC.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NONE: KeepRules = { keepLast: 0, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 };

function lastSunday(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month, 0)); // last day of `month` (1-12)
  return Date.UTC(year, month - 1, last.getUTCDate() - last.getUTCDay(), 1);
}
/** Berlin's offset from UTC (ms) at an instant, by the EU rule. */
function berlinOffset(utc: number): number {
  const y = new Date(utc).getUTCFullYear();
  return utc >= lastSunday(y, 3) && utc < lastSunday(y, 10) ? 2 * HOUR : HOUR;
}
/** A Berlin wall-clock time (never in a skipped or repeated hour) as UTC ms. */
function berlin(y: number, m: number, d: number, h: number, min: number): number {
  const wall = Date.UTC(y, m - 1, d, h, min);
  const guess = wall - 2 * HOUR;
  return berlinOffset(guess) === 2 * HOUR ? guess : wall - HOUR;
}

const compact = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
const SUFFIX = { sessions: '00000001', vectors: '00000002', features: '00000003', safety: '00000004' } as const;
type Kind = keyof typeof SUFFIX;
const idOf = (kind: Kind, iso: string) => `${compact(Date.parse(iso))}-${SUFFIX[kind]}`;
const point = (kind: Kind, ms: number, sources: string[], extra: Partial<PolicyPoint> = {}): PolicyPoint => ({
  id: `${compact(ms)}-${SUFFIX[kind]}`,
  time: new Date(ms).toISOString(),
  tags: [],
  sources,
  ...extra,
});

describe('period keys', () => {
  test('ISO weeks across year ends', () => {
    assert.deepEqual(isoWeek(2024, 12, 29), { year: 2024, week: 52 });
    assert.deepEqual(isoWeek(2024, 12, 30), { year: 2025, week: 1 });
    assert.deepEqual(isoWeek(2021, 1, 3), { year: 2020, week: 53 });
    assert.deepEqual(isoWeek(2026, 12, 31), { year: 2026, week: 53 });
    assert.deepEqual(isoWeek(2025, 11, 24), { year: 2025, week: 48 });
  });
  test('periods are wall-clock periods of the zone', () => {
    // 2024-02-29 00:30 in Berlin is still Feb 28 in UTC.
    const t = Date.parse('2024-02-28T23:30:00Z');
    assert.equal(periodKey('daily', t, 'Europe/Berlin'), '2024-02-29');
    assert.equal(periodKey('daily', t, 'UTC'), '2024-02-28');
    assert.equal(periodKey('monthly', Date.parse('2024-02-29T23:30:00Z'), 'Europe/Berlin'), '2024-03');
    assert.equal(periodKey('yearly', Date.parse('2025-12-31T23:30:00Z'), 'Europe/Berlin'), '2026');
    assert.equal(periodKey('hourly', Date.parse('2025-10-26T00:30:00Z'), 'Europe/Berlin'), '2025-10-26T02');
    assert.equal(periodKey('hourly', Date.parse('2025-10-26T01:30:00Z'), 'Europe/Berlin'), '2025-10-26T02');
    assert.equal(periodKey('weekly', Date.parse('2025-03-02T23:30:00Z'), 'Europe/Berlin'), '2025-W10');
    assert.equal(periodKey('weekly', Date.parse('2025-03-02T23:30:00Z'), 'UTC'), '2025-W09');
  });
});

describe('planRetention: two years, three sources, partial points, DST, month ends, a leap day', () => {
  const points: PolicyPoint[] = [];
  // sessions: every night at 00:30 Berlin time, 2024-01-01 .. 2025-11-30 (700 points); the one on the
  // 1st of each month also holds vectors. One is tagged pre-upgrade, one is under legal hold.
  for (let t = Date.UTC(2024, 0, 1); t <= Date.UTC(2025, 10, 30); t += DAY) {
    const d = new Date(t);
    const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    const extra: { tags?: string[]; hold?: { reason: string } } = {};
    if (y === 2024 && m === 9 && day === 5) extra.tags = ['pre-upgrade'];
    if (y === 2024 && m === 6 && day === 10) extra.hold = { reason: 'legal: case 42' };
    points.push(point('sessions', berlin(y, m, day, 0, 30), day === 1 ? ['sessions', 'vectors'] : ['sessions'], extra));
  }
  // vectors alone on the 15th at noon (a manual backup of one source), 23 points.
  for (let i = 0; i < 23; i++)
    points.push(point('vectors', berlin(2024 + Math.floor(i / 12), 1 + (i % 12), 15, 12, 0), ['vectors']));
  // features: every 30 minutes through the night the clocks go back (2025-10-26 03:00 CEST -> 02:00 CET).
  for (let t = Date.parse('2025-10-25T22:00:00Z'); t <= Date.parse('2025-10-26T04:00:00Z'); t += HOUR / 2)
    points.push(point('features', t, ['features']));
  // Restore safety backups of sessions.
  for (const iso of ['2025-11-20T10:00:00Z', '2025-11-28T10:00:00Z', '2025-11-30T10:00:00Z'])
    points.push(point('safety', Date.parse(iso), ['sessions'], { tags: ['safety'] }));

  const rules: Record<string, KeepRules> = {
    sessions: {
      keepLast: 2,
      keepHourly: 0,
      keepDaily: 7,
      keepWeekly: 4,
      keepMonthly: 24,
      keepYearly: 3,
      keepTags: ['pre-upgrade'],
    },
    vectors: { ...NONE, keepLast: 1, keepDaily: 4, keepWithin: 20 * DAY },
    features: { ...NONE, keepHourly: 5 },
  };
  // The newest sessions point failed verification.
  const failed = idOf('sessions', '2025-11-29T23:30:00Z');
  const plan = planRetention({
    points,
    rulesFor: (s) => rules[s],
    timezone: 'Europe/Berlin',
    safety: { keepWithin: 7 * DAY, keepLast: 1 },
    now: Date.parse('2025-12-01T12:00:00Z'),
    verified: new Set(points.map((p) => p.id).filter((id) => id !== failed)),
  });

  const s = (iso: string, ...reasons: string[]): [string, string[]] => [
    idOf('sessions', iso),
    reasons.map((r) => (r.includes(':') ? r : `sessions: ${r}`)),
  ];
  const EXPECTED = new Map<string, string[]>([
    s('2025-11-29T23:30:00Z', 'last 1', 'daily 2025-11-30', 'weekly 2025-W48', 'monthly 2025-11', 'yearly 2025'),
    s('2025-11-28T23:30:00Z', 'last 2', 'daily 2025-11-29', 'newest verified'),
    s('2025-11-27T23:30:00Z', 'daily 2025-11-28'),
    s('2025-11-26T23:30:00Z', 'daily 2025-11-27'),
    s('2025-11-25T23:30:00Z', 'daily 2025-11-26'),
    s('2025-11-24T23:30:00Z', 'daily 2025-11-25'),
    s('2025-11-23T23:30:00Z', 'daily 2025-11-24'),
    s('2025-11-22T23:30:00Z', 'weekly 2025-W47'),
    s('2025-11-15T23:30:00Z', 'weekly 2025-W46'),
    s('2025-11-08T23:30:00Z', 'weekly 2025-W45'),
    s('2025-10-30T23:30:00Z', 'monthly 2025-10'),
    s('2025-09-29T22:30:00Z', 'monthly 2025-09'),
    s('2025-08-30T22:30:00Z', 'monthly 2025-08'),
    s('2025-07-30T22:30:00Z', 'monthly 2025-07'),
    s('2025-06-29T22:30:00Z', 'monthly 2025-06'),
    s('2025-05-30T22:30:00Z', 'monthly 2025-05'),
    s('2025-04-29T22:30:00Z', 'monthly 2025-04'),
    s('2025-03-30T22:30:00Z', 'monthly 2025-03'),
    s('2025-02-27T23:30:00Z', 'monthly 2025-02'),
    s('2025-01-30T23:30:00Z', 'monthly 2025-01'),
    s('2024-12-30T23:30:00Z', 'monthly 2024-12', 'yearly 2024'),
    s('2024-11-29T23:30:00Z', 'monthly 2024-11'),
    s('2024-10-30T23:30:00Z', 'monthly 2024-10'),
    s('2024-09-29T22:30:00Z', 'monthly 2024-09'),
    s('2024-09-04T22:30:00Z', 'tag pre-upgrade'),
    s('2024-08-30T22:30:00Z', 'monthly 2024-08'),
    s('2024-07-30T22:30:00Z', 'monthly 2024-07'),
    s('2024-06-29T22:30:00Z', 'monthly 2024-06'),
    s('2024-06-09T22:30:00Z', 'hold: legal: case 42'),
    s('2024-05-30T22:30:00Z', 'monthly 2024-05'),
    s('2024-04-29T22:30:00Z', 'monthly 2024-04'),
    s('2024-03-30T23:30:00Z', 'monthly 2024-03'),
    s('2024-02-28T23:30:00Z', 'monthly 2024-02'),
    s('2024-01-30T23:30:00Z', 'monthly 2024-01'),
    s('2023-12-31T23:30:00Z', 'monthly 2024-01 (oldest)', 'yearly 2024 (oldest)'),
    // Kept for vectors only: points that hold both sources.
    s('2025-10-31T23:30:00Z', 'vectors: daily 2025-11-01', 'vectors: within 20d'),
    s('2025-09-30T22:30:00Z', 'vectors: daily 2025-10-01'),
    [
      idOf('vectors', '2025-11-15T11:00:00Z'),
      ['vectors: last 1', 'vectors: daily 2025-11-15', 'vectors: within 20d', 'vectors: newest verified'],
    ],
    [idOf('vectors', '2025-10-15T10:00:00Z'), ['vectors: daily 2025-10-15']],
    // The wall-clock hour 02 happens twice; it is one period.
    [idOf('features', '2025-10-26T04:00:00Z'), ['features: hourly 2025-10-26T05', 'features: newest verified']],
    [idOf('features', '2025-10-26T03:30:00Z'), ['features: hourly 2025-10-26T04']],
    [idOf('features', '2025-10-26T02:30:00Z'), ['features: hourly 2025-10-26T03']],
    [idOf('features', '2025-10-26T01:30:00Z'), ['features: hourly 2025-10-26T02']],
    [idOf('features', '2025-10-25T23:30:00Z'), ['features: hourly 2025-10-26T01']],
    [idOf('safety', '2025-11-30T10:00:00Z'), ['safety: last 1', 'safety: within 7d']],
    [idOf('safety', '2025-11-28T10:00:00Z'), ['safety: within 7d']],
  ]);

  test('the input is what the table assumes', () => {
    assert.equal(points.length, 700 + 23 + 13 + 3);
    assert.equal(new Set(points.map((p) => p.id)).size, points.length);
    for (const id of EXPECTED.keys())
      assert.ok(
        points.some((p) => p.id === id),
        `table names ${id}, not generated`,
      );
  });

  test('every point: kept or removed, with exactly the hand-computed reasons', () => {
    const got = new Map(plan.points.map((p) => [p.id, p.reasons]));
    for (const p of plan.points) {
      const want = EXPECTED.get(p.id) ?? [];
      assert.deepEqual(p.reasons, want, `${p.id} (${p.time}, ${p.sources.join('+')})`);
      assert.equal(p.keep, want.length > 0, p.id);
    }
    assert.equal(got.size, points.length);
    assert.deepEqual(new Set(plan.keep), new Set(EXPECTED.keys()));
    assert.equal(plan.remove.length, points.length - EXPECTED.size);
  });

  test('the plan lists points newest first', () => {
    const times = plan.points.map((p) => Date.parse(p.time));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
  });

  test('a held point survives every policy; unheld, the same policy removes it', () => {
    const held = idOf('sessions', '2024-06-09T22:30:00Z');
    const minimal = { ...NONE, keepLast: 1 };
    const base = { timezone: 'UTC', safety: { keepWithin: 0, keepLast: 0 }, now: 0 };
    for (const r of [minimal, rules.sessions, { ...NONE, keepYearly: 1 }]) {
      const p = planRetention({ ...base, points, rulesFor: () => r });
      assert.deepEqual(p.points.find((x) => x.id === held)?.reasons.slice(0, 1), ['hold: legal: case 42']);
      assert.ok(p.keep.includes(held));
    }
    const unheld = points.map((x) => (x.id === held ? { ...x, hold: undefined } : x));
    assert.ok(planRetention({ ...base, points: unheld, rulesFor: () => minimal }).remove.includes(held));
  });
});

describe('planRetention: spring forward in New York, and the same points in UTC', () => {
  const times = ['04:30', '05:00', '05:30', '06:00', '06:30', '07:00', '07:30', '08:00', '08:30', '09:00'].map((t) =>
    Date.parse(`2025-03-09T${t}:00Z`),
  );
  const points = times.map((t) => point('features', t, ['features']));
  const rulesFor = () => ({ ...NONE, keepHourly: 10, keepDaily: 2 });
  const base = { points, rulesFor, safety: { keepWithin: 0, keepLast: 0 }, now: 0 };
  const reasonsBy = (tz: string) =>
    Object.fromEntries(planRetention({ ...base, timezone: tz }).points.map((p) => [p.time.slice(11, 16), p.reasons]));

  test('America/New_York: 02:00-03:00 local does not exist; 23:30 EST is the day before', () => {
    assert.deepEqual(reasonsBy('America/New_York'), {
      '09:00': ['features: hourly 2025-03-09T05', 'features: daily 2025-03-09', 'features: newest verified'],
      '08:30': ['features: hourly 2025-03-09T04'],
      '08:00': [],
      '07:30': ['features: hourly 2025-03-09T03'],
      '07:00': [],
      '06:30': ['features: hourly 2025-03-09T01'],
      '06:00': [],
      '05:30': ['features: hourly 2025-03-09T00'],
      '05:00': [],
      '04:30': ['features: hourly 2025-03-08T23', 'features: daily 2025-03-08'],
    });
  });

  test('UTC: one day, so the daily rule keeps the oldest point too (restic)', () => {
    assert.deepEqual(reasonsBy('UTC'), {
      '09:00': ['features: hourly 2025-03-09T09', 'features: daily 2025-03-09', 'features: newest verified'],
      '08:30': ['features: hourly 2025-03-09T08'],
      '08:00': [],
      '07:30': ['features: hourly 2025-03-09T07'],
      '07:00': [],
      '06:30': ['features: hourly 2025-03-09T06'],
      '06:00': [],
      '05:30': ['features: hourly 2025-03-09T05'],
      '05:00': [],
      '04:30': ['features: hourly 2025-03-09T04', 'features: daily 2025-03-09 (oldest)'],
    });
  });
});

describe('planRetention: the newest verified point', () => {
  const a = point('sessions', Date.parse('2026-01-03T00:00:00Z'), ['sessions']);
  const b = point('sessions', Date.parse('2026-01-02T00:00:00Z'), ['sessions']);
  const c = point('sessions', Date.parse('2026-01-01T00:00:00Z'), ['sessions']);
  const base = {
    points: [c, a, b],
    rulesFor: () => ({ ...NONE, keepLast: 1 }),
    timezone: 'UTC',
    safety: { keepWithin: 0, keepLast: 0 },
    now: 0,
  };
  const reasons = (verified: string[]) =>
    planRetention({ ...base, verified: new Set(verified) }).points.map((p) => p.reasons);

  test('is kept whatever the rules say', () => {
    assert.deepEqual(reasons([c.id]), [['sessions: last 1'], [], ['sessions: newest verified']]);
  });
  test('with none verified, the newest is kept and the plan says so', () => {
    assert.deepEqual(reasons([]), [['sessions: last 1', 'sessions: newest (none verified)'], [], []]);
  });
  test('a safety point never counts as the newest of a source', () => {
    const safety = point('safety', Date.parse('2026-01-04T00:00:00Z'), ['sessions'], { tags: ['safety'] });
    const p = planRetention({ ...base, points: [safety, a, b, c] });
    assert.deepEqual(
      p.points.map((x) => x.reasons),
      [[], ['sessions: last 1', 'sessions: newest verified'], [], []],
    );
  });
});
