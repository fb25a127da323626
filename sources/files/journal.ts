import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Attributes of a folder before a restore changed anything in it, to put back on rollback. */
export interface DirAttrs {
  mode: number;
  uid: number;
  gid: number;
  atimeNs: string;
  mtimeNs: string;
}

/**
 * What a restore changed, written before each change (so a crash at any point
 * leaves a journal that covers it). Worker-local, like the files themselves.
 */
export interface FilesJournal {
  version: 1;
  restoreId: string;
  targetRoot: string;
  /** Per absolute path: whether something was there (then kept as prevPath until confirm or rollback). */
  files: Record<string, { existed: boolean }>;
  /** Folders the restore created, in creation order. */
  createdDirs: string[];
  /** Folders that existed, as they were before the restore first touched them. */
  dirAttrs: Record<string, DirAttrs>;
}

const journalPath = (dir: string, restoreId: string, key: string) =>
  path.join(dir, `files-restore-${restoreId}-${Buffer.from(key).toString('hex')}.json`);

/** Kept previous version and temp file of a target path: beside it, so renames stay on one file system. */
export const prevPath = (file: string, restoreId: string) =>
  path.join(path.dirname(file), `.${path.basename(file)}.lifeboat-prev-${restoreId}`);
export const tmpPath = (file: string, restoreId: string) =>
  path.join(path.dirname(file), `.${path.basename(file)}.lifeboat-tmp-${restoreId}`);

export async function loadJournal(dir: string, restoreId: string, key: string): Promise<FilesJournal | undefined> {
  const text = await readFile(journalPath(dir, restoreId, key), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as FilesJournal);
}

/** Written to a temp file, fsynced and renamed: a crash never leaves half a journal. */
export async function saveJournal(dir: string, key: string, j: FilesJournal): Promise<void> {
  const file = journalPath(dir, j.restoreId, key);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(j), { mode: 0o600 });
  const fh = await open(tmp, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

export const dropJournal = (dir: string, restoreId: string, key: string) =>
  rm(journalPath(dir, restoreId, key), { force: true });
