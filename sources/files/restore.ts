import { createHash } from 'node:crypto';
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  rename,
  rm,
  rmdir,
  symlink,
  utimes,
} from 'node:fs/promises';
import path from 'node:path';
import type { StreamOptions } from '../types';
import { FilesContentMismatchError, FilesTargetConflictError } from './errors';
import { dropJournal, loadJournal, prevPath, saveJournal, tmpPath, type DirAttrs, type FilesJournal } from './journal';
import type { FilesManifest } from './types';

export interface FilesRestoreOptions extends StreamOptions {
  /** Folder the manifest's relative paths are restored below. */
  targetRoot: string;
  /** Stable per restore (retries reuse it): names the journal, the temp and the kept files. */
  restoreId: string;
  /** Where the journal lives (the worker's scratch folder). */
  journalDir: string;
  /** Journal key: the source name (one journal per source and restore). */
  key: string;
  /** Give files their backed-up owner (needs root). @default process.getuid() === 0 */
  setOwner?: boolean;
}

const secs = (ns: string) => Number(BigInt(ns)) / 1e9;
const absOf = (root: string, rel: string) => path.join(root, ...rel.split('/'));
const lstatOrNull = (p: string) =>
  lstat(p, { bigint: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });

/** Reads exact byte counts from the content stream (chunk boundaries are the repository's, not the files'). */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]();
  }
  async take(n: number, sink: (b: Buffer) => Promise<void>): Promise<void> {
    while (n > 0) {
      if (!this.buf.length) {
        const r = await this.it.next();
        if (r.done) throw new FilesContentMismatchError('content artifact', `${n} more bytes`, 'its end');
        this.buf = r.value;
      }
      const piece = this.buf.subarray(0, Math.min(n, this.buf.length));
      this.buf = this.buf.subarray(piece.length);
      n -= piece.length;
      await sink(piece);
    }
  }
}

/** Conflicts that make a restore into `root` impossible without deleting a folder (nothing is changed). */
export async function filesConflicts(manifest: FilesManifest, root: string): Promise<string[]> {
  const problems: string[] = [];
  for (const e of manifest.entries) {
    const st = await lstatOrNull(absOf(root, e.path));
    if (!st) continue;
    if (e.type === 'dir' && !st.isDirectory())
      problems.push(`${absOf(root, e.path)} is a file in the target but a folder in the backup; move it away first`);
    if (e.type !== 'dir' && st.isDirectory())
      problems.push(
        `${absOf(root, e.path)} is a folder in the target but a ${e.type} in the backup; move it away first`,
      );
  }
  return problems;
}

/**
 * Makes the target hold every entry of the manifest: each file written to a
 * temp file beside its place, fsynced, given its mode, owner and mtime, then
 * renamed over the old one (readers see the old or the new file, never half
 * of one). The old file is kept (hard link) until confirm or rollback, and a
 * journal written before each change lets rollback undo exactly what was
 * done, after a crash too. Files of the target that are not in the backup are
 * left alone. Idempotent per restoreId.
 */
export async function restoreFiles(
  manifest: FilesManifest,
  content: AsyncIterable<Buffer>,
  opts: FilesRestoreOptions,
): Promise<{ items: number; bytes: number }> {
  const root = opts.targetRoot;
  const setOwner = opts.setOwner ?? process.getuid?.() === 0;
  const conflicts = await filesConflicts(manifest, root);
  if (conflicts.length) throw new FilesTargetConflictError(conflicts);
  const j: FilesJournal = (await loadJournal(opts.journalDir, opts.restoreId, opts.key)) ?? {
    version: 1,
    restoreId: opts.restoreId,
    targetRoot: root,
    files: {},
    createdDirs: [],
    dirAttrs: {},
  };
  const save = () => saveJournal(opts.journalDir, opts.key, j);

  /** Makes sure `dir` exists, noting first how it (or the folder it is created in) was. */
  const prepareDir = async (dir: string): Promise<void> => {
    if (j.dirAttrs[dir] || j.createdDirs.includes(dir)) return;
    const st = await lstatOrNull(dir);
    if (st) {
      const attrs: DirAttrs = {
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        atimeNs: st.atimeNs.toString(),
        mtimeNs: st.mtimeNs.toString(),
      };
      j.dirAttrs[dir] = attrs;
      await save();
      return;
    }
    await prepareDir(path.dirname(dir));
    j.createdDirs.push(dir);
    await save();
    await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  };

  /** Noted before its temp file is made: a rollback then removes the temp file of a failed entry too. */
  const note = async (dest: string): Promise<void> => {
    if (j.files[dest]) return;
    j.files[dest] = { existed: (await lstatOrNull(dest)) !== null };
    await save();
  };
  /** Keeps what is at `dest`, then renames `tmp` over it. */
  const swapIn = async (tmp: string, dest: string): Promise<void> => {
    if (j.files[dest].existed && !(await lstatOrNull(prevPath(dest, opts.restoreId)))) {
      // link() precedes the rename: once the new file is in place, the old one is surely kept.
      await link(dest, prevPath(dest, opts.restoreId));
    }
    await rename(tmp, dest);
  };

  const reader = new ByteReader(content);
  let bytes = 0;
  let items = 0;
  for (const e of manifest.entries) {
    opts.signal?.throwIfAborted();
    const dest = absOf(root, e.path);
    await prepareDir(path.dirname(dest));
    if (e.type === 'dir') {
      await prepareDir(dest);
    } else if (e.type === 'symlink') {
      await note(dest);
      const tmp = tmpPath(dest, opts.restoreId);
      await rm(tmp, { force: true });
      await symlink(e.target!, tmp);
      if (setOwner) await lchown(tmp, e.uid, e.gid);
      await lutimes(tmp, secs(e.mtimeNs), secs(e.mtimeNs));
      await swapIn(tmp, dest);
    } else {
      await note(dest);
      const tmp = tmpPath(dest, opts.restoreId);
      await rm(tmp, { force: true });
      const fh = await open(tmp, 'wx', 0o600);
      const hash = createHash('sha256');
      try {
        await reader.take(e.size ?? 0, async (b) => {
          hash.update(b);
          await fh.write(b);
          bytes += b.length;
          opts.onProgress?.({ bytes, items });
        });
        await fh.sync();
      } finally {
        await fh.close();
      }
      const got = hash.digest('hex');
      if (got !== e.sha256) {
        await rm(tmp, { force: true });
        throw new FilesContentMismatchError(dest, String(e.sha256), got);
      }
      // Owner before mode: chown clears setuid/setgid bits.
      if (setOwner) await chown(tmp, e.uid, e.gid);
      await chmod(tmp, e.mode);
      await utimes(tmp, secs(e.mtimeNs), secs(e.mtimeNs));
      await swapIn(tmp, dest);
    }
    items++;
  }
  // Folders last, deepest first: writing into a folder changes its mtime.
  for (const e of [...manifest.entries].reverse()) {
    if (e.type !== 'dir') continue;
    const dest = absOf(root, e.path);
    if (setOwner) await chown(dest, e.uid, e.gid);
    await chmod(dest, e.mode);
    await utimes(dest, secs(e.mtimeNs), secs(e.mtimeNs));
  }
  await syncDirs(Object.keys(j.files).map((f) => path.dirname(f)));
  return { items, bytes };
}

/** fsync of the folders whose entries were renamed: the renames survive a power cut. */
async function syncDirs(dirs: string[]): Promise<void> {
  for (const d of new Set(dirs)) {
    const fh = await open(d, 'r').catch(() => undefined);
    if (!fh) continue;
    await fh.sync().catch(() => undefined);
    await fh.close();
  }
}

/** Drops what was kept for a rollback. Idempotent. */
export async function confirmFilesRestore(journalDir: string, restoreId: string, key: string): Promise<void> {
  const j = await loadJournal(journalDir, restoreId, key);
  if (!j) return;
  // Removing a kept file changes its folder's mtime, which the restore set to the backed-up one: keep it.
  const times = new Map<string, { atimeNs: bigint; mtimeNs: bigint }>();
  for (const dest of Object.keys(j.files)) {
    const d = path.dirname(dest);
    const st = times.has(d) ? undefined : await lstatOrNull(d);
    if (st) times.set(d, { atimeNs: st.atimeNs, mtimeNs: st.mtimeNs });
  }
  for (const [dest, f] of Object.entries(j.files)) {
    await rm(tmpPath(dest, restoreId), { force: true });
    if (f.existed) await rm(prevPath(dest, restoreId), { force: true });
  }
  for (const [d, t] of times) await utimes(d, secs(t.atimeNs.toString()), secs(t.mtimeNs.toString()));
  await dropJournal(journalDir, restoreId, key);
}

/**
 * Puts the target back as it was before the restore: every replaced file
 * renamed back from its kept copy (same inode, bytes, mode, owner, times),
 * every created file and folder removed, and the folders' modes and times set
 * back. Idempotent; a journal-less call (nothing started) does nothing.
 */
export async function rollbackFilesRestore(journalDir: string, restoreId: string, key: string): Promise<void> {
  const j = await loadJournal(journalDir, restoreId, key);
  if (!j) return;
  const setOwner = process.getuid?.() === 0;
  for (const [dest, f] of Object.entries(j.files).reverse()) {
    await rm(tmpPath(dest, restoreId), { force: true });
    const kept = prevPath(dest, restoreId);
    if (f.existed) {
      // No kept copy: the link (which precedes the rename) never happened, so dest is still the old file.
      if (await lstatOrNull(kept)) await rename(kept, dest);
    } else {
      const st = await lstatOrNull(dest);
      if (st && !st.isDirectory()) await rm(dest, { force: true });
    }
  }
  for (const d of [...j.createdDirs].reverse()) await rmdir(d).catch(() => undefined);
  // Deepest first, so setting a folder's times is not undone by a change inside it.
  for (const [d, a] of Object.entries(j.dirAttrs).sort(([x], [y]) => y.length - x.length)) {
    if (!(await lstatOrNull(d))) continue;
    if (setOwner) await chown(d, a.uid, a.gid);
    await chmod(d, a.mode);
    await utimes(d, secs(a.atimeNs), secs(a.mtimeNs));
  }
  await dropJournal(journalDir, restoreId, key);
}
