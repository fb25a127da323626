import { CommanderError } from 'commander';
import { LifeboatError, causeChain } from '../lib/errors';
import { isErrorCode, type ErrorCode } from '../lib/error-codes';
import { EXIT_CODES, type ExitCode } from './exit-codes';
import { OperationCancelledError, OperationFailedError } from './errors';

/**
 * Exit code per error code — every code of lib/error-codes.ts, checked by `satisfies`, so a new code
 * cannot be added without deciding what a script sees. Codes are shared by every module (and, as
 * Temporal non-retryable failure types, by activities), so a failure that started deep in a worker
 * still maps to the right exit code here.
 */
export const EXIT_CODE_BY_ERROR_CODE = {
  USAGE: EXIT_CODES.usage,
  CONFIG_INVALID: EXIT_CODES.usage,
  SECRET_UNAVAILABLE: EXIT_CODES.usage,
  PAYLOAD_ENCRYPTION: EXIT_CODES.usage,
  PAYLOAD_KEY_INVALID: EXIT_CODES.usage,
  PAYLOAD_KEY_UNKNOWN: EXIT_CODES.usage,
  PAYLOAD_DAMAGED: EXIT_CODES.usage,
  DURATION_INVALID: EXIT_CODES.usage,
  SIZE_INVALID: EXIT_CODES.usage,
  SEARCH_ATTRIBUTES_MISSING: EXIT_CODES.usage,
  NAMESPACE_NOT_FOUND: EXIT_CODES.usage,
  REPOSITORY_LOCATION_INVALID: EXIT_CODES.usage,
  REPOSITORY_EXISTS: EXIT_CODES.usage,
  // Wrong S3 key/secret or policy: a configuration problem, not an unreachable store.
  BACKEND_ACCESS_DENIED: EXIT_CODES.usage,
  SERVER_START: EXIT_CODES.unexpected,

  SOURCE_UNKNOWN: EXIT_CODES.notFound,
  NO_RECOVERY_POINT: EXIT_CODES.notFound,
  SOURCE_NOT_IN_RECOVERY_POINT: EXIT_CODES.notFound,
  SCHEDULE_NOT_FOUND: EXIT_CODES.notFound,
  OPERATION_NOT_FOUND: EXIT_CODES.notFound,
  RECOVERY_POINT_NOT_FOUND: EXIT_CODES.notFound,
  RECOVERY_POINT_AMBIGUOUS: EXIT_CODES.notFound,

  PRUNE_ALREADY_RUNNING: EXIT_CODES.alreadyRunning,
  BACKUP_ALREADY_RUNNING: EXIT_CODES.alreadyRunning,
  TARGET_BUSY: EXIT_CODES.alreadyRunning,
  // A prune holds the repository exclusively: like a running backup, try again when it is done.
  REPOSITORY_LOCKED: EXIT_CODES.alreadyRunning,

  OPERATION_FAILED: EXIT_CODES.failedNothingChanged,
  OPERATION_CANCELLED: EXIT_CODES.failedNothingChanged,
  ACTIVITY_FAILED: EXIT_CODES.failedNothingChanged,
  RESTORE_FAILED: EXIT_CODES.failedNothingChanged,
  VERIFICATION_FAILED: EXIT_CODES.failedNothingChanged,
  PLAN_INVALID: EXIT_CODES.failedNothingChanged,
  RECOVERY_POINT_DAMAGED: EXIT_CODES.failedNothingChanged,
  LEGAL_HOLD: EXIT_CODES.failedNothingChanged,
  DR_PLAN_INVALID: EXIT_CODES.failedNothingChanged,
  DR_REQUEST_REJECTED: EXIT_CODES.failedNothingChanged,
  DR_INCIDENT_CLOSED: EXIT_CODES.alreadyRunning,
  NO_SAFETY_BACKUP: EXIT_CODES.failedNothingChanged,
  CONSISTENCY_FAILED: EXIT_CODES.failedNothingChanged,
  CONSISTENCY_LINK_UNKNOWN: EXIT_CODES.usage,

  ROLLBACK_FAILED: EXIT_CODES.rollbackFailed,
  ROLLBACK_NOT_EXACT: EXIT_CODES.rollbackFailed,
  DRILL_FAILED: EXIT_CODES.failedNothingChanged,
  DRILL_TARGET_UNSAFE: EXIT_CODES.usage,
  DRILL_CLEANUP_FAILED: EXIT_CODES.rollbackFailed,

  TEMPORAL_UNREACHABLE: EXIT_CODES.unreachable,
  REPOSITORY_NOT_FOUND: EXIT_CODES.unreachable,
  BACKEND_UNAVAILABLE: EXIT_CODES.unreachable,

  WRONG_PASSWORD: EXIT_CODES.wrongPassword,

  // Damaged or inconsistent data found by a check: the operation stopped before changing anything.
  REPOSITORY_OBJECT_CORRUPT: EXIT_CODES.failedNothingChanged,
  REPOSITORY_KEY_REFUSED: EXIT_CODES.usage,
  AUDIT_CHAIN_BROKEN: EXIT_CODES.failedNothingChanged,
  REPOSITORY_OBJECT_MISSING: EXIT_CODES.failedNothingChanged,
  REPOSITORY_VERSION_UNSUPPORTED: EXIT_CODES.failedNothingChanged,
  ARTIFACT_NOT_FOUND: EXIT_CODES.failedNothingChanged,
  ARTIFACT_INTEGRITY: EXIT_CODES.failedNothingChanged,
  ARTIFACT_PRUNED: EXIT_CODES.failedNothingChanged,
  ARTIFACT_REF_MISMATCH: EXIT_CODES.failedNothingChanged,
  // Internal states that should not reach a user; if one does, it is a bug.
  REPOSITORY_CLOSED: EXIT_CODES.unexpected,
  REPOSITORY_LOCK_LOST: EXIT_CODES.unexpected,

  // Store failures reach the CLI inside a failed operation (exit 5, nothing changed) — listed so the
  // direct paths (pre-flight from the CLI) agree with it.
  REDIS_UNREACHABLE: EXIT_CODES.failedNothingChanged,
  REDIS_AUTH: EXIT_CODES.failedNothingChanged,
  REDIS_CONNECTION_LOST: EXIT_CODES.failedNothingChanged,
  REDIS_COMMAND: EXIT_CODES.failedNothingChanged,
  REDIS_CLUSTER: EXIT_CODES.failedNothingChanged,
  REDIS_INVALID_OPTIONS: EXIT_CODES.failedNothingChanged,
  REDIS_UNSUPPORTED_VERSION: EXIT_CODES.failedNothingChanged,
  REDIS_ARTIFACTS: EXIT_CODES.failedNothingChanged,
  REDIS_BACKUP_FORMAT: EXIT_CODES.failedNothingChanged,
  REDIS_INCOMPATIBLE_DUMP: EXIT_CODES.failedNothingChanged,
  REDIS_RESTORE_REJECTED: EXIT_CODES.failedNothingChanged,
  REDIS_BUSY_KEY: EXIT_CODES.failedNothingChanged,
  REDIS_SYNC_REFUSED: EXIT_CODES.failedNothingChanged,
  FAISS_INVALID_ARGUMENT: EXIT_CODES.failedNothingChanged,
  FAISS_INVALID_PATH: EXIT_CODES.failedNothingChanged,
  FAISS_TARGET_INVALID: EXIT_CODES.failedNothingChanged,
  FAISS_FILE_NOT_FOUND: EXIT_CODES.failedNothingChanged,
  FAISS_FILE_CHANGED: EXIT_CODES.failedNothingChanged,
  FAISS_CORRUPT_FILE: EXIT_CODES.failedNothingChanged,
  FAISS_DIMENSION_MISMATCH: EXIT_CODES.failedNothingChanged,
  FAISS_INTEGRITY: EXIT_CODES.failedNothingChanged,
  FAISS_LOAD_CRASH: EXIT_CODES.failedNothingChanged,
  FAISS_SANDBOX: EXIT_CODES.failedNothingChanged,
  FAISS_PROBE_MISMATCH: EXIT_CODES.failedNothingChanged,
  FAISS_PROBE_TIMEOUT: EXIT_CODES.failedNothingChanged,
  FAISS_CANCELLED: EXIT_CODES.failedNothingChanged,
  FAISS_RESTORE_INCOMPLETE: EXIT_CODES.failedNothingChanged,
  FAISS_RESTORE_PENDING: EXIT_CODES.failedNothingChanged,
  FAISS_ROLLBACK_CONFLICT: EXIT_CODES.rollbackFailed,
  QDRANT_UNREACHABLE: EXIT_CODES.failedNothingChanged,
  QDRANT_AUTH: EXIT_CODES.failedNothingChanged,
  QDRANT_REQUEST_FAILED: EXIT_CODES.failedNothingChanged,
  QDRANT_UNSUPPORTED: EXIT_CODES.failedNothingChanged,
  QDRANT_COLLECTION_NOT_FOUND: EXIT_CODES.failedNothingChanged,
  QDRANT_TARGET_EXISTS: EXIT_CODES.failedNothingChanged,
  QDRANT_ALIAS_CONFLICT: EXIT_CODES.failedNothingChanged,
  QDRANT_BAD_BACKUP: EXIT_CODES.failedNothingChanged,
  QDRANT_CHECKSUM_MISMATCH: EXIT_CODES.failedNothingChanged,
  QDRANT_DIMENSION_MISMATCH: EXIT_CODES.failedNothingChanged,
  QDRANT_VECTOR_CONFIG_MISMATCH: EXIT_CODES.failedNothingChanged,
  QDRANT_VERIFY_FAILED: EXIT_CODES.failedNothingChanged,
  FILES_BAD_BACKUP: EXIT_CODES.failedNothingChanged,
  FILES_TARGET_CONFLICT: EXIT_CODES.failedNothingChanged,
  FILES_CONTENT_MISMATCH: EXIT_CODES.failedNothingChanged,
  EMBEDDING_REQUEST_REJECTED: EXIT_CODES.failedNothingChanged,
  EMBEDDING_BAD_RESPONSE: EXIT_CODES.failedNothingChanged,
  REINDEX_DIMENSION_MISMATCH: EXIT_CODES.failedNothingChanged,
  REINDEX_VALIDATION_FAILED: EXIT_CODES.failedNothingChanged,
  REINDEX_RECORD_INVALID: EXIT_CODES.failedNothingChanged,
} as const satisfies Record<ErrorCode, ExitCode>;

/** The exit code of a code, or undefined for a string that is not one of Lifeboat's codes. */
export function exitCodeOfErrorCode(code: string): ExitCode | undefined {
  return isErrorCode(code) ? EXIT_CODE_BY_ERROR_CODE[code] : undefined;
}

/** Error class names of other libraries whose meaning is clear. */
const EXIT_CODE_BY_NAME: Readonly<Record<string, ExitCode>> = {
  WorkflowNotFoundError: EXIT_CODES.notFound,
  ScheduleNotFoundError: EXIT_CODES.notFound,
  NamespaceNotFoundError: EXIT_CODES.usage,
};

// gRPC UNAVAILABLE: the Temporal frontend went away after we connected.
const GRPC_UNAVAILABLE = 14;

function grpcCode(e: unknown): number | undefined {
  for (const cur of causeChain(e)) {
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
    const specific = exitCodeOfErrorCode(e.failureType);
    // A failed backup/verify that failed for a known reason (unknown id, wrong password) says so.
    if (specific !== undefined && specific !== EXIT_CODES.failedNothingChanged) return specific;
  }
  if (e instanceof LifeboatError)
    return exitCodeOfErrorCode(e.code) ?? EXIT_CODE_BY_NAME[e.name] ?? EXIT_CODES.unexpected;
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
