import { CommanderError } from 'commander';
import { LifeboatError } from '../lib/errors';
import { EXIT_CODES, type ExitCode } from './exit-codes';
import { OperationCancelledError, OperationFailedError } from './errors';

/**
 * Exit code per LifeboatError code. Codes are stable strings shared by every
 * module (and, as Temporal failure types, by activities), so a failure that
 * started deep in a worker still maps to the right exit code here.
 */
export const EXIT_CODE_BY_ERROR_CODE: Readonly<Record<string, ExitCode>> = {
  USAGE: EXIT_CODES.usage,
  CONFIG_INVALID: EXIT_CODES.usage,
  SECRET_UNAVAILABLE: EXIT_CODES.usage,
  DURATION_INVALID: EXIT_CODES.usage,
  SIZE_INVALID: EXIT_CODES.usage,
  SEARCH_ATTRIBUTES_MISSING: EXIT_CODES.usage,
  NAMESPACE_NOT_FOUND: EXIT_CODES.usage,
  REPOSITORY_LOCATION_INVALID: EXIT_CODES.usage,
  REPOSITORY_EXISTS: EXIT_CODES.usage,

  SOURCE_UNKNOWN: EXIT_CODES.notFound,
  NO_RECOVERY_POINT: EXIT_CODES.notFound,
  SOURCE_NOT_IN_RECOVERY_POINT: EXIT_CODES.notFound,
  SCHEDULE_NOT_FOUND: EXIT_CODES.notFound,
  OPERATION_NOT_FOUND: EXIT_CODES.notFound,
  RECOVERY_POINT_NOT_FOUND: EXIT_CODES.notFound,
  RECOVERY_POINT_AMBIGUOUS: EXIT_CODES.notFound,

  BACKUP_ALREADY_RUNNING: EXIT_CODES.alreadyRunning,
  // A prune holds the repository exclusively: like a running backup, try again when it is done.
  REPOSITORY_LOCKED: EXIT_CODES.alreadyRunning,

  OPERATION_FAILED: EXIT_CODES.failedNothingChanged,
  OPERATION_CANCELLED: EXIT_CODES.failedNothingChanged,
  RESTORE_FAILED: EXIT_CODES.failedNothingChanged,
  VERIFICATION_FAILED: EXIT_CODES.failedNothingChanged,
  VerificationFailed: EXIT_CODES.failedNothingChanged,
  PLAN_INVALID: EXIT_CODES.failedNothingChanged,
  LEGAL_HOLD: EXIT_CODES.failedNothingChanged,
  DR_REQUEST_REJECTED: EXIT_CODES.failedNothingChanged,
  DR_INCIDENT_CLOSED: EXIT_CODES.alreadyRunning,

  ROLLBACK_FAILED: EXIT_CODES.rollbackFailed,

  TEMPORAL_UNREACHABLE: EXIT_CODES.unreachable,
  REPOSITORY_NOT_FOUND: EXIT_CODES.unreachable,
  BACKEND_UNAVAILABLE: EXIT_CODES.unreachable,

  WRONG_PASSWORD: EXIT_CODES.wrongPassword,
};

/** Error class names of other libraries whose meaning is clear. */
const EXIT_CODE_BY_NAME: Readonly<Record<string, ExitCode>> = {
  WorkflowNotFoundError: EXIT_CODES.notFound,
  ScheduleNotFoundError: EXIT_CODES.notFound,
  NamespaceNotFoundError: EXIT_CODES.usage,
};

// gRPC UNAVAILABLE: the Temporal frontend went away after we connected.
const GRPC_UNAVAILABLE = 14;

function grpcCode(e: unknown): number | undefined {
  for (
    let cur = e, depth = 0;
    cur && typeof cur === 'object' && depth < 5;
    cur = (cur as { cause?: unknown }).cause, depth++
  ) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'number' && 'details' in (cur as object)) return code;
  }
  return undefined;
}

/** The exit code that tells this failure's kind (see EXIT_CODES). */
export function exitCodeFor(e: unknown): ExitCode {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  if (e instanceof OperationCancelledError)
    return e.humanNeeded ? EXIT_CODES.rollbackFailed : EXIT_CODES.failedNothingChanged;
  if (e instanceof OperationFailedError && e.failureType) {
    const specific = EXIT_CODE_BY_ERROR_CODE[e.failureType];
    // A failed backup/verify that failed for a known reason (unknown id, wrong password) says so.
    if (specific !== undefined && specific !== EXIT_CODES.failedNothingChanged) return specific;
  }
  if (e instanceof LifeboatError)
    return EXIT_CODE_BY_ERROR_CODE[e.code] ?? EXIT_CODE_BY_NAME[e.name] ?? EXIT_CODES.unexpected;
  if (e instanceof Error && EXIT_CODE_BY_NAME[e.name] !== undefined) return EXIT_CODE_BY_NAME[e.name];
  if (grpcCode(e) === GRPC_UNAVAILABLE) return EXIT_CODES.unreachable;
  return EXIT_CODES.unexpected;
}

/** JSON shape of an error in `--json` output. */
export interface ErrorDocument {
  ok: false;
  exitCode: ExitCode;
  error: { name: string; code?: string; message: string } & Record<string, unknown>;
}

/** A JSON-safe description of an error with its context fields (never a secret: errors name references, not values). */
export function errorDocument(e: unknown): ErrorDocument {
  const exitCode = exitCodeFor(e);
  if (!(e instanceof Error)) return { ok: false, exitCode, error: { name: 'Error', message: String(e) } };
  const ctx: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (
      k === 'cause' ||
      k === 'stack' ||
      k === 'message' ||
      k === 'name' ||
      k === 'retryable' ||
      typeof v === 'function'
    )
      continue;
    ctx[k] = v instanceof Date ? v.toISOString() : v;
  }
  const code = e instanceof LifeboatError ? e.code : (e as { code?: unknown }).code;
  return {
    ok: false,
    exitCode,
    error: { name: e.name, ...(typeof code === 'string' ? { code } : {}), message: e.message, ...ctx },
  };
}
