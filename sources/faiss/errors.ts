import { LifeboatError } from '../../lib/errors';

/**
 * Errors of the FAISS adapter. Each names the file and says what to do.
 * Only the codes in FAISS_RETRYABLE_CODES are worth retrying; every other
 * one is bad input or bad data that a retry would meet again.
 */
export const FAISS_ERROR_CODES = {
  fileNotFound: 'FAISS_FILE_NOT_FOUND',
  invalidPath: 'FAISS_INVALID_PATH',
  corruptFile: 'FAISS_CORRUPT_FILE',
  dimensionMismatch: 'FAISS_DIMENSION_MISMATCH',
  loadCrash: 'FAISS_LOAD_CRASH',
  probeTimeout: 'FAISS_PROBE_TIMEOUT',
  integrity: 'FAISS_INTEGRITY',
  probeMismatch: 'FAISS_PROBE_MISMATCH',
  targetInvalid: 'FAISS_TARGET_INVALID',
  restorePending: 'FAISS_RESTORE_PENDING',
  restoreIncomplete: 'FAISS_RESTORE_INCOMPLETE',
  rollbackConflict: 'FAISS_ROLLBACK_CONFLICT',
  fileChanged: 'FAISS_FILE_CHANGED',
  cancelled: 'FAISS_CANCELLED',
  invalidArgument: 'FAISS_INVALID_ARGUMENT',
  sandbox: 'FAISS_SANDBOX',
} as const;

/** A timeout may pass on a less busy machine; a file rewritten during backup is read again on retry. */
export const FAISS_RETRYABLE_CODES: readonly string[] = [FAISS_ERROR_CODES.probeTimeout, FAISS_ERROR_CODES.fileChanged];

/** Same as `e.retryable` for Lifeboat errors; false for anything else. */
export function isRetryableFaissError(e: unknown): boolean {
  return e instanceof LifeboatError && e.retryable;
}

export class FaissFileNotFoundError extends LifeboatError {
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(
      `FAISS index file not found: ${path}. Check the path in the FAISS source config.`,
      FAISS_ERROR_CODES.fileNotFound,
      options,
    );
  }
}

/** The path exists but is not something Lifeboat backs up (e.g. a socket, or a folder with no index files). */
export class FaissInvalidPathError extends LifeboatError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`FAISS path ${path}: ${reason}`, FAISS_ERROR_CODES.invalidPath);
  }
}

export const FAISS_CORRUPTION_KINDS = {
  truncated: 'truncated',
  unknownType: 'unknown-type',
  inconsistent: 'inconsistent',
} as const;
export type FaissCorruptionKind = (typeof FAISS_CORRUPTION_KINDS)[keyof typeof FAISS_CORRUPTION_KINDS];

/** The file is not a readable FAISS index: truncated, unknown type, or sizes that contradict each other. */
export class FaissCorruptFileError extends LifeboatError {
  constructor(
    readonly path: string,
    readonly kind: FaissCorruptionKind,
    readonly detail: string,
    /** Byte offset where the problem was found, when known. */
    readonly offset?: number,
  ) {
    super(
      `FAISS index file ${path} is ${kind === 'truncated' ? 'truncated' : kind === 'unknown-type' ? 'not a FAISS index Lifeboat knows' : 'corrupted'}: ${detail}` +
        `${offset !== undefined ? ` (at byte ${offset})` : ''}. Restore it from an earlier backup or rebuild it; Lifeboat will not back it up or put it in place.`,
      FAISS_ERROR_CODES.corruptFile,
    );
  }
}

export class FaissDimensionMismatchError extends LifeboatError {
  constructor(
    readonly targetPath: string,
    readonly backupDimension: number,
    readonly targetDimension: number,
  ) {
    super(
      `FAISS restore into ${targetPath}: the backup's vectors have dimension ${backupDimension} but the index there now has dimension ${targetDimension}. ` +
        `Restore to another path, or turn off enforceDimension if the application was changed back to ${backupDimension}-dimensional vectors.`,
      FAISS_ERROR_CODES.dimensionMismatch,
    );
  }
}

/** faiss could not load or search the file in the sandbox process (crash by signal, non-zero exit, or a faiss error). */
export class FaissLoadError extends LifeboatError {
  constructor(
    readonly path: string,
    readonly detail: { signal?: string | null; exitCode?: number | null; faissMessage?: string; stderrTail?: string },
  ) {
    const how = detail.signal
      ? `the faiss process was killed by ${detail.signal}`
      : detail.faissMessage
        ? `faiss refused it: ${detail.faissMessage}`
        : `the faiss process exited with code ${detail.exitCode}`;
    super(
      `FAISS could not load ${path}: ${how}. The file is damaged or of an index type this faiss build cannot read.` +
        `${detail.stderrTail ? `\n--- faiss stderr ---\n${detail.stderrTail}` : ''}`,
      FAISS_ERROR_CODES.loadCrash,
    );
  }
}

/** The probe process could not start faiss at all (missing entry file or faiss-node build): a worker install problem, not the index file's. */
export class FaissSandboxError extends LifeboatError {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(
      `FAISS probe process for ${path} could not start faiss: ${detail}. The index file was not judged; check the worker's install (npm run setup builds faiss-node).`,
      FAISS_ERROR_CODES.sandbox,
    );
  }
}

export class FaissProbeTimeoutError extends LifeboatError {
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(
      `FAISS probe of ${path} took longer than ${timeoutMs} ms and was stopped. Raise probeTimeoutMs or lower maxProbeBytes.`,
      FAISS_ERROR_CODES.probeTimeout,
      {
        retryable: true,
      },
    );
  }
}

/** The restored bytes are not the backed-up ones. */
export class FaissIntegrityError extends LifeboatError {
  constructor(
    readonly path: string,
    readonly field: string,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(
      `FAISS restore of ${path}: ${field} is ${JSON.stringify(actual)} but the backup recorded ${JSON.stringify(expected)}. ` +
        `The data read from the repository is not what was backed up; verify the recovery point. Nothing was put in place.`,
      FAISS_ERROR_CODES.integrity,
    );
  }
}

export class FaissProbeMismatchError extends LifeboatError {
  constructor(
    readonly path: string,
    readonly differences: string[],
  ) {
    super(
      `FAISS restore of ${path}: the restored index answers the probe queries differently than at backup (${differences.slice(0, 3).join('; ')}). Nothing was put in place.`,
      FAISS_ERROR_CODES.probeMismatch,
    );
  }
}

/** The restore target cannot take the file (folder missing, not writable, not enough space, not a regular file). */
export class FaissTargetError extends LifeboatError {
  constructor(
    readonly targetPath: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`FAISS restore target ${targetPath}: ${reason}`, FAISS_ERROR_CODES.targetInvalid, options);
  }
}

export class FaissRestorePendingError extends LifeboatError {
  constructor(
    readonly targetPath: string,
    readonly pendingRestoreId: string,
  ) {
    super(
      `FAISS restore target ${targetPath} has an unfinished restore ${pendingRestoreId} (its previous file is still kept). Confirm or roll back that restore first.`,
      FAISS_ERROR_CODES.restorePending,
    );
  }
}

export class FaissRestoreIncompleteError extends LifeboatError {
  constructor(
    readonly targetPath: string,
    readonly restoreId: string,
  ) {
    super(
      `FAISS restore ${restoreId} of ${targetPath} never put its file in place, so it cannot be confirmed. Roll it back and run the restore again.`,
      FAISS_ERROR_CODES.restoreIncomplete,
    );
  }
}

export class FaissRollbackConflictError extends LifeboatError {
  constructor(
    readonly targetPath: string,
    readonly restoreId: string,
    readonly reason: string,
  ) {
    super(
      `FAISS rollback of restore ${restoreId} into ${targetPath} stopped: ${reason}. Nothing was changed; resolve by hand.`,
      FAISS_ERROR_CODES.rollbackConflict,
    );
  }
}

export class FaissFileChangedError extends LifeboatError {
  constructor(
    readonly path: string,
    readonly what: string,
  ) {
    super(
      `FAISS index file ${path} changed while it was being backed up (${what}). Back it up again once the writer is done.`,
      FAISS_ERROR_CODES.fileChanged,
      {
        retryable: true,
      },
    );
  }
}

export class FaissCancelledError extends LifeboatError {
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`FAISS operation on ${path} was cancelled; temp files were removed.`, FAISS_ERROR_CODES.cancelled, options);
  }
}

export class FaissInvalidArgumentError extends LifeboatError {
  constructor(
    readonly argument: string,
    readonly reason: string,
  ) {
    super(`FAISS adapter: invalid ${argument}: ${reason}`, FAISS_ERROR_CODES.invalidArgument);
  }
}
