import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { globToRegExp } from '../../lib/glob';
import { FILES_MARK, type FileEntry, type FilesSelection } from './types';

const GLOB = /[*?]/;

/** One entry from lstat (symlinks are recorded, never followed). */
export async function entryOf(abs: string, rel: string): Promise<FileEntry | undefined> {
  const st = await lstat(abs, { bigint: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return undefined;
  const common = {
    path: rel,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs.toString(),
  };
  if (st.isSymbolicLink()) return { ...common, type: 'symlink', target: await readlink(abs) };
  if (st.isDirectory()) return { ...common, type: 'dir' };
  if (st.isFile()) return { ...common, type: 'file', size: Number(st.size) };
  // Sockets, fifos and devices are not configuration: left out.
  return undefined;
}

/**
 * The entries a selection names below `root` (no contents read): literal paths
 * and glob matches, a matched folder with everything below it, excludes
 * applied to a path and every folder above it. Sorted by path.
 */
export async function listSelection(
  sel: FilesSelection,
  signal?: AbortSignal,
): Promise<{ entries: FileEntry[]; missing: string[] }> {
  const excludes = sel.exclude.map(globToRegExp);
  const excluded = (rel: string) => rel.includes(FILES_MARK) || excludes.some((r) => r.test(rel));
  const found = new Map<string, FileEntry>();
  const missing: string[] = [];
  const abs = (rel: string) => (rel === '' ? sel.root : path.join(sel.root, ...rel.split('/')));

  /** Adds `rel` (and, for a folder, everything below it). */
  const addTree = async (rel: string, e: FileEntry): Promise<void> => {
    signal?.throwIfAborted();
    if (excluded(rel)) return;
    if (rel !== '') found.set(rel, e);
    if (e.type !== 'dir') return;
    for (const name of (await readdir(abs(rel))).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const child = await entryOf(abs(r), r);
      if (child) await addTree(r, child);
    }
  };

  for (const glob of sel.include) {
    const parts = glob.split('/');
    const firstGlob = parts.findIndex((p) => GLOB.test(p));
    if (firstGlob < 0) {
      const e = await entryOf(abs(glob), glob);
      if (!e) missing.push(glob);
      else await addTree(glob, e);
      continue;
    }
    const re = globToRegExp(glob);
    const deep = parts.slice(firstGlob).includes('**');
    const maxDepth = parts.length - firstGlob;
    // Walk from the fixed part of the glob; below a match, addTree takes everything.
    const walk = async (rel: string, depth: number): Promise<void> => {
      signal?.throwIfAborted();
      const names = await readdir(abs(rel)).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const r = rel === '' ? name : `${rel}/${name}`;
        if (excluded(r)) continue;
        const e = await entryOf(abs(r), r);
        if (!e) continue;
        if (re.test(r)) await addTree(r, e);
        else if (e.type === 'dir' && (deep || depth + 1 < maxDepth)) await walk(r, depth + 1);
      }
    };
    const base = parts.slice(0, firstGlob).join('/');
    const b = base === '' ? { type: 'dir' } : await entryOf(abs(base), base);
    if (b?.type === 'dir') await walk(base, 0);
  }
  const entries = [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, missing };
}
