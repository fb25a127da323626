/**
 * Configuration files as a source: what a backup records per file and how a
 * selection is described. The recovery point holds two artifacts per source:
 * the contents of every regular file, concatenated in manifest order
 * (deduplicated, compressed, encrypted like any artifact), and the manifest
 * (JSON) naming each entry with its mode, owner, mtime, size, sha256 or link
 * target. Names and attributes live only in the encrypted manifest artifact.
 */

export type FileEntryType = 'file' | 'dir' | 'symlink';

export interface FileEntry {
  /** "/"-separated path relative to the selection's root. */
  path: string;
  type: FileEntryType;
  /** Permission bits (e.g. 0o600). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time in nanoseconds since the epoch (decimal string: bigger than a double holds exactly). */
  mtimeNs: string;
  /** Regular files: bytes and their sha256 (hex). */
  size?: number;
  sha256?: string;
  /** Symlinks: the link's target, as readlink returns it (never followed). */
  target?: string;
}

export interface FilesManifest {
  version: 1;
  /** The folder the entries were relative to at backup (informational: a restore may go elsewhere). */
  root: string;
  /** Sorted by path; regular files' bytes follow each other in this order in the content artifact. */
  entries: FileEntry[];
  /** Literal paths of the selection that did not exist at backup. */
  missing: string[];
}

/** What to back up: globs relative to `root` (a matched folder brings everything below it). */
export interface FilesSelection {
  root: string;
  include: readonly string[];
  exclude: readonly string[];
}

/** Marks Lifeboat's own temp and kept files beside restored ones: never selected, never restored. */
export const FILES_MARK = '.lifeboat-';
