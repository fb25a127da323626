import { LifeboatError } from '../../lib/errors';

/** Qdrant did not answer at all (refused, DNS, timeout). */
export class QdrantUnreachableError extends LifeboatError {
  constructor(
    readonly url: string,
    cause?: unknown,
  ) {
    const why = describeNetworkCause(cause);
    super(
      `Qdrant at ${url} is unreachable${why ? ` (${why})` : ''}: check the URL and that Qdrant is running and reachable from this worker`,
      'QDRANT_UNREACHABLE',
      { cause },
    );
  }
}

/** The collection (or alias) to back up, or to verify, does not exist. */
export class QdrantCollectionNotFoundError extends LifeboatError {
  constructor(
    readonly url: string,
    readonly collection: string,
  ) {
    super(
      `Qdrant collection "${collection}" does not exist at ${url}: check the name (GET /collections lists them)`,
      'QDRANT_COLLECTION_NOT_FOUND',
    );
  }
}

/** The backup's vectors and an existing target's vectors have different sizes. */
export class QdrantDimensionMismatchError extends LifeboatError {
  constructor(
    readonly collection: string,
    readonly vectorName: string,
    readonly backupDimension: number,
    readonly targetDimension: number,
  ) {
    const v = vectorName === '' ? 'the unnamed vector' : `vector "${vectorName}"`;
    super(
      `dimension mismatch for ${v}: the backup has ${backupDimension} dimensions, target collection "${collection}" has ${targetDimension}; restore into a new collection or drop the target first`,
      'QDRANT_DIMENSION_MISMATCH',
    );
  }
}

/** Same sizes but other vector names or distances: the target cannot hold the backup as is. */
export class QdrantVectorConfigMismatchError extends LifeboatError {
  constructor(
    readonly collection: string,
    readonly backupVectors: string,
    readonly targetVectors: string,
  ) {
    super(
      `target collection "${collection}" has vectors ${targetVectors}, the backup has ${backupVectors}; restore into a new collection instead`,
      'QDRANT_VECTOR_CONFIG_MISMATCH',
    );
  }
}

/** ifExists: 'fail' and the target is there. */
export class QdrantTargetExistsError extends LifeboatError {
  constructor(readonly collection: string) {
    super(
      `target collection "${collection}" already exists and ifExists is 'fail': choose another collection name or allow 'replace'`,
      'QDRANT_TARGET_EXISTS',
    );
  }
}

/** A snapshot's bytes do not hash to the recorded checksum (download or upload). */
export class QdrantChecksumMismatchError extends LifeboatError {
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${what}: sha256 is ${actual}, expected ${expected}; the snapshot data is damaged and was not used`,
      'QDRANT_CHECKSUM_MISMATCH',
    );
  }
}

/** A points-mode stream that is not a Lifeboat export, or is cut short or altered. */
export class QdrantBackupFormatError extends LifeboatError {
  constructor(
    readonly detail: string,
    readonly line?: number,
  ) {
    super(
      `not a valid Lifeboat Qdrant points backup${line !== undefined ? ` (line ${line})` : ''}: ${detail}`,
      'QDRANT_BAD_BACKUP',
    );
  }
}

/** An alias cannot be created because a collection has that name (Qdrant refuses). */
export class QdrantAliasConflictError extends LifeboatError {
  constructor(readonly alias: string) {
    super(
      `cannot point alias "${alias}" at the restored collection: a collection named "${alias}" exists, and Qdrant does not allow an alias with a collection's name`,
      'QDRANT_ALIAS_CONFLICT',
    );
  }
}

/** Something the adapter cannot represent exactly (e.g. integer ids above 2^53 on Node 20). */
export class QdrantUnsupportedError extends LifeboatError {
  constructor(detail: string) {
    super(detail, 'QDRANT_UNSUPPORTED');
  }
}

/** Any other error answer from Qdrant; 5xx and 429 are worth retrying. */
export class QdrantRequestError extends LifeboatError {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly serverMessage: string,
    readonly url: string,
  ) {
    super(
      `Qdrant ${operation} failed at ${url}: HTTP ${status}${serverMessage ? ` — ${serverMessage}` : ''}`,
      status === 401 || status === 403 ? 'QDRANT_AUTH' : 'QDRANT_REQUEST_FAILED',
      {
        retryable: status >= 500 || status === 429 || status === 408,
      },
    );
  }
}

/** The restored collection differs from what the backup recorded. */
export class QdrantVerificationError extends LifeboatError {
  constructor(
    readonly collection: string,
    readonly problems: string[],
  ) {
    super(
      `restored collection "${collection}" does not match the backup: ${problems.join('; ')}`,
      'QDRANT_VERIFY_FAILED',
    );
  }
}

function describeNetworkCause(cause: unknown): string {
  let c = cause as { code?: string; message?: string; cause?: unknown; name?: string } | undefined;
  for (let i = 0; c && i < 4; i++) {
    if (c.code) return c.code;
    if (c.name === 'TimeoutError' || c.name === 'AbortError') return 'timed out';
    c = c.cause as typeof c;
  }
  return (cause as Error | undefined)?.message ?? '';
}
