import type { Records } from './records';
import type { AuditLog } from './audit';
import type { KeyManager } from './key-manager';
/**
 * Public types of the repository module. The on-storage format these map to
 * is specified in docs/repository-format.md.
 */

/** S3 connection and server-side-encryption settings for `s3://` locations. */
export interface S3Options {
  /** Endpoint URL of an S3-compatible server, e.g. http://127.0.0.1:9000. @default AWS for the region */
  endpoint?: string;
  /** @default AWS_REGION, else 'us-east-1' */
  region?: string;
  /** Path-style addressing (MinIO, most self-hosted servers). @default true when `endpoint` is set */
  forcePathStyle?: boolean;
  /** Server-side encryption asked of S3 on every object written (on top of the client-side encryption). @default none */
  sse?: 'AES256' | 'aws:kms';
  /** KMS key id or ARN, with `sse: 'aws:kms'`. @default the bucket's default KMS key */
  kmsKeyId?: string;
  /** @default the standard AWS credential chain (env, shared files, instance/container roles) */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Objects larger than this are sent as multipart uploads. @default 16 MiB (minimum 5 MiB) */
  multipartThreshold?: number;
  /** Attempts per request for transient failures (network errors, 5xx, throttling), with exponential backoff. @default 5 */
  maxAttempts?: number;
  /**
   * S3 Object Lock retention set on every immutable object at upload (chunks, artifact indexes, manifests,
   * the config), so that no credential can delete or overwrite those versions before it ends. The bucket
   * must have been created with Object Lock; init and open refuse otherwise. @default none
   */
  objectLock?: ObjectLockOptions;
}

/** S3 Object Lock retention of new immutable objects (docs/security.md, "Immutable backups"). */
export interface ObjectLockOptions {
  /** governance: a principal with s3:BypassGovernanceRetention may still delete; compliance: nobody, not even root. */
  mode: 'governance' | 'compliance';
  /** Each object is retained until its upload time plus this, ms. */
  retentionMs: number;
}

/** What forget did. */
export interface ForgetResult {
  id: string;
  /** False when the manifest is under S3 Object Lock: the point stays listed and restorable. */
  forgotten: boolean;
  /** With forgotten false: when the lock ends (ISO 8601); forget it again after that (retention does). */
  lockedUntil?: string;
}

/** Where a repository lives: `file:///abs/path`, a plain absolute path, or `s3://bucket/prefix`. */
export interface RepositoryLocation {
  url: string;
  s3?: S3Options;
}

/** scrypt cost parameters of a key file. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. @default 32768 (2^15) */
  N: number;
  /** @default 8 */
  r: number;
  /** @default 1 */
  p: number;
}

/** Tunables of an opened repository (not stored in it). */
export interface OpenOptions {
  /** How often a writer rewrites its lock. @default 60000 */
  lockRefreshMs?: number;
  /** A lock not rewritten for this long is dead: its holder is presumed crashed. @default 600000 */
  lockStaleMs?: number;
  /** Chunks compressed/encrypted/stored in parallel while writing. @default 4 (local) / 8 (S3) */
  writeConcurrency?: number;
  /** Chunks fetched ahead while reading. @default 4 (local) / 8 (S3) */
  readConcurrency?: number;
  /** Name recorded in locks and recovery points. @default os.hostname() */
  host?: string;
}

/** Options of `initRepository`. */
export interface InitOptions extends OpenOptions {
  /** Key derivation cost. @default { N: 32768, r: 8, p: 1 } */
  scrypt?: Partial<ScryptParams>;
  /**
   * Content-defined chunking (FastCDC): min < normal < max bytes, normal a power of two; normalization level 0-4.
   * The defaults give chunks of ~680 KiB on average.
   * @default { minSize: 256 KiB, normalSize: 512 KiB, maxSize: 4 MiB, normalization: 1 }
   */
  chunker?: { minSize?: number; normalSize?: number; maxSize?: number; normalization?: number };
  /** zstd level for new objects (1-19). @default 3 */
  compressionLevel?: number;
}

/** Describes what an artifact is; stored with it. */
export interface ArtifactMeta {
  /** Source name from the config, e.g. "sessions-redis". */
  source: string;
  /** What the stream is, e.g. "redis-logical", "faiss-index", "qdrant-snapshot". */
  kind: string;
  /** Name within the source, e.g. "db0" or the collection name. */
  name: string;
}

/**
 * A small reference to a stored stream; the chunk list itself is the
 * artifact index object `artifacts/<indexId>` in the repository.
 */
export interface ArtifactRef extends ArtifactMeta {
  /** Plain bytes. */
  size: number;
  /** sha256 (hex) of the plain stream. */
  sha256: string;
  /** Id of the artifact index object. */
  indexId: string;
  /** Number of chunks. */
  chunks: number;
  /** Counts, digests and headers a source adapter adds after the stream ends; stored in the manifest. */
  metadata?: Record<string, unknown>;
}

/** Progress of a write. */
export interface WriteProgress {
  /** Plain bytes consumed so far. */
  bytes: number;
  /** Plain bytes of chunks that were new to the repository. */
  newBytes: number;
  chunks: number;
}

export interface WriteOptions {
  signal?: AbortSignal;
  onProgress?: (p: WriteProgress) => void;
  /**
   * Authenticate every chunk this write would deduplicate against (read,
   * decrypt, re-hash) and store it again when it is damaged or missing.
   * Costs a read per reused chunk; a restore's safety backup sets it, so the
   * way back never rests on a chunk nobody checked (a damaged chunk shared by
   * the live data and the point being restored is repaired, not reused).
   * @default false
   */
  authenticateReused?: boolean;
  /**
   * How the input is cut into stored pieces. `content`: content-defined
   * chunks (FastCDC), whatever the input's piece boundaries. `records`: the
   * input yields record groups (a Redis key or two each), and each piece
   * smaller than 64 KiB is stored as one blob, deduplicated on its own and
   * packed with others into packs (format version 2); bigger pieces (large
   * values) are content-defined-chunked. A changed record then costs about
   * its own size in new data, not a whole chunk.
   * @default 'content'
   */
  chunking?: 'content' | 'records';
}

/** What `writeArtifact` stored besides the reference (not part of the manifest). */
export interface WriteResult extends ArtifactRef {
  /** Chunks and plain bytes that were new; the rest was deduplicated. */
  written: {
    newChunks: number;
    newBytes: number;
    storedBytes: number;
    /** Record streams: plain bytes of existing blobs copied out of sparsely used packs (PACKING.minUse). */
    repackedBytes?: number;
  };
}

export interface ReadOptions {
  signal?: AbortSignal;
}

export interface CommitInput {
  artifacts: ArtifactRef[];
  /** @default [] */
  tags?: string[];
  /** Id of the recovery point this one was taken after (informational). */
  parent?: string;
  /** @default the repository's host option */
  host?: string;
  /** @default now */
  time?: Date;
  /** @default {} */
  labels?: Record<string, string>;
}

export interface RecoveryPoint {
  /** `YYYYMMDDTHHMMSSZ-xxxxxxxx`: UTC time of the point, then 8 random hex digits. Sorts by time. */
  id: string;
  /** ISO 8601 UTC. */
  time: string;
  host: string;
  tags: string[];
  parent?: string;
  labels: Record<string, string>;
  artifacts: ArtifactRef[];
  /** Present while the point is under legal hold. */
  hold?: { reason: string; time: string };
  /**
   * Set by listRecoveryPoints() when this point's manifest does not open
   * (damaged, tampered with): the message names the object. Such a point has
   * no artifacts, is never `latest`, and cannot be restored; the others are
   * listed, restored and forgotten as usual.
   */
  damaged?: string;
}

export interface VerifyOptions {
  /** Check only this recovery point (id or unique prefix). @default every recovery point */
  recoveryPointId?: string;
  /** Download, authenticate, decrypt and re-hash chunks, not only check that they exist. @default false */
  readData?: boolean;
  /** With readData: share of the referenced chunks to read, 0 < x <= 100, picked at random. @default 100 */
  subsetPercent?: number;
  signal?: AbortSignal;
  onProgress?: (p: VerifyProgress) => void;
}

export interface VerifyProgress {
  /** Objects checked so far. */
  objects: number;
  /** Stored bytes downloaded so far. */
  bytes: number;
}

export const VERIFY_PROBLEM_KINDS = {
  /** A referenced object does not exist. */
  missing: 'missing',
  /** An object failed authentication, decryption, decompression or its hash check. */
  corrupt: 'corrupt',
  /** An object is intact but disagrees with what references it (size, sha256, chunk count). */
  mismatch: 'mismatch',
  /** The backend failed while reading the object. */
  unreadable: 'unreadable',
} as const;
export type VerifyProblemKind = (typeof VERIFY_PROBLEM_KINDS)[keyof typeof VERIFY_PROBLEM_KINDS];

export interface VerifyProblem {
  /** Object name in the repository, e.g. `data/3f/3f9a…` or `points/20261123T120000Z-3f9a1c2b`. */
  object: string;
  kind: VerifyProblemKind;
  message: string;
  /** Recovery points that depend on the object. */
  recoveryPoints: string[];
}

export interface VerifyReport {
  ok: boolean;
  readData: boolean;
  subsetPercent: number;
  recoveryPoints: number;
  artifacts: number;
  /** Distinct chunks referenced. */
  chunks: number;
  /** Objects whose existence or content was checked. */
  checkedObjects: number;
  /** Chunks downloaded and re-hashed (readData). */
  chunksRead: number;
  /** Stored bytes downloaded. */
  bytesRead: number;
  problems: VerifyProblem[];
  durationMs: number;
}

export interface PruneOptions {
  /** Unreferenced objects younger than this are kept (artifacts written but not yet committed). @default 86400000 (24 h) */
  graceMs?: number;
  /** Report what would be deleted; delete nothing. @default false */
  dryRun?: boolean;
  /** How long to wait for running writers to acknowledge this prune before giving up (deleting nothing). @default 300000 */
  waitMs?: number;
  signal?: AbortSignal;
  /** Called as the prune goes: its lock id once taken, what it plans to delete and what it has deleted. */
  onProgress?: (p: PruneProgress) => void;
  /**
   * Who runs this prune, stable across retries (e.g. workflow and activity id), stored in its
   * lock. A live prune lock with the same owner is an interrupted earlier run (a retried activity
   * whose worker died): instead of failing as locked, the prune waits until that lock is provably
   * dead (stale, or its process gone on this host), takes it over and counts what it had freed.
   * @default none
   */
  owner?: string;
  /** Dry run only: recovery points to count as forgotten (what a retention plan would remove). @default none */
  assumeForgotten?: readonly string[];
}

export interface PruneProgress {
  phase: 'planning' | 'waiting for writers' | 'deleting' | 'cleaning up';
  /** This prune's lock, once taken. */
  lockId?: string;
  plannedObjects: number;
  plannedBytes: number;
  deletedObjects: number;
  /** Stored bytes deleted so far. */
  deletedBytes: number;
}

export interface PruneReport {
  dryRun: boolean;
  /** Chunks referenced by recovery points or fresh artifact indexes. */
  keptChunks: number;
  deletedChunks: number;
  deletedIndexes: number;
  /** Stored bytes freed (or that would be freed). */
  deletedBytes: number;
  /** Dead locks and leftovers of crashed prunes removed (or, dry run, that would be). */
  deletedLocks: number;
  /** Temp files of interrupted writes (`.tmp-*`) removed (or, dry run, that would be). */
  deletedPartials: number;
  /** Crashed earlier runs of this prune (same owner) taken over, and what they had deleted (included in deletedBytes). */
  takenOver?: { locks: number; deletedObjects: number; deletedBytes: number };
  /**
   * Garbage under S3 Object Lock that could not be deleted yet (not counted in deleted*): it stays
   * until its retention ends and is removed by a later prune. Absent when nothing was locked.
   */
  locked?: { objects: number; bytes: number; until: string; message: string };
  /** Set when running writers kept this prune from deleting anything. */
  deferred?: { reason: string; locks: string[] };
  durationMs: number;
}

export interface RepositoryStats {
  objects: number;
  bytes: number;
  /** Loose chunk objects. */
  chunks: number;
  /** Stored bytes of the data: loose chunks, packs and pack indexes. */
  chunkBytes: number;
  /** Pack objects (format 2; record streams). */
  packs: number;
}

export interface Repository {
  /** Random id of the repository (32 hex digits). */
  readonly id: string;
  /** The location it was opened at (no credentials). */
  readonly url: string;
  /**
   * Chunks (content-defined), deduplicates, compresses, encrypts and stores a
   * stream with bounded memory. The chunk list is stored as an encrypted
   * artifact index, so the returned reference stays small.
   */
  writeArtifact(
    input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
    meta: ArtifactMeta,
    opts?: WriteOptions,
  ): Promise<WriteResult>;
  /**
   * The artifact's plain bytes. Every chunk is authenticated and re-hashed,
   * the sha256 of the whole stream checked at the end; on any problem the
   * stream errors with a typed error naming the object.
   */
  readArtifact(ref: ArtifactRef, opts?: ReadOptions): NodeJS.ReadableStream & AsyncIterable<Buffer>;
  /** Atomically commits a recovery point: the manifest is one object, written last. */
  commitRecoveryPoint(input: CommitInput): Promise<RecoveryPoint>;
  /** Newest first. */
  listRecoveryPoints(): Promise<RecoveryPoint[]>;
  /** By id or unique id prefix. */
  getRecoveryPoint(id: string): Promise<RecoveryPoint>;
  /** Removes a recovery point (its data goes at the next prune). Refused while held. */
  forget(id: string): Promise<ForgetResult>;
  hold(id: string, reason: string): Promise<void>;
  unhold(id: string): Promise<void>;
  verify(opts?: VerifyOptions): Promise<VerifyReport>;
  /** Deletes data no recovery point references; safe while backups run (docs/repository-format.md, "Locks and prune"). */
  prune(opts?: PruneOptions): Promise<PruneReport>;
  /**
   * S3 Object Lock: moves the retention of everything live points need (manifests, indexes, chunks,
   * config) to now + retention, so chunks reused from old uploads stay protected. Run it after prune
   * (repository/object-lock.ts). Without objectLock it does nothing.
   */
  extendObjectLocks(): Promise<{ objects: number; until: string }>;
  /** Rewraps the master key under a new password; data is not re-encrypted. */
  changePassword(newPassword: string): Promise<void>;
  /** Stored objects and bytes. */
  stats(): Promise<RepositoryStats>;
  /** Small encrypted JSON documents beside the points: drill results, incident reports, audit entries (repository/records.ts). */
  readonly records: Records;
  /** Several passwords per repository: list, add, remove, passwd (repository/key-manager.ts). */
  readonly keyring: KeyManager;
  /** The hash-chained, encrypted audit trail under records/audit/ (repository/audit.ts). */
  readonly audit: AuditLog;
  /** Id of the key file this repository was opened with. */
  readonly keyId: string;
  close(): Promise<void>;
}
