/**
 * Qdrant source adapter: back up a collection as a native snapshot or as a
 * portable point export, restore it (optionally behind an atomic alias
 * switch), and prove the restore with fingerprints and probe queries.
 * Knows nothing of Temporal or the repository (see ../types.ts).
 */
export { backupQdrantSnapshot } from './snapshot-backup';
export { restoreQdrantSnapshot } from './snapshot-restore';
export { backupQdrantPoints } from './points-backup';
export { restoreQdrantPoints } from './points-restore';
export { fingerprintQdrant, type FingerprintOptions } from './fingerprint';
export { verifyQdrantRestore, type QdrantVerifyOptions } from './verify';
export {
  preflightQdrantRestore,
  assertQdrantRestorable,
  qdrantCollectionExists,
  type QdrantPreflightResult,
  type QdrantPreflightOptions,
} from './preflight';
export { switchQdrantAlias, deleteQdrantAlias, dropQdrantCollection, ensureQdrantAliases } from './alias';
export { probeVector } from './probes';
export { POINTS_FORMAT, POINTS_FORMAT_VERSION } from './points-format';
export * from './errors';
export * from './types';

import type { Readable } from 'node:stream';
import type { BackupStream } from '../types';
import { backupQdrantPoints } from './points-backup';
import { restoreQdrantPoints } from './points-restore';
import { backupQdrantSnapshot } from './snapshot-backup';
import { restoreQdrantSnapshot } from './snapshot-restore';
import type {
  QdrantBackupInfo,
  QdrantBackupMode,
  QdrantBackupOptions,
  QdrantConnection,
  QdrantRestoreOptions,
  QdrantRestoreResult,
} from './types';

/** Backs up one collection (or the collection behind an alias) in the given mode. */
export function backupQdrant(
  conn: QdrantConnection,
  collection: string,
  mode: QdrantBackupMode,
  opts: QdrantBackupOptions = {},
): Promise<BackupStream<QdrantBackupInfo>> {
  return mode === 'snapshot'
    ? backupQdrantSnapshot(conn, collection, opts)
    : backupQdrantPoints(conn, collection, opts);
}

/** Restores a stream produced by backupQdrant, choosing the method from `opts.info.mode`. */
export function restoreQdrant(
  conn: QdrantConnection,
  stream: Readable,
  opts: QdrantRestoreOptions,
): Promise<QdrantRestoreResult> {
  return opts.info.mode === 'snapshot'
    ? restoreQdrantSnapshot(conn, stream, opts)
    : restoreQdrantPoints(conn, stream, opts);
}
