import { causeChain } from '../lib/errors';
import { ErrorCode } from '../lib/error-codes';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
} from '@temporalio/client';
import type { RestoreResult } from '../workflows/types';
import {
  OperationCancelledError,
  OperationFailedError,
  RestoreFailedError,
  RollbackFailedError,
  type OperationKind,
} from './errors';

/** The innermost ApplicationFailure of a Temporal failure chain: its type is the Lifeboat error code of the activity that failed. */
export function innermostApplicationFailure(e: unknown): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  for (const cur of causeChain(e)) {
    if (cur instanceof ApplicationFailure) found = cur;
  }
  return found;
}

function innermostMessage(e: unknown): string {
  let msg = e instanceof Error ? e.message : String(e);
  for (const cur of causeChain(e)) {
    if (
      cur instanceof Error &&
      cur.message &&
      !(cur instanceof ActivityFailure) &&
      !(cur instanceof WorkflowFailedError)
    )
      msg = cur.message;
  }
  return msg;
}

/**
 * Turns what `handle.result()` threw into a typed Lifeboat error: a failed
 * restore into RestoreFailedError or RollbackFailedError (with the workflow's
 * RestoreResult), cancellation into OperationCancelledError, anything else into
 * OperationFailedError carrying the failure type.
 */
export function operationError(kind: OperationKind, workflowId: string, e: unknown): unknown {
  if (!(e instanceof WorkflowFailedError)) return e;
  const cause = e.cause;
  if (cause instanceof CancelledFailure) return new OperationCancelledError(kind, workflowId, 'cancelled', e);
  if (cause instanceof TerminatedFailure) return new OperationCancelledError(kind, workflowId, 'terminated', e);
  if (cause instanceof TimeoutFailure) return new OperationCancelledError(kind, workflowId, 'timed out', e);
  if (cause instanceof ApplicationFailure && cause.type === ErrorCode.RESTORE_FAILED) {
    const result = cause.details?.[0] as RestoreResult | undefined;
    if (result && typeof result === 'object') {
      return result.rollbackFailures?.length
        ? new RollbackFailedError(workflowId, result, cause.message)
        : new RestoreFailedError(workflowId, result, cause.message);
    }
  }
  const app = innermostApplicationFailure(e);
  return new OperationFailedError(kind, workflowId, innermostMessage(e), app?.type ?? undefined, e);
}
