import path from 'node:path';
import { hashEntries } from './backup';
import { entryOf } from './select';
import type { FileEntry, FilesManifest } from './types';

/** Milliseconds of an ns timestamp: what survives utimes (a double of seconds) on every file system. */
const ms = (ns: string) => BigInt(ns) / 1_000_000n;

/**
 * What differs between a backup's entry and a live one, by attribute name
 * (content, type, mode, owner, mtime, target); empty when equal.
 */
export function entryDifferences(want: FileEntry, got: FileEntry): string[] {
  const out: string[] = [];
  if (want.type !== got.type) return ['type'];
  if (want.type === 'file' && (want.sha256 !== got.sha256 || want.size !== got.size)) out.push('content');
  if (want.type === 'symlink' && want.target !== got.target) out.push('target');
  // A symlink's own mode is meaningless on Linux (always 0777).
  if (want.type !== 'symlink' && want.mode !== got.mode) out.push('mode');
  if (want.uid !== got.uid || want.gid !== got.gid) out.push('owner');
  if (ms(want.mtimeNs) !== ms(got.mtimeNs)) out.push('mtime');
  return out;
}

const describe = (e: FileEntry, what: string) =>
  what === 'content'
    ? `${e.size} bytes sha256 ${e.sha256?.slice(0, 12)}`
    : what === 'mode'
      ? e.mode.toString(8)
      : what === 'owner'
        ? `${e.uid}:${e.gid}`
        : what === 'mtime'
          ? new Date(Number(ms(e.mtimeNs))).toISOString()
          : what === 'target'
            ? String(e.target)
            : e.type;

/**
 * A restored target compared with the manifest, entry by entry. Owner
 * differences are notes (not failures) when the worker is not root, since
 * only root can chown.
 */
export async function compareFiles(
  manifest: FilesManifest,
  root: string,
  signal?: AbortSignal,
): Promise<{ mismatches: string[]; notes: string[] }> {
  const mismatches: string[] = [];
  const notes: string[] = [];
  const isRoot = process.getuid?.() === 0;
  for (const want of manifest.entries) {
    signal?.throwIfAborted();
    const file = path.join(root, ...want.path.split('/'));
    const got = await entryOf(file, want.path);
    if (!got) {
      mismatches.push(`${file}: missing`);
      continue;
    }
    if (got.type === 'file') await hashEntries(root, [got], signal);
    for (const what of entryDifferences(want, got)) {
      const line = `${file}: ${what} ${describe(got, what)}, expected ${describe(want, what)}`;
      if (what === 'owner' && !isRoot) notes.push(`${line} (the worker is not root, so it cannot chown)`);
      // A folder's mtime moves whenever anything inside it changes later; not a restore failure.
      else if (what === 'mtime' && want.type === 'dir') notes.push(line);
      else mismatches.push(line);
    }
  }
  return { mismatches, notes };
}

export interface FilesDiff {
  added: FileEntry[];
  removed: FileEntry[];
  changed: { path: string; what: string[]; was: FileEntry; now: FileEntry }[];
}

/** Config drift: what is live now compared with a recovery point's manifest. */
export function diffEntries(point: readonly FileEntry[], live: readonly FileEntry[]): FilesDiff {
  const before = new Map(point.map((e) => [e.path, e]));
  const now = new Map(live.map((e) => [e.path, e]));
  const out: FilesDiff = { added: [], removed: [], changed: [] };
  for (const [p, e] of now) if (!before.has(p)) out.added.push(e);
  for (const [p, e] of before) {
    const n = now.get(p);
    if (!n) out.removed.push(e);
    else {
      // A folder's mtime moves with every change inside it: the entries below tell the drift.
      const what = entryDifferences(e, n).filter((x) => !(x === 'mtime' && e.type === 'dir' && n.type === 'dir'));
      if (what.length) out.changed.push({ path: p, what, was: e, now: n });
    }
  }
  return out;
}
