import type { Readable } from 'node:stream';

/**
 * Shared shape of the source adapters (Redis, FAISS, Qdrant). Adapters know
 * nothing of Temporal or of the repository: a backup produces a byte stream
 * (which the caller writes into the repository) plus facts about it; a restore
 * consumes a byte stream (read back from the repository).
 */

/** Progress reported while streaming; activities turn it into heartbeats. */
export interface SourceProgress {
  bytes: number;
  /** Keys (Redis), points (Qdrant) or vectors (FAISS) done so far. */
  items?: number;
  /** Total when known up front. */
  totalItems?: number;
  totalBytes?: number;
}

export interface StreamOptions {
  /** Aborts the work; the stream errors and temp files are removed. */
  signal?: AbortSignal;
  onProgress?: (p: SourceProgress) => void;
}

/**
 * What a source recorded at backup and checks after restore. `digest` is
 * order-independent over the logical content, so "equal" means equal data,
 * not just equal counts.
 */
export interface SourceFingerprint {
  /** e.g. keys per db, points per collection, ntotal of an index. */
  counts: Record<string, number>;
  /** Hex digest per unit (db, collection, file). */
  digests: Record<string, string>;
}

/** A backup in progress: read `stream` to the end, then await `done`. */
export interface BackupStream<TInfo> {
  stream: Readable;
  /** Resolves after the stream ended, with what the adapter recorded (goes into the artifact's metadata). */
  done: Promise<TInfo>;
}
