/**
 * Every machine-readable error code Lifeboat uses, in one table. A `LifeboatError`'s `code`, a
 * non-retryable Temporal failure's `type` and the CLI's exit code (client/error-mapping.ts maps
 * every entry, checked with `satisfies`) all come from here, so a code is spelled one way
 * everywhere. Codes are stable: scripts and incident tooling match on them. Add, never rename.
 *
 * Pure data: imported by workflow code too (no Node APIs here).
 */
export const ErrorCode = {
  // --- the command line, the config, secrets: nothing was done -------------------------------
  USAGE: 'USAGE',
  CONFIG_INVALID: 'CONFIG_INVALID',
  SECRET_UNAVAILABLE: 'SECRET_UNAVAILABLE',
  // Temporal payload encryption (runtime/payload-codec.ts): a key missing, malformed, or a payload altered.
  PAYLOAD_ENCRYPTION: 'PAYLOAD_ENCRYPTION',
  PAYLOAD_KEY_INVALID: 'PAYLOAD_KEY_INVALID',
  PAYLOAD_KEY_UNKNOWN: 'PAYLOAD_KEY_UNKNOWN',
  PAYLOAD_DAMAGED: 'PAYLOAD_DAMAGED',
  DURATION_INVALID: 'DURATION_INVALID',
  SIZE_INVALID: 'SIZE_INVALID',
  SEARCH_ATTRIBUTES_MISSING: 'SEARCH_ATTRIBUTES_MISSING',
  NAMESPACE_NOT_FOUND: 'NAMESPACE_NOT_FOUND',
  SERVER_START: 'SERVER_START',

  // --- operations (workflows) ----------------------------------------------------------------
  PLAN_INVALID: 'PLAN_INVALID',
  SOURCE_UNKNOWN: 'SOURCE_UNKNOWN',
  SOURCE_NOT_IN_RECOVERY_POINT: 'SOURCE_NOT_IN_RECOVERY_POINT',
  NO_RECOVERY_POINT: 'NO_RECOVERY_POINT',
  SCHEDULE_NOT_FOUND: 'SCHEDULE_NOT_FOUND',
  OPERATION_NOT_FOUND: 'OPERATION_NOT_FOUND',
  OPERATION_FAILED: 'OPERATION_FAILED',
  OPERATION_CANCELLED: 'OPERATION_CANCELLED',
  /** An activity failed with an error that carried no code of its own. */
  ACTIVITY_FAILED: 'ACTIVITY_FAILED',
  BACKUP_ALREADY_RUNNING: 'BACKUP_ALREADY_RUNNING',
  RESTORE_FAILED: 'RESTORE_FAILED',
  ROLLBACK_FAILED: 'ROLLBACK_FAILED',
  VERIFICATION_FAILED: 'VERIFICATION_FAILED',
  NO_SAFETY_BACKUP: 'NO_SAFETY_BACKUP',
  /** Another restore, backup, drill or prune holds one of the targets (workflows/target-locks.ts). */
  TARGET_BUSY: 'TARGET_BUSY',
  /** A rollback could not put a target back exactly as it was: a human must look. */
  ROLLBACK_NOT_EXACT: 'ROLLBACK_NOT_EXACT',
  /** A restore drill failed (restore, validation or a user check): production was not touched. */
  DRILL_FAILED: 'DRILL_FAILED',
  /** A drill's scratch target would be a production source: refused, nothing was done. */
  DRILL_TARGET_UNSAFE: 'DRILL_TARGET_UNSAFE',
  /** A drill could not remove one of its scratch targets (a server, folder or collection is left). */
  DRILL_CLEANUP_FAILED: 'DRILL_CLEANUP_FAILED',
  TEMPORAL_UNREACHABLE: 'TEMPORAL_UNREACHABLE',
  /** Disaster recovery: no usable plan (unknown source, no point). */
  DR_PLAN_INVALID: 'DR_PLAN_INVALID',
  /** Disaster recovery: the workflow refused an approve/reject/abort (stale plan, wrong phase). */
  DR_REQUEST_REJECTED: 'DR_REQUEST_REJECTED',
  /** Disaster recovery: the incident's workflow already closed; a resend starts nothing. */
  DR_INCIDENT_CLOSED: 'DR_INCIDENT_CLOSED',
  /** Cross-store consistency: the stores disagree (ids missing, bad vectors); docs/consistency.md. */
  CONSISTENCY_FAILED: 'CONSISTENCY_FAILED',
  /** A consistency link was asked for that the config does not declare (or cannot be resolved). */
  CONSISTENCY_LINK_UNKNOWN: 'CONSISTENCY_LINK_UNKNOWN',

  // --- the repository --------------------------------------------------------------------------
  REPOSITORY_LOCATION_INVALID: 'REPOSITORY_LOCATION_INVALID',
  REPOSITORY_EXISTS: 'REPOSITORY_EXISTS',
  REPOSITORY_NOT_FOUND: 'REPOSITORY_NOT_FOUND',
  REPOSITORY_CLOSED: 'REPOSITORY_CLOSED',
  REPOSITORY_LOCKED: 'REPOSITORY_LOCKED',
  REPOSITORY_LOCK_LOST: 'REPOSITORY_LOCK_LOST',
  REPOSITORY_OBJECT_CORRUPT: 'REPOSITORY_OBJECT_CORRUPT',
  REPOSITORY_OBJECT_MISSING: 'REPOSITORY_OBJECT_MISSING',
  REPOSITORY_VERSION_UNSUPPORTED: 'REPOSITORY_VERSION_UNSUPPORTED',
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  /** The storage answered but refused the credentials or permission (wrong S3 secret, bucket policy). */
  BACKEND_ACCESS_DENIED: 'BACKEND_ACCESS_DENIED',
  WRONG_PASSWORD: 'WRONG_PASSWORD',
  /** `lifeboat key remove` refused: the last key, the key in use, or no key with that id (issue 14). */
  REPOSITORY_KEY_REFUSED: 'REPOSITORY_KEY_REFUSED',
  /** `lifeboat audit --verify`: an audit entry was edited, removed or reordered (issue 14). */
  AUDIT_CHAIN_BROKEN: 'AUDIT_CHAIN_BROKEN',
  RECOVERY_POINT_NOT_FOUND: 'RECOVERY_POINT_NOT_FOUND',
  RECOVERY_POINT_AMBIGUOUS: 'RECOVERY_POINT_AMBIGUOUS',
  /** A chunk, index or manifest of the point failed authentication at pre-flight: nothing was changed. */
  RECOVERY_POINT_DAMAGED: 'RECOVERY_POINT_DAMAGED',
  LEGAL_HOLD: 'LEGAL_HOLD',
  ARTIFACT_NOT_FOUND: 'ARTIFACT_NOT_FOUND',
  ARTIFACT_INTEGRITY: 'ARTIFACT_INTEGRITY',
  ARTIFACT_PRUNED: 'ARTIFACT_PRUNED',
  ARTIFACT_REF_MISMATCH: 'ARTIFACT_REF_MISMATCH',

  // --- Redis -----------------------------------------------------------------------------------
  REDIS_UNREACHABLE: 'REDIS_UNREACHABLE',
  REDIS_AUTH: 'REDIS_AUTH',
  REDIS_CONNECTION_LOST: 'REDIS_CONNECTION_LOST',
  REDIS_COMMAND: 'REDIS_COMMAND',
  REDIS_CLUSTER: 'REDIS_CLUSTER',
  REDIS_INVALID_OPTIONS: 'REDIS_INVALID_OPTIONS',
  REDIS_UNSUPPORTED_VERSION: 'REDIS_UNSUPPORTED_VERSION',
  REDIS_ARTIFACTS: 'REDIS_ARTIFACTS',
  REDIS_BACKUP_FORMAT: 'REDIS_BACKUP_FORMAT',
  REDIS_INCOMPATIBLE_DUMP: 'REDIS_INCOMPATIBLE_DUMP',
  REDIS_RESTORE_REJECTED: 'REDIS_RESTORE_REJECTED',
  REDIS_BUSY_KEY: 'REDIS_BUSY_KEY',
  REDIS_SYNC_REFUSED: 'REDIS_SYNC_REFUSED',

  // --- FAISS -----------------------------------------------------------------------------------
  FAISS_INVALID_ARGUMENT: 'FAISS_INVALID_ARGUMENT',
  FAISS_INVALID_PATH: 'FAISS_INVALID_PATH',
  FAISS_TARGET_INVALID: 'FAISS_TARGET_INVALID',
  FAISS_FILE_NOT_FOUND: 'FAISS_FILE_NOT_FOUND',
  FAISS_FILE_CHANGED: 'FAISS_FILE_CHANGED',
  FAISS_CORRUPT_FILE: 'FAISS_CORRUPT_FILE',
  FAISS_DIMENSION_MISMATCH: 'FAISS_DIMENSION_MISMATCH',
  FAISS_INTEGRITY: 'FAISS_INTEGRITY',
  FAISS_LOAD_CRASH: 'FAISS_LOAD_CRASH',
  FAISS_SANDBOX: 'FAISS_SANDBOX',
  FAISS_PROBE_MISMATCH: 'FAISS_PROBE_MISMATCH',
  FAISS_PROBE_TIMEOUT: 'FAISS_PROBE_TIMEOUT',
  FAISS_CANCELLED: 'FAISS_CANCELLED',
  FAISS_RESTORE_INCOMPLETE: 'FAISS_RESTORE_INCOMPLETE',
  FAISS_RESTORE_PENDING: 'FAISS_RESTORE_PENDING',
  FAISS_ROLLBACK_CONFLICT: 'FAISS_ROLLBACK_CONFLICT',

  // --- Qdrant ----------------------------------------------------------------------------------
  QDRANT_UNREACHABLE: 'QDRANT_UNREACHABLE',
  QDRANT_AUTH: 'QDRANT_AUTH',
  QDRANT_REQUEST_FAILED: 'QDRANT_REQUEST_FAILED',
  QDRANT_UNSUPPORTED: 'QDRANT_UNSUPPORTED',
  QDRANT_COLLECTION_NOT_FOUND: 'QDRANT_COLLECTION_NOT_FOUND',
  QDRANT_TARGET_EXISTS: 'QDRANT_TARGET_EXISTS',
  QDRANT_ALIAS_CONFLICT: 'QDRANT_ALIAS_CONFLICT',
  QDRANT_BAD_BACKUP: 'QDRANT_BAD_BACKUP',
  QDRANT_CHECKSUM_MISMATCH: 'QDRANT_CHECKSUM_MISMATCH',
  QDRANT_DIMENSION_MISMATCH: 'QDRANT_DIMENSION_MISMATCH',
  QDRANT_VECTOR_CONFIG_MISMATCH: 'QDRANT_VECTOR_CONFIG_MISMATCH',
  QDRANT_VERIFY_FAILED: 'QDRANT_VERIFY_FAILED',
  PRUNE_ALREADY_RUNNING: 'PRUNE_ALREADY_RUNNING',

  // --- configuration files (sources/files) ----------------------------------------------------
  FILES_BAD_BACKUP: 'FILES_BAD_BACKUP',
  FILES_TARGET_CONFLICT: 'FILES_TARGET_CONFLICT',
  FILES_CONTENT_MISMATCH: 'FILES_CONTENT_MISMATCH',

  // --- reindex (rebuilding a vector store from Redis) ------------------------------------------
  EMBEDDING_REQUEST_REJECTED: 'EMBEDDING_REQUEST_REJECTED',
  EMBEDDING_BAD_RESPONSE: 'EMBEDDING_BAD_RESPONSE',
  REINDEX_DIMENSION_MISMATCH: 'REINDEX_DIMENSION_MISMATCH',
  REINDEX_VALIDATION_FAILED: 'REINDEX_VALIDATION_FAILED',
  REINDEX_RECORD_INVALID: 'REINDEX_RECORD_INVALID',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Whether a string (e.g. a Temporal failure's `type`) is one of Lifeboat's codes. */
export function isErrorCode(s: unknown): s is ErrorCode {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ErrorCode, s);
}
