import type { RedisConnectionOptions } from '../sources/redis/types';
import type { QdrantConnection } from '../sources/qdrant/types';

/** A Redis side, resolved: where, which records, how their id is read. */
export interface RedisIdSpec {
  pattern: string;
  /** The pattern's literal start as latin1 (one char per byte, how keys arrive), stripped by key-suffix. */
  prefixLatin1: string;
  db: number;
  id: { from: 'key-suffix' } | { from: 'hash-field'; field: string } | { from: 'json-field'; field: string };
}

/**
 * One link with every side resolved to a live location (secrets already resolved by the activity,
 * target overrides applied). Nothing here is logged: `where` fields are the printable forms.
 */
export interface LinkSpec {
  name: string;
  dimension?: number;
  compare?: { sample: number; tolerance: number };
  examples: number;
  redis?: { source: string; where: string; conn: RedisConnectionOptions; spec: RedisIdSpec };
  faiss?: { source: string; file: string; ids: 'positions' | 'idmap' };
  qdrant?: {
    source: string;
    where: string;
    conn: QdrantConnection;
    collection: string;
    id: { from: 'point-id' } | { from: 'payload-field'; field: string };
    vector?: string;
  };
}

export interface CheckOptions {
  /** Run files of large id sets go here. */
  scratchDir: string;
  signal?: AbortSignal;
  onProgress?: (p: { bytes: number; items?: number }) => void;
  /** Ids per in-memory sorted run before spilling. @default 250_000 */
  runSize?: number;
}
