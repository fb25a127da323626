import { LifeboatError } from '../../lib/errors';

/** The recovery point's files artifacts are missing or do not parse (not a files backup, or damaged). */
export class FilesBadBackupError extends LifeboatError {
  constructor(message: string) {
    super(message, 'FILES_BAD_BACKUP');
  }
}

/** The target holds a folder where the backup has a file (or the other way round): nothing is overwritten. */
export class FilesTargetConflictError extends LifeboatError {
  constructor(readonly problems: string[]) {
    super(`files target conflict: ${problems.join('; ')}`, 'FILES_TARGET_CONFLICT');
  }
}

/** Bytes read back from the repository do not hash to what the manifest recorded. */
export class FilesContentMismatchError extends LifeboatError {
  constructor(file: string, want: string, got: string) {
    super(
      `${file}: the restored bytes hash to ${got}, the backup recorded ${want}; the recovery point may be damaged: run lifeboat verify ID --read-data`,
      'FILES_CONTENT_MISMATCH',
    );
  }
}
