import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { LifeboatActivities } from '../activities/types';
import type { DrReport, PlannedRecovery } from '../lib/dr';
import { ACTIVITY_PROFILES } from './activity-profiles';
import { surfaceFailure } from './failures';

const streaming = proxyActivities<LifeboatActivities>(ACTIVITY_PROFILES.streaming);

/** What the cross-store consistency step of a DR reports (stored as DrReport.consistency). */
export type ConsistencyOutcome = DrReport['consistency'];

/**
 * The cross-store consistency check of the DR validate phase (docs/consistency.md).
 *
 * Runs after every recovered store matched its own recovery point, over the links that touch a
 * recovered source (recovered stores against each other and against the live ones left alone). A
 * `failed` outcome fails the validation, so the DR rolls every group back exactly as a failed
 * per-source validation does. No configured link touching them is `not-run`, said in the report; a
 * check that cannot run at all (a store unreachable) is a failure too: the recovery is unproven.
 */
export async function runConsistencyCheck(
  incidentId: string,
  recoveries: readonly PlannedRecovery[],
): Promise<ConsistencyOutcome> {
  try {
    const report = await streaming.checkConsistency.executeWithOptions(
      { summary: `Check consistency of the recovered stores (${recoveries.map((r) => r.source).join(', ')})` },
      [{ sources: recoveries.map((r) => r.source), operation: { kind: 'dr', id: incidentId } }],
    );
    if (!report.links.length) return { status: 'not-run', detail: report.note ?? 'no consistency link applies' };
    return report.ok
      ? { status: 'passed', detail: `links ${report.links.map((l) => l.link).join(', ')} agree (report ${report.id})` }
      : { status: 'failed', detail: `report ${report.id}: ${report.problems.slice(0, 5).join('; ')}` };
  } catch (e) {
    if (isCancellation(e)) throw e; // an abort is handled by the DR itself
    const f = surfaceFailure(e);
    return {
      status: 'failed',
      detail: `the consistency check could not run: ${f instanceof Error ? f.message : String(f)}`,
    };
  }
}
