import { LifeboatError } from '../lib/errors';

/** Codes of the repository's errors (stable; CLI exit codes and Temporal failure types derive from them). */
export const REPOSITORY_ERROR_CODES = {
  invalidArgument: 'USAGE',
  invalidLocation: 'REPOSITORY_LOCATION_INVALID',
  notFound: 'REPOSITORY_NOT_FOUND',
  exists: 'REPOSITORY_EXISTS',
  wrongPassword: 'WRONG_PASSWORD',
  unsupportedVersion: 'REPOSITORY_VERSION_UNSUPPORTED',
  backend: 'BACKEND_UNAVAILABLE',
  accessDenied: 'BACKEND_ACCESS_DENIED',
  missingObject: 'REPOSITORY_OBJECT_MISSING',
  corruptObject: 'REPOSITORY_OBJECT_CORRUPT',
  integrity: 'ARTIFACT_INTEGRITY',
  artifactNotFound: 'ARTIFACT_NOT_FOUND',
  artifactMismatch: 'ARTIFACT_REF_MISMATCH',
  artifactPruned: 'ARTIFACT_PRUNED',
  recoveryPointNotFound: 'RECOVERY_POINT_NOT_FOUND',
  recoveryPointAmbiguous: 'RECOVERY_POINT_AMBIGUOUS',
  legalHold: 'LEGAL_HOLD',
  locked: 'REPOSITORY_LOCKED',
  lockLost: 'REPOSITORY_LOCK_LOST',
  aborted: 'OPERATION_CANCELLED',
  closed: 'REPOSITORY_CLOSED',
  keyRefused: 'REPOSITORY_KEY_REFUSED',
  auditChainBroken: 'AUDIT_CHAIN_BROKEN',
} as const;

const C = REPOSITORY_ERROR_CODES;

/** A caller passed something unusable; nothing was changed. */
export class InvalidArgumentError extends LifeboatError {
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super(`invalid ${argument}: ${problem}`, C.invalidArgument);
  }
}

export class InvalidLocationError extends LifeboatError {
  constructor(
    readonly url: string,
    problem: string,
  ) {
    super(
      `repository location "${url}" is not usable: ${problem}. Use file:///abs/path, an absolute path, or s3://bucket/prefix`,
      C.invalidLocation,
    );
  }
}

export class RepositoryNotFoundError extends LifeboatError {
  constructor(readonly location: string) {
    super(
      `no Lifeboat repository at ${location}: check the location, or create one with initRepository (lifeboat init)`,
      C.notFound,
    );
  }
}

export class RepositoryExistsError extends LifeboatError {
  constructor(readonly location: string) {
    super(
      `a repository (or other data) already exists at ${location}: open it instead, or pick an empty location`,
      C.exists,
    );
  }
}

export class WrongPasswordError extends LifeboatError {
  constructor(
    readonly location: string,
    readonly keysTried: number,
  ) {
    super(
      `wrong password for the repository at ${location} (tried ${keysTried} key file${keysTried === 1 ? '' : 's'}): check the password secret the config points at`,
      C.wrongPassword,
    );
  }
}

export class UnsupportedVersionError extends LifeboatError {
  constructor(
    readonly object: string,
    readonly version: number,
    readonly supported: number,
  ) {
    super(
      `${object} uses repository format version ${version}, this Lifeboat reads up to ${supported}: upgrade Lifeboat`,
      C.unsupportedVersion,
    );
  }
}

/** The storage backend failed (after retries for transient errors). */
export class BackendError extends LifeboatError {
  constructor(
    readonly location: string,
    readonly operation: string,
    readonly object: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${operation} ${object || '(repository)'} at ${location} failed: ${why}`, C.backend, { cause });
  }
}

/** The storage answered, but refused the credentials or the permission: not "unreachable". */
export class BackendAccessDeniedError extends BackendError {
  override readonly code = C.accessDenied;
  constructor(location: string, operation: string, object: string, cause: unknown) {
    super(location, operation, object, cause);
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    this.message = `${location} refused ${operation} of ${object || '(repository)'} (${why}): the access key, secret or bucket policy is wrong — check the repository's S3 credentials (access key id and secret reference) and that they may list, read and write this bucket`;
  }
}

/**
 * The object is under S3 Object Lock retention (or a legal hold) and cannot be deleted yet. Forget and
 * prune catch it: the object is kept and reported, never a failure of the whole operation.
 */
export class ObjectLockedError extends LifeboatError {
  constructor(
    readonly object: string,
    readonly location: string,
    /** ISO 8601; undefined for a legal hold without end. */
    readonly until: string | undefined,
  ) {
    super(
      `${object} at ${location} is under S3 Object Lock ${until ? `until ${until}` : '(legal hold)'} and cannot be deleted before`,
      C.accessDenied,
    );
  }
}

/** objectLock is configured but the bucket cannot hold locked objects; nothing was written. */
export class ObjectLockNotEnabledError extends LifeboatError {
  constructor(
    readonly location: string,
    readonly bucket: string,
    why: string,
  ) {
    super(
      `repository.objectLock is set, but bucket "${bucket}" (${location}) ${why}. on MinIO and most S3-compatible servers Object Lock can only be enabled when a bucket is created, so create a new bucket with it (mc mb --with-lock, aws s3api create-bucket --object-lock-enabled-for-bucket, or let lifeboat init create a missing bucket) and point repository.url at it; on AWS it can also be turned on for an existing bucket (versioning on, then put-object-lock-configuration); or remove repository.objectLock`,
      C.invalidLocation,
    );
  }
}

/** A referenced object does not exist in the repository. */
export class MissingObjectError extends LifeboatError {
  constructor(
    readonly object: string,
    readonly location: string,
    detail = '',
  ) {
    super(
      `object ${object} is missing from the repository at ${location}${detail ? ` (${detail})` : ''}: run verify to see which recovery points are affected`,
      C.missingObject,
    );
  }
}

/** An object failed authentication, decryption, decompression or its content hash. */
export class CorruptObjectError extends LifeboatError {
  constructor(
    readonly object: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(
      `object ${object} is corrupt or was tampered with (${reason}): run verify --read-data to list every damaged object; recovery points that use it cannot be restored as they are`,
      C.corruptObject,
      { cause },
    );
  }
}

/** The bytes read back do not hash to what was recorded at write time. */
export class ArtifactIntegrityError extends LifeboatError {
  constructor(
    readonly indexId: string,
    readonly expected: { size: number; sha256: string },
    readonly actual: { size: number; sha256: string },
  ) {
    super(
      `artifact ${indexId} read back as ${actual.size} bytes with sha256 ${actual.sha256}, but ${expected.size} bytes with sha256 ${expected.sha256} were written: run verify --read-data`,
      C.integrity,
    );
  }
}

export class ArtifactNotFoundError extends LifeboatError {
  constructor(readonly indexId: string) {
    super(
      `artifact index artifacts/${indexId} does not exist: it was never written, or was pruned because it stayed uncommitted longer than the prune grace period; run the backup again`,
      C.artifactNotFound,
    );
  }
}

/** An ArtifactRef does not match the artifact index it names. */
export class ArtifactRefMismatchError extends LifeboatError {
  constructor(
    readonly indexId: string,
    readonly field: string,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(
      `artifact reference ${indexId} says ${field}=${JSON.stringify(actual)} but the stored index says ${JSON.stringify(expected)}: pass the reference writeArtifact returned, unmodified`,
      C.artifactMismatch,
    );
  }
}

/** A running prune is deleting an artifact that was about to be committed. */
export class ArtifactPrunedError extends LifeboatError {
  constructor(
    readonly indexId: string,
    readonly pruneLock: string,
  ) {
    super(
      `artifact ${indexId} is being deleted by a running prune (${pruneLock}) because it stayed uncommitted past the grace period: run the backup again`,
      C.artifactPruned,
    );
  }
}

export class RecoveryPointNotFoundError extends LifeboatError {
  constructor(readonly id: string) {
    super(
      `no recovery point "${id}" in the repository: list them with \`lifeboat list\` (ids look like 20261123T120000Z-3f9a1c2b; a unique prefix works)`,
      C.recoveryPointNotFound,
    );
  }
}

export class AmbiguousRecoveryPointIdError extends LifeboatError {
  constructor(
    readonly prefix: string,
    readonly matches: string[],
  ) {
    super(
      `"${prefix}" matches ${matches.length} recovery points (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}): give more characters of the id`,
      C.recoveryPointAmbiguous,
    );
  }
}

export class LegalHoldError extends LifeboatError {
  constructor(
    readonly id: string,
    readonly reason: string,
    readonly since: string,
  ) {
    super(
      `recovery point ${id} is under legal hold since ${since} ("${reason}"): release the hold (unhold) before forgetting it`,
      C.legalHold,
    );
  }
}

/** Another exclusive operation (a prune) holds the repository. */
export class RepositoryLockedError extends LifeboatError {
  constructor(
    readonly lock: string,
    readonly holder: string,
    readonly operation: string,
  ) {
    super(
      `cannot ${operation}: the repository is locked by ${holder} (${lock}); wait for it to finish, or if that process is gone, wait until the lock goes stale`,
      C.locked,
    );
  }
}

/** This process could not refresh its lock in time; others may consider it dead, so the operation stopped. */
export class LockLostError extends LifeboatError {
  constructor(
    readonly lock: string,
    readonly sinceMs: number,
    cause?: unknown,
  ) {
    super(
      `lock ${lock} was not refreshed for ${Math.round(sinceMs / 1000)} s, so a prune may treat this writer as crashed; the write was stopped to stay safe: run it again`,
      C.lockLost,
      { cause },
    );
  }
}

export class OperationAbortedError extends LifeboatError {
  constructor(
    readonly operation: string,
    cause?: unknown,
  ) {
    super(`${operation} was cancelled`, C.aborted, { cause });
  }
}

export class RepositoryClosedError extends LifeboatError {
  constructor(readonly location: string) {
    super(`the repository at ${location} was closed: open it again`, C.closed);
  }
}

/** A key change was refused (the last key, the key in use, an unknown id); nothing was changed. */
export class KeyRefusedError extends LifeboatError {
  constructor(message: string) {
    super(message, C.keyRefused);
  }
}

/** The audit trail's hash chain is broken: an entry was edited, removed, reordered or replaced. */
export class AuditChainBrokenError extends LifeboatError {
  constructor(
    readonly entry: string,
    readonly problem: string,
  ) {
    super(
      `audit trail broken at ${entry}: ${problem}; entries from there on cannot be trusted (restore the audit records from a copy, or investigate who had write access to the repository)`,
      C.auditChainBroken,
    );
  }
}
