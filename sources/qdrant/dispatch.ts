/** One entry point per direction: picks snapshot or point-export mode. */
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
