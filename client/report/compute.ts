/**
 * `lifeboat report`: the compliance figures of every source over a period,
 * computed from what the repository holds — recovery points, records/drills and
 * records/verifications. Pure (no I/O, no clock): the command loads the inputs,
 * the renderers (markdown.ts, html.ts) only print what this computes.
 *
 * RPO compliance is the share of the period during which the newest *good*
 * recovery point of the source (one that passed a verification or a drill of
 * this source, as `lifeboat status` counts it) was at most the RPO target old.
 */
import type { SourceConfig } from '../../config/types';
import { POINT_TAGS } from '../../lib/domain';
import type { DrillRecord } from '../../lib/drill';
import type { RecoveryPoint } from '../../repository';

/** records/verifications/<point id> (activities/drill.ts recordVerification); older records lack the optional fields. */
export interface VerificationRecordInput {
  recoveryPointId: string;
  ok: boolean;
  time: string;
  readData?: boolean;
  problems?: string[];
}

export interface ReportInputs {
  points: readonly RecoveryPoint[];
  drills: readonly DrillRecord[];
  verifications: readonly VerificationRecordInput[];
  /** Records that did not open (damaged, tampered with): named in the report, never silently skipped. */
  damagedRecords?: readonly { object: string; error: string }[];
}

export interface ReportPeriod {
  since: Date;
  until: Date;
}

/** One vertex of the RPO timeline: the age of the newest good point at time `t` (null: no good point yet). */
export interface AgeVertex {
  t: string;
  ageMs: number | null;
}

export interface RpoBreach {
  from: string;
  to: string;
  durationMs: number;
  /** Age of the newest good point at the end of the breach (null: there was none). */
  worstAgeMs: number | null;
}

export interface RpoFigures {
  targetMs: number;
  /** Which points count as good: verified/drilled, or (when none ever was) every point, said so. */
  basis: 'verified or drilled' | 'every point (none was ever verified or drilled)';
  /** The measured part of the period: from the later of `since` and the source's first recovery point. */
  from?: string;
  to: string;
  /** Share of [from, to] within the target, 0–100; null when the source has no recovery point at all. */
  compliancePct: number | null;
  withinMs: number;
  breachMs: number;
  breaches: RpoBreach[];
  /** Largest age of the newest good point seen in the period. */
  worstAgeMs: number | null;
  /** Age of the newest good point at the end of the period. */
  currentAgeMs: number | null;
  /** Recovery points of this source made in the period, and how many of them are good. */
  pointsInPeriod: number;
  goodPointsInPeriod: number;
  timeline: AgeVertex[];
}

export interface DrillEntry {
  drillId: string;
  startedAt: string;
  finishedAt: string;
  verdict: DrillRecord['verdict'];
  recoveryPointId?: string;
  /** This source's own outcome in the drill (restored and validated). */
  sourceOk: boolean;
  rtoMs?: number;
  reasons: string[];
}

export interface RtoFigures {
  targetMs: number;
  /** RTOs measured in the period: drills that restored and validated this source. */
  measurements: { drillId: string; finishedAt: string; rtoMs: number; withinTarget: boolean }[];
  medianMs: number | null;
  maxMs: number | null;
  withinTarget: number;
  overTarget: number;
  /** 'unproven': no drill restored this source in the period. */
  state: 'ok' | 'breach' | 'unproven';
}

export interface VerifyEntry {
  recoveryPointId: string;
  time: string;
  ok: boolean;
  readData?: boolean;
  problems: string[];
}

export interface Failure {
  time: string;
  kind: 'drill' | 'verify';
  /** The drill id or the recovery point id. */
  id: string;
  reasons: string[];
}

export interface SourceReport {
  source: string;
  type: string;
  rpo: RpoFigures;
  drills: { run: number; passed: number; failed: number; cancelled: number; list: DrillEntry[] };
  rto: RtoFigures;
  verify: { passed: number; failed: number; list: VerifyEntry[] };
  /** Recovery points of this source under legal hold now. */
  holds: { recoveryPointId: string; reason: string; since: string }[];
  failures: Failure[];
  /** 'breach': an RPO breach, a failed drill or verification, or an RTO over target; 'unproven': no drill. */
  verdict: 'meets targets' | 'breach' | 'unproven';
  problems: string[];
}

export interface ComplianceReport {
  /** False when any source is in breach. */
  ok: boolean;
  generatedAt: string;
  since: string;
  until: string;
  sources: SourceReport[];
  repository: {
    /** Recovery points whose manifest does not open (their sources cannot be told). */
    damagedPoints: { id: string; time: string; reason: string }[];
    damagedRecords: { object: string; error: string }[];
  };
}

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/** Median of a non-empty list (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Age of the newest good point over [from, to], given the good points' times
 * (ms, any order): a saw-tooth that rises with time and drops to 0 at every new
 * good point. Breaches are where it exceeds `targetMs` (status: ok while age <=
 * target), or where there is no good point at all yet.
 */
export function rpoSeries(
  goodTimes: readonly number[],
  from: number,
  to: number,
  targetMs: number,
): Pick<RpoFigures, 'withinMs' | 'breachMs' | 'breaches' | 'worstAgeMs' | 'currentAgeMs' | 'timeline'> {
  const g = [...new Set(goodTimes)].sort((a, b) => a - b);
  const timeline: AgeVertex[] = [];
  const breaches: RpoBreach[] = [];
  let breachMs = 0;
  let worst: number | null = null;
  if (to <= from) return { withinMs: 0, breachMs: 0, breaches, worstAgeMs: null, currentAgeMs: null, timeline };
  // Segment boundaries: the period's ends and every good point inside it.
  const cuts = [from, ...g.filter((t) => t > from && t < to), to];
  let prevIdx = -1;
  for (let i = 0; i < g.length && g[i] <= from; i++) prevIdx = i;
  for (let k = 0; k + 1 < cuts.length; k++) {
    const s = cuts[k];
    const e = cuts[k + 1];
    while (prevIdx + 1 < g.length && g[prevIdx + 1] <= s) prevIdx++;
    if (prevIdx < 0) {
      // No good point yet: the whole segment breaches, the age is unknown.
      timeline.push({ t: iso(s), ageMs: null }, { t: iso(e), ageMs: null });
      breaches.push({ from: iso(s), to: iso(e), durationMs: e - s, worstAgeMs: null });
      breachMs += e - s;
      continue;
    }
    const p = g[prevIdx];
    timeline.push({ t: iso(s), ageMs: s - p }, { t: iso(e), ageMs: e - p });
    worst = Math.max(worst ?? 0, e - p);
    const breachFrom = Math.max(s, p + targetMs);
    if (breachFrom < e) {
      breaches.push({ from: iso(breachFrom), to: iso(e), durationMs: e - breachFrom, worstAgeMs: e - p });
      breachMs += e - breachFrom;
    }
  }
  const last = timeline[timeline.length - 1]?.ageMs ?? null;
  return { withinMs: to - from - breachMs, breachMs, breaches, worstAgeMs: worst, currentAgeMs: last, timeline };
}

const holdsSource = (p: RecoveryPoint, source: string) => p.artifacts.some((a) => a.source === source);

/** The figures of one source. */
export function sourceReport(
  s: Pick<SourceConfig, 'name' | 'type' | 'targets'>,
  inputs: ReportInputs,
  period: ReportPeriod,
): SourceReport {
  const since = period.since.getTime();
  const until = period.until.getTime();
  const inPeriod = (t: string) => ms(t) >= since && ms(t) <= until;
  const mine = inputs.points
    .filter((p) => !p.damaged && !p.tags.includes(POINT_TAGS.safety) && holdsSource(p, s.name))
    .filter((p) => ms(p.time) <= until);
  const verifiedOk = new Set(inputs.verifications.filter((v) => v.ok).map((v) => v.recoveryPointId));
  const myDrills = inputs.drills
    .filter((d) => d.sources.some((x) => x.source === s.name))
    .sort((a, b) => ms(a.finishedAt) - ms(b.finishedAt));
  const drilledOk = new Set(
    myDrills
      .filter((d) => d.recoveryPointId && d.sources.some((x) => x.source === s.name && x.ok))
      .map((d) => d.recoveryPointId as string),
  );
  const good = mine.filter((p) => verifiedOk.has(p.id) || drilledOk.has(p.id));
  // As `lifeboat status`: a repository where nothing was ever verified or drilled counts every point.
  const basis: RpoFigures['basis'] = good.length
    ? 'verified or drilled'
    : 'every point (none was ever verified or drilled)';
  const counted = good.length ? good : mine;
  const first = mine.length ? Math.min(...mine.map((p) => ms(p.time))) : undefined;
  const from = first === undefined ? undefined : Math.max(since, first);
  const series = rpoSeries(
    counted.map((p) => ms(p.time)),
    from ?? until,
    until,
    s.targets.rpo,
  );
  const span = from === undefined ? 0 : until - from;
  const rpo: RpoFigures = {
    targetMs: s.targets.rpo,
    basis,
    ...(from !== undefined ? { from: iso(from) } : {}),
    to: iso(until),
    // A source with points all made at `until` exactly has an empty window: nothing was out of target.
    compliancePct: from === undefined ? null : span > 0 ? (series.withinMs / span) * 100 : 100,
    ...series,
    pointsInPeriod: mine.filter((p) => inPeriod(p.time)).length,
    goodPointsInPeriod: counted.filter((p) => inPeriod(p.time)).length,
  };

  const drillList: DrillEntry[] = myDrills
    .filter((d) => inPeriod(d.finishedAt))
    .map((d) => {
      const x = d.sources.find((y) => y.source === s.name)!;
      return {
        drillId: d.drillId,
        startedAt: d.startedAt,
        finishedAt: d.finishedAt,
        verdict: d.verdict,
        ...(d.recoveryPointId ? { recoveryPointId: d.recoveryPointId } : {}),
        sourceOk: x.ok,
        ...(x.rtoMs !== undefined ? { rtoMs: x.rtoMs } : {}),
        // Copies (here and below): several sources share a drill, and the CLI's JSON writer prints a repeated reference as "[circular]".
        reasons: [...d.reasons],
      };
    });
  const count = (v: DrillRecord['verdict']) => drillList.filter((d) => d.verdict === v).length;
  // An RTO is measured only where the source came back and validated: a wrong restore has no recovery time.
  const measurements = drillList
    .filter((d) => d.sourceOk && d.rtoMs !== undefined)
    .map((d) => ({
      drillId: d.drillId,
      finishedAt: d.finishedAt,
      rtoMs: d.rtoMs as number,
      withinTarget: (d.rtoMs as number) <= s.targets.rto,
    }));
  const rtos = measurements.map((m) => m.rtoMs);
  const overTarget = measurements.filter((m) => !m.withinTarget).length;
  const rto: RtoFigures = {
    targetMs: s.targets.rto,
    measurements,
    medianMs: median(rtos),
    maxMs: rtos.length ? Math.max(...rtos) : null,
    withinTarget: measurements.length - overTarget,
    overTarget,
    state: !measurements.length ? 'unproven' : overTarget ? 'breach' : 'ok',
  };

  const mineIds = new Set(mine.map((p) => p.id));
  const verifyList: VerifyEntry[] = inputs.verifications
    .filter((v) => mineIds.has(v.recoveryPointId) && inPeriod(v.time))
    .sort((a, b) => ms(a.time) - ms(b.time))
    .map((v) => ({
      recoveryPointId: v.recoveryPointId,
      time: v.time,
      ok: v.ok,
      ...(v.readData !== undefined ? { readData: v.readData } : {}),
      problems: [...(v.problems ?? [])],
    }));

  const failures: Failure[] = [
    ...drillList
      .filter((d) => d.verdict !== 'passed')
      .map((d) => ({
        time: d.finishedAt,
        kind: 'drill' as const,
        id: d.drillId,
        reasons: d.reasons.length ? [...d.reasons] : [`drill ${d.verdict}`],
      })),
    ...verifyList
      .filter((v) => !v.ok)
      .map((v) => ({
        time: v.time,
        kind: 'verify' as const,
        id: v.recoveryPointId,
        reasons: v.problems.length ? [...v.problems] : ['verification failed'],
      })),
  ].sort((a, b) => ms(a.time) - ms(b.time));

  const problems: string[] = [];
  if (rpo.compliancePct === null) problems.push('no recovery point');
  else if (rpo.breachMs > 0) problems.push(`RPO breached ${rpo.breaches.length} time(s)`);
  if (count('failed') + count('cancelled'))
    problems.push(`${count('failed') + count('cancelled')} drill(s) did not pass`);
  if (overTarget) problems.push(`${overTarget} drill RTO(s) over target`);
  const vFailed = verifyList.filter((v) => !v.ok).length;
  if (vFailed) problems.push(`${vFailed} verification(s) failed`);
  const verdict: SourceReport['verdict'] = problems.length
    ? 'breach'
    : rto.state === 'unproven'
      ? 'unproven'
      : 'meets targets';
  if (verdict === 'unproven') problems.push('no drill restored this source in the period: its RTO is unproven');

  return {
    source: s.name,
    type: s.type,
    rpo,
    drills: {
      run: drillList.length,
      passed: count('passed'),
      failed: count('failed'),
      cancelled: count('cancelled'),
      list: drillList,
    },
    rto,
    verify: { passed: verifyList.length - vFailed, failed: vFailed, list: verifyList },
    holds: mine
      .filter((p) => p.hold)
      .map((p) => ({ recoveryPointId: p.id, reason: p.hold!.reason, since: p.hold!.time })),
    failures,
    verdict,
    problems,
  };
}

/** The whole report: one entry per configured source, in config order. */
export function computeReport(
  sources: readonly Pick<SourceConfig, 'name' | 'type' | 'targets'>[],
  inputs: ReportInputs,
  period: ReportPeriod,
  generatedAt: Date = period.until,
): ComplianceReport {
  const out = sources.map((s) => sourceReport(s, inputs, period));
  return {
    ok: out.every((s) => s.verdict !== 'breach'),
    generatedAt: generatedAt.toISOString(),
    since: period.since.toISOString(),
    until: period.until.toISOString(),
    sources: out,
    repository: {
      damagedPoints: inputs.points
        .filter((p) => p.damaged)
        .map((p) => ({ id: p.id, time: p.time, reason: p.damaged as string })),
      damagedRecords: [...(inputs.damagedRecords ?? [])],
    },
  };
}
