/**
 * Issue 10: the compliance report's figures (pure functions, no server) and
 * its renderings: every figure here is worked out by hand from the fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeReport, median, parsePeriod, renderHtml, renderMarkdown, rpoSeries } from '../../client/report';
import { renderReport } from '../../client/commands/report';
import { UsageError } from '../../client/errors';
import type { DrillRecord, DrillSourceResult } from '../../lib/drill';
import type { RecoveryPoint } from '../../repository';
import { POINT_TAGS } from '../../lib/domain';

const MIN = 60_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const at = (m: number) => new Date(T0 + m * MIN).toISOString();

test('rpoSeries: a saw-tooth over the period; breaches where the newest good point is older than the target', () => {
  // Good points at 0, 10 and 30 min; period 5..50 min; target 8 min.
  const m = (x: number) => T0 + x * MIN;
  const r = rpoSeries([m(30), m(0), m(10)], m(5), m(50), 8 * MIN);
  assert.deepEqual(
    r.breaches.map((b) => [b.from, b.to, b.durationMs / MIN, (b.worstAgeMs ?? -1) / MIN]),
    [
      [at(8), at(10), 2, 10],
      [at(18), at(30), 12, 20],
      [at(38), at(50), 12, 20],
    ],
  );
  assert.equal(r.breachMs, 26 * MIN);
  assert.equal(r.withinMs, 19 * MIN);
  assert.equal(r.worstAgeMs, 20 * MIN);
  assert.equal(r.currentAgeMs, 20 * MIN);
  assert.deepEqual(
    r.timeline.map((v) => [v.t, (v.ageMs ?? -1) / MIN]),
    [
      [at(5), 5],
      [at(10), 10],
      [at(10), 0],
      [at(30), 20],
      [at(30), 0],
      [at(50), 20],
    ],
  );
});

test('rpoSeries: before the first good point the whole time is a breach with no age; an age equal to the target is ok', () => {
  const r = rpoSeries([T0 + 20 * MIN], T0, T0 + 30 * MIN, 10 * MIN);
  assert.deepEqual(r.breaches, [{ from: at(0), to: at(20), durationMs: 20 * MIN, worstAgeMs: null }]);
  assert.equal(r.withinMs, 10 * MIN);
  assert.equal(r.timeline[0].ageMs, null);
  assert.equal(rpoSeries([0], 0, 10 * MIN, 10 * MIN).breachMs, 0);
  assert.equal(rpoSeries([0], 0, 0, 10 * MIN).timeline.length, 0);
});

test('median of an odd and an even count, and of none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), null);
});

function point(id: string, minute: number, sources: string[], extra: Partial<RecoveryPoint> = {}): RecoveryPoint {
  return {
    id,
    time: at(minute),
    host: 'h',
    tags: [],
    labels: {},
    artifacts: sources.map((s) => ({ source: s, name: s, size: 1, sha256: 'x', indexId: 'i', chunks: 1 })),
    ...extra,
  } as RecoveryPoint;
}

function drill(
  id: string,
  finishedMin: number,
  rp: string | undefined,
  verdict: DrillRecord['verdict'],
  sources: Partial<DrillSourceResult>[],
  reasons: string[] = [],
): DrillRecord {
  return {
    drillId: id,
    workflowId: `wf-${id}`,
    runId: 'r',
    trigger: 'test',
    ...(rp ? { recoveryPointId: rp } : {}),
    startedAt: at(finishedMin - 1),
    finishedAt: at(finishedMin),
    ok: verdict === 'passed',
    verdict,
    reasons,
    sources: sources.map((s) => ({
      source: 'meta',
      type: 'redis',
      target: 'scratch',
      ok: true,
      restoreStatus: 'verified',
      rtoTargetMs: 5 * MIN,
      ...s,
    })) as DrillSourceResult[],
    checks: [],
    cleanup: { ok: true, removed: [], failures: [] },
    durationMs: MIN,
  };
}

const SOURCES = [
  { name: 'meta', type: 'redis' as const, targets: { rpo: 60 * MIN, rto: 5 * MIN } },
  { name: 'docs', type: 'qdrant' as const, targets: { rpo: 60 * MIN, rto: 5 * MIN } },
  { name: 'never', type: 'faiss' as const, targets: { rpo: 60 * MIN, rto: 5 * MIN } },
];

function fixture() {
  const points = [
    point('p-old', -30, ['meta', 'docs']), // before the period: the good point the period starts with
    point('p1', 100, ['meta', 'docs'], { hold: { reason: 'audit <2026>', time: at(110) } }),
    point('p-unverified', 150, ['meta']), // never verified nor drilled: does not reset the age
    point('p-safety', 160, ['meta'], { tags: [POINT_TAGS.safety] }),
    point('p2', 200, ['meta']),
    point('p-bad', 210, ['meta']), // its verification failed
    point('p-damaged', 220, [], { damaged: 'manifest m/… does not open' }),
    point('p-future', 400, ['meta']), // after the period
  ];
  const verifications = [
    { recoveryPointId: 'p-old', ok: true, time: at(-29) }, // before the period: not listed, still makes p-old good
    { recoveryPointId: 'p1', ok: true, time: at(101), readData: false, problems: [] },
    { recoveryPointId: 'p-bad', ok: false, time: at(211), readData: true, problems: ['chunk data/ab/cd altered'] },
    { recoveryPointId: 'p-safety', ok: true, time: at(161) },
  ];
  const drills = [
    drill('d0', -10, 'p-old', 'passed', [{ rtoMs: 99 * MIN }]), // before the period
    drill('d1', 120, 'p1', 'passed', [{ rtoMs: 2 * MIN }, { source: 'docs', type: 'qdrant', rtoMs: 4 * MIN }]),
    drill('d2', 205, 'p2', 'passed', [{ rtoMs: 6 * MIN }]), // over the 5 min target; makes p2 good
    drill(
      'd3',
      230,
      'p-bad',
      'failed',
      [{ ok: false, rtoMs: 1 * MIN, error: 'digest differs' }],
      ['meta: validation failed: digest differs'],
    ),
    drill('d4', 240, undefined, 'cancelled', [{ ok: false }], ['drill was cancelled']),
  ];
  return { points, verifications, drills };
}

const PERIOD = { since: new Date(T0), until: new Date(T0 + 300 * MIN) };

test('the report of one source: RPO compliance, drills, RTO median/max vs target, verify results, holds, failures', () => {
  const r = computeReport(SOURCES, { ...fixture(), damagedRecords: [] }, PERIOD);
  const meta = r.sources[0];
  // Good points of meta: p-old (-30), p1 (100, verified), p2 (200, drilled). Not p-unverified, p-bad, p-safety.
  // Age over 0..300 with target 60: breaches 30..100 (70), 160..200 (40), 260..300 (40) → 150 of 300 min.
  assert.equal(meta.rpo.basis, 'verified or drilled');
  assert.equal(meta.rpo.from, at(0));
  assert.deepEqual(
    meta.rpo.breaches.map((b) => [b.from, b.to]),
    [
      [at(30), at(100)],
      [at(160), at(200)],
      [at(260), at(300)],
    ],
  );
  assert.equal(meta.rpo.breachMs, 150 * MIN);
  assert.equal(meta.rpo.compliancePct, 50);
  assert.equal(meta.rpo.worstAgeMs, 130 * MIN);
  assert.equal(meta.rpo.currentAgeMs, 100 * MIN);
  assert.equal(meta.rpo.pointsInPeriod, 4); // p1, p-unverified, p2, p-bad
  assert.equal(meta.rpo.goodPointsInPeriod, 2);
  // Drills in the period: d1, d2 passed, d3 failed, d4 cancelled; RTOs from d1 and d2 only (d3's restore was wrong).
  assert.deepEqual([meta.drills.run, meta.drills.passed, meta.drills.failed, meta.drills.cancelled], [4, 2, 1, 1]);
  assert.deepEqual(
    meta.rto.measurements.map((m) => [m.drillId, m.rtoMs / MIN, m.withinTarget]),
    [
      ['d1', 2, true],
      ['d2', 6, false],
    ],
  );
  assert.equal(meta.rto.medianMs, 4 * MIN);
  assert.equal(meta.rto.maxMs, 6 * MIN);
  assert.equal(meta.rto.state, 'breach');
  assert.deepEqual([meta.verify.passed, meta.verify.failed], [1, 1]);
  assert.deepEqual(meta.holds, [{ recoveryPointId: 'p1', reason: 'audit <2026>', since: at(110) }]);
  assert.deepEqual(
    meta.failures.map((f) => [f.kind, f.id, f.reasons]),
    [
      ['verify', 'p-bad', ['chunk data/ab/cd altered']],
      ['drill', 'd3', ['meta: validation failed: digest differs']],
      ['drill', 'd4', ['drill was cancelled']],
    ],
  );
  assert.equal(meta.verdict, 'breach');
  assert.equal(r.ok, false);

  // docs: good points p-old and p1 (verified, drilled); breaches 30..100 and 160..300.
  const docs = r.sources[1];
  assert.equal(docs.rpo.breachMs, (70 + 140) * MIN);
  assert.equal(docs.rpo.compliancePct, (90 / 300) * 100);
  assert.deepEqual([docs.drills.run, docs.drills.passed], [1, 1]);
  assert.equal(docs.rto.medianMs, 4 * MIN);
  assert.equal(docs.rto.state, 'ok');
  assert.deepEqual(docs.failures, []);

  // A source without any point: no compliance figure, a breach.
  const never = r.sources[2];
  assert.equal(never.rpo.compliancePct, null);
  assert.equal(never.verdict, 'breach');
  assert.deepEqual(never.problems.slice(0, 1), ['no recovery point']);
  assert.deepEqual(r.repository.damagedPoints, [
    { id: 'p-damaged', time: at(220), reason: 'manifest m/… does not open' },
  ]);
});

test('a source meeting its RPO and drilled within target meets its targets; without a drill its RTO is unproven', () => {
  const points = [0, 40, 80, 120].map((m) => point(`q${m}`, m, ['meta']));
  const verifications = points.map((p) => ({ recoveryPointId: p.id, ok: true, time: p.time }));
  const period = { since: new Date(T0), until: new Date(T0 + 150 * MIN) };
  const undrilled = computeReport([SOURCES[0]], { points, verifications, drills: [] }, period);
  assert.equal(undrilled.sources[0].rpo.compliancePct, 100);
  assert.equal(undrilled.sources[0].verdict, 'unproven');
  assert.equal(undrilled.ok, true, 'unproven is not a breach');
  const drilled = computeReport(
    [SOURCES[0]],
    { points, verifications, drills: [drill('d', 130, 'q120', 'passed', [{ rtoMs: MIN }])] },
    period,
  );
  assert.equal(drilled.sources[0].verdict, 'meets targets');
  assert.deepEqual(drilled.sources[0].problems, []);
  // Nothing ever verified or drilled: every point counts (as lifeboat status does), and the report says so.
  const bare = computeReport([SOURCES[0]], { points, verifications: [], drills: [] }, period);
  assert.match(bare.sources[0].rpo.basis, /none was ever verified or drilled/);
  assert.equal(bare.sources[0].rpo.compliancePct, 100);
});

test('markdown: a summary row per source and the evidence; json is the report itself', () => {
  const r = computeReport(SOURCES, fixture(), PERIOD);
  const md = renderMarkdown(r);
  assert.match(md, /^\| meta \| BREACH \| 50 % \| 1h \| 2\/4 \| 4m \| 6m \| 5m \| 1 \| 1 \|$/m);
  assert.match(md, /^\| never \| BREACH \| — \|/m);
  assert.match(md, /\| 2026-11-01T00:30:00\.000Z \| 2026-11-01T01:40:00\.000Z \| 1h10m \| 2h10m \|/);
  assert.match(md, /- .* drill d3: meta: validation failed: digest differs/);
  assert.match(md, /- p1 since .*: audit <2026>/);
  assert.match(md, /recovery point p-damaged: manifest/);
  assert.deepEqual(JSON.parse(renderReport(r, 'json')), JSON.parse(JSON.stringify(r)));
  // No object twice in the tree: the CLI's --json writer prints a repeated reference as "[circular]".
  const seen = new Set<object>();
  const walk = (v: unknown, at: string) => {
    if (!v || typeof v !== 'object') return;
    assert.ok(!seen.has(v), `${at} is shared with another part of the report`);
    seen.add(v);
    for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
  };
  walk(r, 'report');
});

test('html: inline SVG per source with the breaches shaded red, the target line, red bars over the RTO target; text escaped', () => {
  const r = computeReport(SOURCES, fixture(), PERIOD);
  const html = renderHtml(r);
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(!/<script|src=|href="http/i.test(html), 'self-contained: no script, nothing fetched');
  const section = (name: string) => html.slice(html.indexOf(`<section id="source-${name}">`)).split('</section>')[0];
  const meta = section('meta');
  assert.equal((meta.match(/<svg /g) ?? []).length, 2, 'an RPO timeline and an RTO chart');
  assert.equal((meta.match(/<rect class="breach"/g) ?? []).length, 3, 'one shaded band per RPO breach');
  assert.equal((meta.match(/class="target"/g) ?? []).length, 2);
  assert.ok(/class="age-over"/.test(meta) && /class="age-ok"/.test(meta));
  assert.equal((meta.match(/<rect class="rto-ok"/g) ?? []).length, 1);
  assert.equal((meta.match(/<rect class="rto-over"/g) ?? []).length, 1, 'd2 over its target');
  assert.equal((meta.match(/class="drill-failed"/g) ?? []).length, 2, 'd3 and d4 as crosses');
  assert.ok(meta.includes('audit &lt;2026&gt;') && !meta.includes('audit <2026>'), 'text is escaped');
  const docs = section('docs');
  assert.equal((docs.match(/<rect class="breach"/g) ?? []).length, 2);
  assert.ok(!docs.includes('class="rto-over"'));
  assert.match(section('never'), /no recovery point/);
});

test('the period: a duration back from now or a date (UTC); bad or empty periods are usage errors naming the option', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  assert.deepEqual(parsePeriod('30d', undefined, now), { since: new Date('2026-11-01T12:00:00Z'), until: now });
  assert.deepEqual(parsePeriod(undefined, undefined, now).since, new Date('2026-11-01T12:00:00Z'));
  assert.deepEqual(parsePeriod('2026-11-15', '2026-11-20T06:00', now), {
    since: new Date('2026-11-15T00:00:00Z'),
    until: new Date('2026-11-20T06:00:00Z'),
  });
  assert.throws(
    () => parsePeriod('last month', undefined, now),
    (e: unknown) =>
      e instanceof UsageError && e.option === '--since' && /"last month" is neither a duration/.test(e.message),
  );
  assert.throws(
    () => parsePeriod('2026-12-02', undefined, now),
    (e: unknown) => e instanceof UsageError && /the period is empty/.test(e.message),
  );
});
