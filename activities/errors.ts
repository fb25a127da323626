/** Errors raised by the activities themselves (store-specific ones live beside their adapters in sources/). */
import { LifeboatError } from '../lib/errors';

/** A recovery point a restore would write holds a chunk or index that does not authenticate. */
export class RecoveryPointDamagedError extends LifeboatError {
  constructor(
    readonly recoveryPointId: string,
    readonly problems: string[],
  ) {
    super(
      `recovery point ${recoveryPointId} is damaged, so it was not restored and no target was touched: ${problems.join('; ')}. ` +
        `Restore an earlier recovery point (lifeboat list), and run lifeboat verify --read-data to list every damaged object`,
      'RECOVERY_POINT_DAMAGED',
    );
  }
}

export class PlanError extends LifeboatError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1 ? problems[0] : `${problems.length} problems:\n- ${problems.join('\n- ')}`,
      'PLAN_INVALID',
    );
  }
}
