/**
 * `lifeboat status`: per source, whether it meets its RPO (the newest good
 * recovery point is young enough) and its RTO (the last drill passed within the
 * target). Computed from the repository alone — points, records/verifications
 * and records/drills — so it works as a monitoring probe without a worker.
 */
import type { SourceConfig } from '../config/types';
import type { DrillRecord } from '../lib/drill';
import { POINT_TAGS } from '../lib/domain';
import type { RecoveryPoint } from '../repository';

/** The shape of records/verifications/<point id> (written by the verify and drill activities). */
export interface VerificationRecordBody {
  recoveryPointId: string;
  ok: boolean;
  time: string;
}

export interface SourceStatus {
  source: string;
  type: string;
  /** Newest non-safety, undamaged recovery point holding this source. */
  newestPoint?: { id: string; time: string; ageMs: number };
  /** The point the measured RPO is taken from. */
  rpoPoint?: { id: string; time: string; basis: 'verified' | 'drilled' | 'newest (not verified)' };
  /** now − time of rpoPoint; absent when the source has no recovery point at all. */
  rpoMs?: number;
  rpoTargetMs: number;
  rpoState: 'ok' | 'breach';
  rtoTargetMs: number;
  lastDrill?: {
    drillId: string;
    finishedAt: string;
    verdict: DrillRecord['verdict'];
    recoveryPointId?: string;
    /** This source's measured RTO in that drill. */
    rtoMs?: number;
    rtoState: 'ok' | 'breach' | 'unknown';
    reasons: string[];
  };
  ok: boolean;
  problems: string[];
}

export interface StatusReport {
  ok: boolean;
  time: string;
  sources: SourceStatus[];
}

const sourcesIn = (rp: RecoveryPoint) => new Set(rp.artifacts.map((a) => a.source));

export function computeStatus(
  sources: readonly SourceConfig[],
  points: readonly RecoveryPoint[],
  drills: readonly DrillRecord[],
  verifications: readonly VerificationRecordBody[],
  now: Date,
): StatusReport {
  const usable = points
    .filter((p) => !p.damaged && !p.tags.includes(POINT_TAGS.safety))
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const verified = new Set(verifications.filter((v) => v.ok).map((v) => v.recoveryPointId));
  const drillsNewestFirst = [...drills].sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
  const out: SourceStatus[] = sources.map((s) => {
    const mine = usable.filter((p) => sourcesIn(p).has(s.name));
    const newest = mine[0];
    // A point counts as good for this source when a verification passed, or a drill restored this source from it.
    const drilledOk = new Set(
      drills
        .filter((d) => d.recoveryPointId && d.sources.some((x) => x.source === s.name && x.ok))
        .map((d) => d.recoveryPointId as string),
    );
    const good = mine.find((p) => verified.has(p.id) || drilledOk.has(p.id));
    const basisPoint = good ?? newest;
    const basis: 'verified' | 'drilled' | 'newest (not verified)' = !good
      ? 'newest (not verified)'
      : verified.has(good.id)
        ? 'verified'
        : 'drilled';
    const rpoMs = basisPoint ? now.getTime() - Date.parse(basisPoint.time) : undefined;
    const rpoState = rpoMs !== undefined && rpoMs <= s.targets.rpo ? 'ok' : 'breach';
    const problems: string[] = [];
    if (!basisPoint) problems.push('no recovery point');
    else if (rpoState === 'breach') problems.push(`RPO breached: newest good point is older than the target`);
    const d = drillsNewestFirst.find((x) => x.sources.some((y) => y.source === s.name));
    let lastDrill: SourceStatus['lastDrill'];
    if (d) {
      const mineInDrill = d.sources.find((y) => y.source === s.name);
      const rtoMs = mineInDrill?.rtoMs;
      lastDrill = {
        drillId: d.drillId,
        finishedAt: d.finishedAt,
        verdict: d.verdict,
        ...(d.recoveryPointId ? { recoveryPointId: d.recoveryPointId } : {}),
        ...(rtoMs !== undefined ? { rtoMs } : {}),
        rtoState: rtoMs === undefined ? 'unknown' : rtoMs <= s.targets.rto ? 'ok' : 'breach',
        reasons: d.reasons,
      };
      if (d.verdict !== 'passed') problems.push(`last drill ${d.drillId} ${d.verdict}: ${d.reasons.join('; ')}`);
    }
    return {
      source: s.name,
      type: s.type,
      ...(newest
        ? { newestPoint: { id: newest.id, time: newest.time, ageMs: now.getTime() - Date.parse(newest.time) } }
        : {}),
      ...(basisPoint ? { rpoPoint: { id: basisPoint.id, time: basisPoint.time, basis } } : {}),
      ...(rpoMs !== undefined ? { rpoMs } : {}),
      rpoTargetMs: s.targets.rpo,
      rpoState,
      rtoTargetMs: s.targets.rto,
      ...(lastDrill ? { lastDrill } : {}),
      ok: problems.length === 0,
      problems,
    };
  });
  return { ok: out.every((s) => s.ok), time: now.toISOString(), sources: out };
}
