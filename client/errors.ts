import { LifeboatError } from '../lib/errors';
import type { ErrorCode } from '../lib/error-codes';
import type { RestoreResult } from '../workflows/types';

/** A bad command line or client call: nothing was started or changed. */
export class UsageError extends LifeboatError {
  constructor(
    message: string,
    /** The option or argument at fault, e.g. "--to-redis". */
    readonly option?: string,
  ) {
    super(message, 'USAGE');
  }
}

/** A backup of the same sources is running; two never run at once. */
export class BackupAlreadyRunningError extends LifeboatError {
  constructor(
    readonly workflowId: string,
    readonly runId: string | undefined,
    readonly startedAt: Date | undefined,
    readonly sources: readonly string[],
  ) {
    super(
      `a backup of ${sources.length ? sources.join(', ') : 'every source'} is already running: workflow ${workflowId}` +
        `${startedAt ? ` started at ${startedAt.toISOString()}` : ''}; follow it with "lifeboat progress ${workflowId}" and wait for it, or cancel it in the Temporal UI, then try again`,
      'BACKUP_ALREADY_RUNNING',
    );
  }
}

/** A prune is running (one at a time, workflow lifeboat-prune). */
export class PruneAlreadyRunningError extends LifeboatError {
  constructor(
    readonly workflowId: string,
    readonly startedAt: Date | undefined,
  ) {
    super(
      `a prune is already running: workflow ${workflowId}${startedAt ? ` started at ${startedAt.toISOString()}` : ''}; follow it with "lifeboat progress ${workflowId}" and wait for it, then try again`,
      'PRUNE_ALREADY_RUNNING',
    );
  }
}

/** Temporal's frontend cannot be reached (or refused the connection). */
export class TemporalUnreachableError extends LifeboatError {
  constructor(
    readonly address: string,
    readonly namespace: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `cannot reach Temporal at ${address} (namespace ${namespace}): ${why}; check temporal.address in the config, that the server runs, and TLS/API key settings`,
      'TEMPORAL_UNREACHABLE',
      { cause, retryable: true },
    );
  }
}

/** The namespace lacks Lifeboat's custom search attributes. */
export class SearchAttributesMissingError extends LifeboatError {
  constructor(
    readonly namespace: string,
    readonly attributes: readonly string[],
    cause: unknown,
  ) {
    super(
      `Temporal namespace ${namespace} does not know Lifeboat's search attributes; register them once: ` +
        attributes
          .map(
            (a) =>
              `temporal operator search-attribute create --namespace ${namespace} --name ${a.split('=')[0]} --type ${a.split('=')[1]}`,
          )
          .join(' && '),
      'SEARCH_ATTRIBUTES_MISSING',
      { cause },
    );
  }
}

/** `latest` was asked for but the repository holds no (non-safety) recovery point. */
export class NoRecoveryPointError extends LifeboatError {
  constructor(readonly repository: string) {
    super(`the repository ${repository} has no recovery point yet: run \`lifeboat backup\` first`, 'NO_RECOVERY_POINT');
  }
}

/** A source was asked for that the recovery point does not contain. */
export class SourceNotInRecoveryPointError extends LifeboatError {
  constructor(
    readonly recoveryPointId: string,
    readonly sources: readonly string[],
    readonly available: readonly string[],
  ) {
    super(
      `recovery point ${recoveryPointId} has no backup of ${sources.join(', ')}; it contains: ${available.join(', ') || '(nothing)'}`,
      'SOURCE_NOT_IN_RECOVERY_POINT',
    );
  }
}

/** `schedules pause|unpause NAME` named a schedule that is not configured, or not applied yet. */
export class UnknownScheduleError extends LifeboatError {
  constructor(
    readonly schedule: string,
    readonly known: readonly string[],
    readonly notApplied = false,
  ) {
    super(
      notApplied
        ? `schedule "${schedule}" is in the config but not on the Temporal server yet; run \`lifeboat schedules apply\` first`
        : `no schedule "${schedule}"; configured schedules: ${known.join(', ') || '(none: add a schedules: section to the config)'}`,
      'SCHEDULE_NOT_FOUND',
    );
  }
}

/** No workflow with this id in the namespace. */
export class OperationNotFoundError extends LifeboatError {
  constructor(readonly workflowId: string) {
    super(
      `no Lifeboat operation with workflow id ${workflowId}; list them in the Temporal UI or with \`temporal workflow list\``,
      'OPERATION_NOT_FOUND',
    );
  }
}

/** What kind of operation a workflow is. */
export type OperationKind = 'backup' | 'restore' | 'verify' | 'drill' | 'prune' | 'check';

/**
 * A backup or verify workflow failed. A failed backup commits nothing (the
 * manifest is written last), so nothing changed.
 */
export class OperationFailedError extends LifeboatError {
  constructor(
    readonly kind: OperationKind,
    readonly workflowId: string,
    reason: string,
    /** The Temporal failure type: a Lifeboat error code when an activity failed on one, e.g. WRONG_PASSWORD. */
    readonly failureType?: string,
    cause?: unknown,
  ) {
    super(`${kind} ${workflowId} failed: ${reason}`, 'OPERATION_FAILED', { cause });
  }
}

/**
 * The operation was cancelled, terminated or timed out before it finished.
 * A cancelled restore runs its compensations; a terminated one cannot, so
 * its targets may be half-restored (`humanNeeded`).
 */
export class OperationCancelledError extends LifeboatError {
  readonly humanNeeded: boolean;

  constructor(
    readonly kind: OperationKind,
    readonly workflowId: string,
    readonly how: 'cancelled' | 'terminated' | 'timed out',
    cause?: unknown,
  ) {
    const humanNeeded = kind === 'restore' && how !== 'cancelled';
    const after =
      kind !== 'restore'
        ? kind === 'backup'
          ? '; nothing was committed'
          : ''
        : humanNeeded
          ? '; its rollback could not run, so targets may be half-restored: restore them from the safety recovery point (see the workflow in the Temporal UI)'
          : '; its compensations ran and put the targets back (check the workflow in the Temporal UI)';
    super(`${kind} ${workflowId} was ${how}${after}`, 'OPERATION_CANCELLED', { cause });
    this.humanNeeded = humanNeeded;
  }
}

/** A restore failed and every changed target was rolled back: the targets are as they were. */
export class RestoreFailedError extends LifeboatError {
  constructor(
    readonly workflowId: string,
    readonly result: RestoreResult,
    message: string,
    code: ErrorCode = 'RESTORE_FAILED',
  ) {
    super(message, code);
  }
}

/**
 * A restore failed and rolling back at least one target failed too: those
 * targets must be restored by hand from the safety recovery point.
 */
export class RollbackFailedError extends RestoreFailedError {
  constructor(workflowId: string, result: RestoreResult, message: string) {
    super(workflowId, result, message, 'ROLLBACK_FAILED');
  }
}

/** Verification ran and found problems; nothing was changed. */
export class VerificationFailedError extends LifeboatError {
  constructor(
    readonly workflowId: string,
    readonly recoveryPointId: string | undefined,
    readonly problems: readonly string[],
  ) {
    super(
      `verification of ${recoveryPointId ? `recovery point ${recoveryPointId}` : 'the repository'} found ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}` +
        (problems.length > 5 ? ` (and ${problems.length - 5} more; see --json)` : ''),
      'VERIFICATION_FAILED',
    );
  }
}
