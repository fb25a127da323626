import type { SourceFingerprint, StreamOptions } from '../types';

/** Where Qdrant is and how to authenticate. */
export interface QdrantConnection {
  /** REST base URL, e.g. http://qdrant:6333 (no credentials in it). */
  url: string;
  /** Sent as the `api-key` header; resolve secret references before building this. */
  apiKey?: string;
  /**
   * Per-request timeout for JSON calls (ms); streams run as long as they move.
   * @default 300000
   */
  timeoutMs?: number;
}

export const QdrantBackupMode = { snapshot: 'snapshot', points: 'points' } as const;
export type QdrantBackupMode = (typeof QdrantBackupMode)[keyof typeof QdrantBackupMode];

/** One dense vector's shape; the unnamed default vector is named "". */
export interface QdrantVectorSpec {
  size: number;
  distance: string;
}

/** A collection's shape and settings as recorded at backup. */
export interface QdrantCollectionMeta {
  /** The real collection name (never an alias). */
  collection: string;
  /** Set when the configured name was an alias: the alias that was resolved. */
  resolvedFromAlias?: string;
  /** Body for PUT /collections/{name} that recreates the collection's settings. */
  createBody: Record<string, unknown>;
  /** Vector name ("" for the unnamed vector) → size and distance. */
  vectors: Record<string, QdrantVectorSpec>;
  /** true when the collection uses the single unnamed vector. */
  unnamedVector: boolean;
  /** Aliases pointing at the collection when it was read. */
  aliases: string[];
  /** Exact point count when it was read. */
  pointsCount: number;
}

/** A top-k query recorded at backup and repeated after restore. */
export interface QdrantProbe {
  /** Vector name ("" = unnamed). */
  using: string;
  /** Seed of the deterministic query vector (see probeVector). */
  seed: number;
  topK: number;
  ids: (string | number)[];
  scores: number[];
}

export interface QdrantBackupInfo {
  mode: QdrantBackupMode;
  meta: QdrantCollectionMeta;
  /** Server version from GET /, e.g. "1.19.0". */
  serverVersion: string;
  /** Bytes of the backup stream and their sha256. */
  bytes: number;
  sha256: string;
  /** Snapshot mode: the server snapshot streamed (deleted from the server afterwards). */
  snapshot?: { name: string; checksum: string; size: number };
  /**
   * counts/digests keyed by the backed-up collection's name. Points mode:
   * exactly the streamed points. Snapshot mode: a scroll right after the
   * snapshot was taken (see `quiescent`).
   */
  fingerprint: SourceFingerprint;
  /**
   * Snapshot mode: false when the point count changed while the snapshot and
   * the fingerprint scroll were taken, i.e. writes were going on and the
   * fingerprint may not describe the snapshot exactly. Always true in points mode.
   */
  quiescent: boolean;
  probes: QdrantProbe[];
  /** Things that did not stop the backup but need a human (e.g. a snapshot left on the server). */
  warnings: string[];
}

export interface QdrantBackupOptions extends StreamOptions {
  /**
   * Points per scroll page (points mode and fingerprint scrolls).
   * @default about 2 MB of vectors per page, 32..1024 points (see defaultPageSize)
   */
  pageSize?: number;
  /**
   * Probe queries per vector name.
   * @default 3
   */
  probeCount?: number;
  /**
   * Results recorded per probe query.
   * @default 10
   */
  probeTopK?: number;
}

/** What to do when the restore target already exists. */
export const QdrantIfExists = {
  /** Refuse with QdrantTargetExistsError, changing nothing. */
  fail: 'fail',
  /** Snapshot mode: recover over it (priority=snapshot). Points mode: drop it and recreate. */
  replace: 'replace',
  /** Points mode only: upsert into it, keeping points not in the backup. */
  merge: 'merge',
} as const;
export type QdrantIfExists = (typeof QdrantIfExists)[keyof typeof QdrantIfExists];

export interface QdrantRestoreOptions extends StreamOptions {
  /** What the backup recorded (its `done` value). */
  info: QdrantBackupInfo;
  /** Collection to restore into (a new name for the alias switch). @default info.meta.collection */
  collection?: string;
  /**
   * After a successful restore, atomically point this alias at `collection`
   * (delete + create in one request), for applications that read through it.
   */
  alias?: string;
  /** @default 'replace' */
  ifExists?: QdrantIfExists;
  /**
   * Points mode with ifExists 'replace': allow replacing a collection whose
   * vectors differ from the backup's. Otherwise a mismatch is refused.
   * @default false
   */
  allowVectorChange?: boolean;
  /**
   * Points per upsert request (points mode).
   * @default 256
   */
  batchSize?: number;
  /**
   * When restoring under the original name, re-create the backup's aliases
   * that no longer exist (e.g. the collection was lost with them). An alias
   * that now points at another collection is left alone.
   * @default true
   */
  restoreAliases?: boolean;
}

export interface QdrantRestoreResult {
  collection: string;
  points: number;
  bytes: number;
  /** true when the collection did not exist before (a rollback can simply drop it). */
  createdCollection: boolean;
  /** Set when an alias was switched; `previousCollection` is where it pointed before (null: it did not exist). */
  alias?: { name: string; previousCollection: string | null };
  /** Aliases recorded at backup that were re-created (see restoreAliases). */
  aliasesRestored: string[];
}

export interface QdrantVerifyReport {
  ok: boolean;
  collection: string;
  count: { expected: number; actual: number };
  digest: { expected: string; actual: string };
  vectors: { expected: Record<string, QdrantVectorSpec>; actual: Record<string, QdrantVectorSpec> };
  probes: {
    checked: number;
    mismatched: { using: string; seed: number; expected: (string | number)[]; actual: (string | number)[] }[];
  };
  /** One line per problem, empty when ok. */
  problems: string[];
}
