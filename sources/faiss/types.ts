import type { SourceFingerprint } from '../types';

/** faiss MetricType codes (faiss/MetricType.h) and the names Lifeboat reports. */
export const FAISS_METRICS = {
  0: 'INNER_PRODUCT',
  1: 'L2',
  2: 'L1',
  3: 'Linf',
  4: 'Lp',
  20: 'Canberra',
  21: 'BrayCurtis',
  22: 'JensenShannon',
  23: 'Jaccard',
} as const;
export type FaissMetricName = (typeof FAISS_METRICS)[keyof typeof FAISS_METRICS];

/**
 * The header every float index file starts with (faiss index_write.cpp,
 * `write_index_header`): fourcc, d, ntotal, two dummies, is_trained,
 * metric_type and, for metric_type > 1, metric_arg. For wrappers (IDMap,
 * HNSW, IVF) it is the outer index's header.
 */
export interface FaissHeader {
  /** Four-character type code, e.g. "IxF2" (flat L2), "IwFl" (IVF flat), "IHNf" (HNSW flat), "IxMp" (IDMap). */
  fourcc: string;
  /** faiss class name for the fourcc, e.g. "IndexFlatL2". */
  indexType: string;
  /** Vector dimension. */
  d: number;
  /** Number of vectors in the index. */
  ntotal: number;
  isTrained: boolean;
  metricType: number;
  /** 'unknown' only for an opaque file. */
  metric: FaissMetricName | 'unknown';
  /** Only stored by faiss when metricType > 1 (e.g. p of Lp). */
  metricArg?: number;
  /**
   * Set for binary indexes (fourcc in FAISS_BINARY_INDEX_TYPES): `d` is then
   * the dimension in bits and each vector takes `codeSize` bytes (d / 8).
   */
  binary?: { codeSize: number };
  /**
   * Set for a file whose type code Lifeboat does not know: it was backed up
   * as opaque bytes (size and sha256 only; d and ntotal are 0) with this warning.
   */
  opaque?: { warning: string };
}

/** Result of walking the whole file layout (not just the header). */
export interface FaissStructure {
  /**
   * True when every byte of the file was accounted for by the known layout
   * of its index types (sizes, counts, nested indexes, id ranges). False for
   * types whose layout Lifeboat does not walk; loading in the probe process
   * is then the only deep check.
   */
  checked: boolean;
  /** Fourccs of the index and the indexes nested in it, outermost first, e.g. ["IxMp", "IxF2"]. */
  chain: string[];
  /** Why the walk stopped early, when `checked` is false. */
  uncheckedReason?: string;
}

/** Header plus structure, as read from a file without faiss. */
export interface FaissInspection {
  header: FaissHeader;
  structure: FaissStructure;
  size: number;
}

/** Top-k results of deterministic probe queries, run in a child process. */
export interface FaissProbesRun {
  status: 'ok';
  /** PRNG seed of the query vectors. */
  seed: number;
  /** Number of query vectors. */
  queries: number;
  /** k asked for (capped at ntotal). */
  k: number;
  /** sha256 of the query vectors (float32 LE), so a change of generator is noticed rather than reported as a data change. */
  queryDigest: string;
  /** What faiss reports after loading. */
  d: number;
  ntotal: number;
  /** labels[q][i]: i-th neighbour of query q (-1 = no result). */
  labels: number[][];
  /** distances[q][i], as faiss returns them (float32 values). */
  distances: number[][];
  /** Time to load the index and search, in the child. */
  elapsedMs: number;
}

export interface FaissProbesSkipped {
  status: 'skipped';
  /** e.g. "file is 3.1 GiB, above maxProbeBytes (2 GiB)". */
  reason: string;
}

export type FaissProbes = FaissProbesRun | FaissProbesSkipped;

/** Options of the probe queries and of the child process that runs them. */
export interface FaissProbeOptions {
  /**
   * Files larger than this are not loaded for probes (a probe loads the
   * whole index into the child's memory); the skip is recorded.
   * @default 2147483648 (2 GiB)
   */
  maxProbeBytes?: number;
  /** @default 8 */
  probeQueries?: number;
  /** @default 10 */
  probeK?: number;
  /** @default 1 */
  probeSeed?: number;
  /**
   * Kill the child and fail when loading and searching take longer.
   * @default 300000 (5 min)
   */
  probeTimeoutMs?: number;
  /** Set false to skip probes entirely (recorded as skipped). @default true */
  probes?: boolean;
}

/** Options of a backup. */
export interface FaissBackupOptions extends FaissProbeOptions {
  /**
   * For a directory: file name endings that are index files (searched
   * recursively; symlinks and Lifeboat's own `.lifeboat-` files are ignored).
   * @default [".index", ".faiss"]
   */
  extensions?: string[];
  /**
   * For a directory: globs on the "/"-separated relative path (`*` within a
   * name, `**` across folders, `?` one character). When given, a file is
   * backed up if it matches one of them (extensions are then not used).
   */
  include?: string[];
  /** For a directory: globs of files never backed up, even when included. */
  exclude?: string[];
}

/** What a backup of one file records (goes into the artifact's metadata). */
export interface FaissBackupInfo {
  size: number;
  sha256: string;
  header: FaissHeader;
  structure: FaissStructure;
  probes: FaissProbes;
  /** Modification time of the file when it was read (ISO 8601). */
  mtime: string;
  /** File mode bits (e.g. 0o644), applied again on restore. */
  mode: number;
  /** Owner of the file when it was read; given back on restore when the worker runs as root. */
  uid?: number;
  gid?: number;
  /** Set when the file was backed up as opaque bytes (unknown type code): the warning to show. */
  warning?: string;
}

/** What a restore checks the written bytes against (from FaissBackupInfo). */
export interface FaissExpected {
  size: number;
  sha256: string;
  header: FaissHeader;
  /** When given (and not skipped), the restored index must give the same probe results. */
  probes?: FaissProbes;
  /** File mode to give the restored file. @default the replaced file's mode, else 0o600 */
  mode?: number;
  /**
   * Owner to give the restored file. Set only when the worker runs as root
   * (chown needs it); otherwise the handle's `ownerNotSet` says why not.
   */
  uid?: number;
  gid?: number;
}

export interface FaissRestoreOptions extends FaissProbeOptions {
  /** Where the index file goes; its folder must exist. */
  targetPath: string;
  expected: FaissExpected;
  /**
   * Refuse (FaissDimensionMismatchError) when a file already at targetPath
   * has a different dimension than the backup: the application reading it
   * would get vectors of the wrong size.
   * @default false
   */
  enforceDimension?: boolean;
  /**
   * Stable id of this restore ([A-Za-z0-9_-], up to 64 chars). Pass the same
   * id when retrying after a crash: a restore that already swapped the file
   * is then returned as is instead of being done twice.
   * @default a random id
   */
  restoreId?: string;
  /**
   * Max distance difference for probe results to count as equal (relative
   * to the distance, absolute below 1).
   * @default 1e-6
   */
  probeEpsilon?: number;
}

/** On-disk record of a restore not yet confirmed or rolled back. */
export interface FaissRestoreJournal {
  version: 1;
  restoreId: string;
  targetPath: string;
  /** The temp file the stream was written to (gone once swapped). */
  tmpPath: string;
  /** The kept previous file; null when there was no file at targetPath. */
  prevPath: string | null;
  /**
   * 'writing': the temp file is being written (a crash here leaves only leftovers to remove);
   * 'prepared': temp written and verified, swap maybe done (the temp file is gone once it is);
   * 'swapped': the restored file is in place.
   */
  state: 'writing' | 'prepared' | 'swapped';
  /** Inode of the restored file once swapped, so a rollback never deletes a file someone wrote since. */
  restoredIno?: number;
  /** Expected size and sha256 of the restored file. */
  sha256: string;
  size: number;
  createdAt: string;
}

/** Outcome of confirm/rollback; both are idempotent. */
export interface FaissRestoreOutcome {
  restoreId: string;
  targetPath: string;
  /** 'none-pending': no journal for this id (already confirmed or rolled back, or never started). */
  outcome: 'confirmed' | 'rolled-back' | 'none-pending';
}

/** A restore that swapped the file into place and awaits confirm() or rollback(). */
export interface FaissRestoreHandle {
  restoreId: string;
  targetPath: string;
  /** The kept previous file (null when targetPath did not exist). */
  previousPath: string | null;
  size: number;
  sha256: string;
  header: FaissHeader;
  structure: FaissStructure;
  /** Probe results of the restored file (skipped when too large or disabled). */
  probes: FaissProbes;
  /** Comparison with expected.probes; undefined when either side was skipped or none was given. */
  probeComparison?: FaissProbeComparison;
  /** Why the backed-up owner (expected.uid/gid) could not be given to the restored file, when it could not. */
  ownerNotSet?: string;
  /** Deletes the kept previous file. Idempotent. */
  confirm(): Promise<FaissRestoreOutcome>;
  /** Puts the previous file back (or removes the restored file when there was none). Idempotent. */
  rollback(): Promise<FaissRestoreOutcome>;
}

export interface FaissProbeComparison {
  equal: boolean;
  /** Human-readable differences, at most 10. */
  differences: string[];
}

/** One file of a directory backup. */
export interface FaissDirectoryEntry<TBackup> {
  /** Path relative to the backed-up directory, with "/" separators. */
  relativePath: string;
  backup: TBackup;
}

/** Per-file facts of a fingerprint. */
export interface FaissFileFingerprint {
  size: number;
  sha256: string;
  ntotal: number;
  d: number;
  fourcc: string;
}

/**
 * A SourceFingerprint of index files. Keys are relative paths for a
 * directory and "." for a single file, so a restore to another path still
 * compares equal.
 */
export interface FaissFingerprint extends SourceFingerprint {
  files: Record<string, FaissFileFingerprint>;
}
