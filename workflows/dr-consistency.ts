import type { DrReport, PlannedRecovery } from '../lib/dr';

/** What the cross-store consistency step of a DR reports (stored as DrReport.consistency). */
export type ConsistencyOutcome = DrReport['consistency'];

/**
 * HOOK — cross-store consistency check of the DR validate phase.
 *
 * Runs after every recovered store matched its own recovery point, with the recoveries of the
 * approved plan. A `failed` outcome fails the validation, so the DR rolls every group back
 * exactly as a failed per-source validation does; `not-run` and `passed` let it complete.
 *
 * The `checkConsistency` activity (Redis ids vs FAISS ids vs Qdrant point ids) is built on
 * another branch. To plug it in: add it to DrActivities (activities/types.ts), proxy it here
 * and return its result mapped to ConsistencyOutcome. Until then this reports `not-run`, and the
 * report says so.
 */
export async function runConsistencyCheck(recoveries: readonly PlannedRecovery[]): Promise<ConsistencyOutcome> {
  return {
    status: 'not-run',
    detail: `no cross-store consistency check is installed in this worker (${recoveries.length} source(s) validated individually)`,
  };
}
