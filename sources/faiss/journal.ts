import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { FaissInvalidArgumentError } from './errors';
import type { FaissRestoreHandle, FaissRestoreJournal } from './types';

/**
 * The restore journal: a small JSON file beside the target that records
 * where the temp file and the kept previous file are, so confirm and
 * rollback work from any process (a Temporal activity may run in another
 * worker after a crash). All names carry ".lifeboat-" so directory backups
 * skip them.
 */

const RESTORE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkRestoreId(id: string): void {
  if (typeof id !== 'string' || !RESTORE_ID.test(id))
    throw new FaissInvalidArgumentError(
      'restoreId',
      `${JSON.stringify(id)} must be 1-64 characters of A-Z a-z 0-9 _ -`,
    );
}

export interface RestorePaths {
  target: string;
  dir: string;
  tmp: string;
  prev: string;
  journal: string;
}

export function restorePaths(targetPath: string, restoreId: string): RestorePaths {
  checkRestoreId(restoreId);
  const target = path.resolve(targetPath);
  const dir = path.dirname(target);
  const name = path.basename(target);
  return {
    target,
    dir,
    tmp: path.join(dir, `.${name}.lifeboat-tmp-${restoreId}`),
    prev: path.join(dir, `${name}.lifeboat-prev-${restoreId}`),
    journal: path.join(dir, `.${name}.lifeboat-restore-${restoreId}.json`),
  };
}

/** What a restore found, kept in the journal so a retried restore can return the same handle. */
export type JournalResult = Pick<
  FaissRestoreHandle,
  'size' | 'sha256' | 'header' | 'structure' | 'probes' | 'probeComparison' | 'ownerNotSet'
> & {
  /** Inode of the kept previous file, to recognise a rollback that already happened. */
  prevIno?: number;
};

/** `result` is present from state 'prepared' on. */
export type StoredJournal = FaissRestoreJournal & { result?: JournalResult };

export async function readJournal(p: RestorePaths): Promise<StoredJournal | null> {
  try {
    return JSON.parse(await readFile(p.journal, 'utf8')) as StoredJournal;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Written to a temp name, fsynced, renamed, folder fsynced: never half a journal on disk. */
export async function writeJournal(p: RestorePaths, j: StoredJournal): Promise<void> {
  const tmp = `${p.journal}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(j, null, 2));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, p.journal);
  await fsyncDir(p.dir);
}

export async function removeJournal(p: RestorePaths): Promise<void> {
  await rm(p.journal, { force: true });
  await rm(`${p.journal}.tmp`, { force: true });
  await fsyncDir(p.dir);
}

/** Restore ids with a journal beside `targetPath` (restores neither confirmed nor rolled back). */
export async function listPendingFaissRestores(targetPath: string): Promise<string[]> {
  const target = path.resolve(targetPath);
  const prefix = `.${path.basename(target)}.lifeboat-restore-`;
  let names: string[];
  try {
    names = await readdir(path.dirname(target));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => n.startsWith(prefix) && n.endsWith('.json'))
    .map((n) => n.slice(prefix.length, -'.json'.length))
    .filter((id) => RESTORE_ID.test(id))
    .sort();
}

/**
 * Whether the restored file is in place. The journal is only updated after
 * the rename, so a crash in between leaves "prepared" with the temp file
 * gone: that too means swapped.
 */
export async function isSwapped(j: StoredJournal): Promise<boolean> {
  return j.state === 'swapped' || (j.state === 'prepared' && !(await exists(j.tmpPath)));
}

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export async function inoOf(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).ino;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Makes a rename or unlink in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
