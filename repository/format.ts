/**
 * Constants and names of the on-storage format (docs/repository-format.md).
 * Changing anything here changes the format: bump FORMAT_VERSION and keep
 * reading the old one.
 */

/**
 * Highest repository format version this code reads. Version 2 added packs
 * (small blobs stored together, docs/repository-format.md section 7a): only
 * pack objects, pack indexes and artifact indexes that name packs carry it, so
 * a version-1 reader still reads everything else and refuses exactly those.
 */
export const FORMAT_VERSION = 2;
/** Version of objects and documents that exist since version 1. */
export const V1 = 1;
/** Version of pack objects, pack indexes and artifact indexes with pack runs. */
export const V2 = 2;

/** First two bytes of every encrypted object: "LB". */
export const OBJECT_MAGIC = 0x4c42;
/** magic(2) version(1) type(1) flags(1) reserved(3) */
export const HEADER_BYTES = 8;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const OBJECT_OVERHEAD = HEADER_BYTES + NONCE_BYTES + TAG_BYTES;

/** Object type byte; part of the authenticated header, so one kind of object cannot pass as another. */
export const OBJECT_TYPES = {
  config: 1,
  chunk: 2,
  artifactIndex: 3,
  manifest: 4,
  hold: 5,
  lock: 6,
  condemned: 7,
  record: 8,
  pack: 9,
  packIndex: 10,
} as const;
export type ObjectType = (typeof OBJECT_TYPES)[keyof typeof OBJECT_TYPES];

/** Header flag bits. */
export const OBJECT_FLAGS = {
  /** The plaintext is one zstd frame. */
  zstd: 0x01,
} as const;

/** Top-level names ("folders") of the repository. */
export const PATHS = {
  config: 'config',
  keys: 'keys/',
  data: 'data/',
  artifacts: 'artifacts/',
  points: 'points/',
  holds: 'holds/',
  locks: 'locks/',
  condemned: 'condemned/',
  records: 'records/',
} as const;

export const chunkObject = (id: string) => `${PATHS.data}${id.slice(0, 2)}/${id}`;
/** Packs live under data/ too, so everything that is "the data" (sizes, listings, S3 immutability) includes them. */
export const PACKS_PREFIX = `${PATHS.data}packs/`;
export const packObject = (packId: string) => `${PACKS_PREFIX}${packId}`;
export const packIndexObject = (packId: string) => `${PACKS_PREFIX}${packId}.idx`;
export const artifactObject = (indexId: string) => `${PATHS.artifacts}${indexId}`;
export const pointObject = (id: string) => `${PATHS.points}${id}`;
export const holdObject = (id: string) => `${PATHS.holds}${id}`;
export const lockObject = (id: string) => `${PATHS.locks}${id}`;
export const condemnedObject = (lockId: string) => `${PATHS.condemned}${lockId}`;
export const keyObject = (id: string) => `${PATHS.keys}${id}`;
export const recordObject = (kind: string, id: string) => `${PATHS.records}${kind}/${id}`;

/** Chunk ids: lowercase hex HMAC-SHA256. */
export const CHUNK_ID_RE = /^[0-9a-f]{64}$/;
/** Index, key, lock and repository ids: 128 random bits in lowercase hex. */
export const RANDOM_ID_RE = /^[0-9a-f]{32}$/;
/** Recovery point ids: UTC second, dash, 32 random bits. */
export const POINT_ID_RE = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** Chunk id from its object name (data/ab/<id>), or undefined for anything else. */
export function chunkIdOf(object: string): string | undefined {
  const id = object.slice(object.lastIndexOf('/') + 1);
  return object.startsWith(PATHS.data) && CHUNK_ID_RE.test(id) && object === chunkObject(id) ? id : undefined;
}

/** Pack id from a pack object's name (data/packs/<id>), or undefined. */
export function packIdOf(object: string): string | undefined {
  const id = object.slice(PACKS_PREFIX.length);
  return object.startsWith(PACKS_PREFIX) && RANDOM_ID_RE.test(id) ? id : undefined;
}

/** Pack id from a pack index's name (data/packs/<id>.idx), or undefined. */
export function packIndexIdOf(object: string): string | undefined {
  if (!object.startsWith(PACKS_PREFIX) || !object.endsWith('.idx')) return undefined;
  const id = object.slice(PACKS_PREFIX.length, -4);
  return RANDOM_ID_RE.test(id) ? id : undefined;
}

/**
 * Packs: record-sized blobs (a Redis key or two) would be millions of tiny
 * objects; they are gathered into packs of about `target` plain bytes, each
 * compressed and encrypted as one object (so small records still compress
 * well together), with a separate pack index listing its blobs.
 */
export const PACKING = {
  /** A pack is sealed once its blobs add up to this many plain bytes. */
  target: 4 * 1024 * 1024,
  /**
   * A write that would read less than this share of an older pack's bytes
   * copies the blobs it needs into its own packs instead (repack on write):
   * prune frees whole packs only, so this keeps every live point on packs it
   * mostly uses, and a pack whose blobs only forgotten points need dies whole.
   */
  minUse: 0.5,
  /** Pieces of a record stream at least this big are content-defined-chunked into loose chunks instead. */
  maxBlob: 64 * 1024,
} as const;

/** Defaults chosen at init and then fixed in the config object. */
export const DEFAULTS = {
  minSize: 256 * 1024,
  normalSize: 512 * 1024,
  maxSize: 4 * 1024 * 1024,
  normalization: 1,
  compressionLevel: 3,
  scrypt: { N: 32768, r: 8, p: 1 },
} as const;

/** The config object's JSON (encrypted). */
export interface ConfigDoc {
  v: 1;
  type: 'config';
  id: string;
  created: string;
  chunker: {
    algorithm: 'fastcdc-gear32-v1';
    minSize: number;
    normalSize: number;
    maxSize: number;
    normalization: number;
    gearSeed: string;
  };
  compression: { algorithm: 'zstd'; level: number };
}

/** A loose chunk of an artifact: [chunk id, plain length]. */
export type ChunkEntry = [string, number];
/** Consecutive blobs of one pack: [index into `packs`, first blob's ordinal in the pack, blob count, plain bytes]. */
export type PackRun = [number, number, number, number];

/** An artifact index's JSON (encrypted). */
export interface ArtifactIndexDoc {
  /** 2 when `chunks` holds pack runs. */
  v: 1 | 2;
  type: 'artifact-index';
  id: string;
  created: string;
  source: string;
  kind: string;
  name: string;
  size: number;
  sha256: string;
  /** The artifact's parts in stream order: loose chunks and (v2) runs of pack blobs. */
  chunks: (ChunkEntry | PackRun)[];
  /** v2: ids of the packs the runs name. */
  packs?: string[];
}

/** A pack index's JSON (encrypted, type packIndex, version 2). */
export interface PackIndexDoc {
  v: 2;
  type: 'pack-index';
  /** The pack's id (its object is data/packs/<id>). */
  id: string;
  /** Plain bytes of the pack: its blobs back to back. */
  size: number;
  /** [blob id (HMAC-SHA256 like a chunk id), offset in the plain pack, length], in pack order. */
  blobs: [string, number, number][];
}

/** A lock's JSON (encrypted). */
export interface LockDoc {
  v: 1;
  type: 'lock';
  id: string;
  kind: LockKind;
  host: string;
  pid: number;
  /** Client clock, informational; liveness uses the object's storage mtime. */
  created: string;
  /** Storage time of the lock's first write (ms since epoch). */
  storageCreated?: number;
  /** Prunes (lock ids) whose condemned list this writer has taken into account. */
  seenPrunes: string[];
  /** Prune locks only: the condemned list object, once written. */
  condemned?: { object: string; count: number };
  /** Prune locks only: who runs the prune across retries (e.g. workflow and activity id); a retry takes over its own dead lock. */
  owner?: string;
}

export const LOCK_KINDS = { write: 'write', commit: 'commit', prune: 'prune' } as const;
export type LockKind = (typeof LOCK_KINDS)[keyof typeof LOCK_KINDS];

/** A condemned list's JSON (encrypted): objects a running prune is about to delete. */
export interface CondemnedDoc {
  v: 1;
  type: 'condemned';
  prune: string;
  objects: string[];
  /** Stored size of each object (same order), so a run that takes over a crashed one can count what it freed. */
  sizes?: number[];
}

/** A recovery point manifest's JSON (encrypted). */
export interface ManifestDoc {
  v: 1;
  type: 'recovery-point';
  id: string;
  time: string;
  host: string;
  tags: string[];
  parent?: string;
  labels: Record<string, string>;
  artifacts: {
    source: string;
    kind: string;
    name: string;
    size: number;
    sha256: string;
    indexId: string;
    chunks: number;
    metadata?: Record<string, unknown>;
  }[];
}

/** A legal hold's JSON (encrypted). */
export interface HoldDoc {
  v: 1;
  type: 'hold';
  id: string;
  reason: string;
  time: string;
}
