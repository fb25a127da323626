/**
 * Domain types shared by every layer — config, activities, workflows, client. Pure types and
 * constants (workflow code imports this file too, so no Node APIs). One definition each: a source
 * type, a verify level, the safety tag, a restore target override, a per-source backup summary.
 */

export const SOURCE_TYPES = ['redis', 'faiss', 'qdrant', 'files'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const VERIFY_LEVELS = ['none', 'structure', 'read-data'] as const;
/** How deeply a fresh recovery point is checked after commit. */
export type VerifyLevel = (typeof VERIFY_LEVELS)[number];

/** Tags Lifeboat itself gives recovery points. */
export const POINT_TAGS = {
  /** The state of restore targets taken just before a restore: never "latest", kept by its own retention rule. */
  safety: 'safety',
} as const;

/** Where to restore a source instead of its configured location. */
export interface RestoreTargetOverride {
  /** Redis URL without credentials (the source's configured password is used). */
  redisUrl?: string;
  redisDb?: number;
  /** Qdrant collection name. */
  collection?: string;
  /** FAISS file or directory path; for a files source, the folder its selection is restored below. */
  path?: string;
}

/** What one source's backup stored. */
export interface SourceBackupResult {
  source: string;
  type: SourceType;
  artifacts: number;
  bytes: number;
  /** Bytes that were new to the repository (the rest deduplicated). */
  newBytes: number;
  /** Keys, points or vectors. */
  items: number;
  durationMs: number;
  /** Facts worth saying about this backup (e.g. Redis keys of types passed through as raw DUMP payloads, the capture method). */
  notes?: string[];
}
