import { rename, rm } from 'node:fs/promises';
import { FaissRestoreIncompleteError, FaissRollbackConflictError } from './errors';
import {
  exists,
  fsyncDir,
  inoOf,
  isSwapped,
  readJournal,
  removeJournal,
  restorePaths,
  type RestorePaths,
  type StoredJournal,
} from './journal';
import type { FaissRestoreOutcome } from './types';

/**
 * Finishing a restore, from the journal on disk (any process, any time,
 * idempotent): confirm deletes the kept previous file; rollback puts it back
 * (or removes the restored file when there was none before).
 */

/** Deletes the kept previous file and the journal. Throws FaissRestoreIncompleteError if the file was never swapped in. */
export async function confirmFaissRestore(targetPath: string, restoreId: string): Promise<FaissRestoreOutcome> {
  const p = restorePaths(targetPath, restoreId);
  const j = await readJournal(p);
  if (!j) return { restoreId, targetPath: p.target, outcome: 'none-pending' };
  if (!(await isSwapped(j))) throw new FaissRestoreIncompleteError(p.target, restoreId);
  if (j.prevPath) await rm(j.prevPath, { force: true });
  await removeJournal(p);
  return { restoreId, targetPath: p.target, outcome: 'confirmed' };
}

/**
 * Puts the target back as it was before restore `restoreId`: the kept
 * previous file renamed over it (the original inode, byte for byte), or the
 * restored file removed when there was none. Refuses
 * (FaissRollbackConflictError) when the target was replaced by someone else
 * since the restore.
 */
export async function rollbackFaissRestore(targetPath: string, restoreId: string): Promise<FaissRestoreOutcome> {
  const p = restorePaths(targetPath, restoreId);
  const j = await readJournal(p);
  if (!j) return { restoreId, targetPath: p.target, outcome: 'none-pending' };
  if (!(await isSwapped(j))) {
    await discardUnswapped(p, j);
    return { restoreId, targetPath: p.target, outcome: 'rolled-back' };
  }
  const current = await inoOf(p.target);
  const prevIno = j.result?.prevIno;
  // A crash after an earlier rollback's rename: the original is already back.
  const alreadyBack =
    j.prevPath !== null && current !== undefined && current === prevIno && !(await exists(j.prevPath));
  if (!alreadyBack) {
    if (current !== undefined && j.restoredIno !== undefined && current !== j.restoredIno) {
      throw new FaissRollbackConflictError(
        p.target,
        restoreId,
        'the file was replaced by someone else after the restore, and putting the previous one back would destroy that newer data',
      );
    }
    if (j.prevPath) {
      if (!(await exists(j.prevPath))) {
        throw new FaissRollbackConflictError(
          p.target,
          restoreId,
          `the kept previous file ${j.prevPath} is gone, so there is nothing to put back`,
        );
      }
      await rename(j.prevPath, p.target);
    } else if (current !== undefined) {
      await rm(p.target, { force: true });
    }
    await fsyncDir(p.dir);
  }
  await removeJournal(p);
  return { restoreId, targetPath: p.target, outcome: 'rolled-back' };
}

/** A restore that never swapped: the target is untouched, only its leftovers go. */
export async function discardUnswapped(p: RestorePaths, j: StoredJournal): Promise<void> {
  await rm(j.tmpPath, { force: true });
  if (j.prevPath) await rm(j.prevPath, { force: true });
  await removeJournal(p);
}
