/**
 * Files source adapter: configuration files (.env, compose files, redis.conf, rules) on the worker's
 * disk. A backup streams every selected file's bytes into one artifact and describes them (mode,
 * owner, mtime, symlinks) in a manifest; a restore writes each file atomically with a journal that
 * lets rollback put the target back exactly.
 */
export { backupFiles, filesFingerprint, hashEntries, liveFiles, type FilesBackup } from './backup';
export { listSelection } from './select';
export { restoreFiles, confirmFilesRestore, rollbackFilesRestore, filesConflicts } from './restore';
export { compareFiles, diffEntries, entryDifferences, type FilesDiff } from './compare';
export { FilesBadBackupError, FilesTargetConflictError, FilesContentMismatchError } from './errors';
export { FILES_MARK, type FileEntry, type FilesManifest, type FilesSelection } from './types';
