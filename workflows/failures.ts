import { ErrorCode } from '../lib/error-codes';
import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';

/**
 * An activity's failure reaches the workflow wrapped ("Activity task
 * failed"); failing the workflow with that says nothing in the UI. This
 * rethrows it as a workflow failure carrying the activity's own message and
 * type (e.g. RECOVERY_POINT_NOT_FOUND), keeping the original as the cause.
 * Cancellations pass through untouched.
 */
export function surfaceFailure(e: unknown): unknown {
  if (isCancellation(e) || !(e instanceof ActivityFailure)) return e;
  const inner = e.cause instanceof ApplicationFailure ? e.cause : undefined;
  const message = inner?.message ?? e.cause?.message ?? e.message;
  return ApplicationFailure.create({
    message: `${e.activityType}: ${message}`,
    type: inner?.type ?? ErrorCode.ACTIVITY_FAILED,
    nonRetryable: true,
    cause: e,
  });
}
