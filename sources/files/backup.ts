import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { SourceFingerprint, StreamOptions } from '../types';
import { listSelection } from './select';
import type { FileEntry, FilesManifest, FilesSelection } from './types';

/** A backup in progress: read `content` to the end, then `manifest()` describes what it held. */
export interface FilesBackup {
  content: AsyncIterable<Buffer>;
  /** The manifest, complete once `content` was read to the end (sizes and digests as streamed). */
  manifest(): FilesManifest;
}

/**
 * Lists the selection, then streams every regular file's bytes one after the
 * other (bounded memory: one read buffer at a time), hashing as it goes. A
 * file that vanishes between listing and reading is left out; one that changes
 * size is recorded with the bytes actually read.
 */
export async function backupFiles(sel: FilesSelection, opts: StreamOptions = {}): Promise<FilesBackup> {
  const { entries, missing } = await listSelection(sel, opts.signal);
  const gone = new Set<string>();
  let done = false;
  async function* content(): AsyncGenerator<Buffer> {
    let bytes = 0;
    let items = 0;
    for (const e of entries) {
      items++;
      if (e.type !== 'file') continue;
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of createReadStream(path.join(sel.root, ...e.path.split('/')), {
          signal: opts.signal,
        })) {
          const b = chunk as Buffer;
          hash.update(b);
          size += b.length;
          bytes += b.length;
          yield b;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || size > 0) throw err;
        gone.add(e.path);
        continue;
      }
      e.size = size;
      e.sha256 = hash.digest('hex');
      opts.onProgress?.({ bytes, items, totalItems: entries.length });
    }
    done = true;
  }
  return {
    content: content(),
    manifest: () => {
      if (!done) throw new Error('files backup: manifest() called before the content stream was read to the end');
      return { version: 1, root: sel.root, entries: entries.filter((e) => !gone.has(e.path)), missing };
    },
  };
}

/**
 * Order-independent digest of what matters for "the same configuration":
 * paths, types, modes, contents and link targets (not mtimes or owners, which
 * a copy elsewhere does not keep). Same keys for a backup and a live folder.
 */
export function filesFingerprint(entries: readonly FileEntry[]): SourceFingerprint {
  const h = createHash('sha256');
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : 1)))
    h.update(JSON.stringify([e.path, e.type, e.mode, e.sha256 ?? null, e.target ?? null]) + '\n');
  return { counts: { files: entries.length }, digests: { files: h.digest('hex') } };
}

/** sha256 and size of every regular file of `entries` (live ones, for diff and fingerprints). */
export async function hashEntries(root: string, entries: FileEntry[], signal?: AbortSignal): Promise<FileEntry[]> {
  for (const e of entries) {
    if (e.type !== 'file') continue;
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(path.join(root, ...e.path.split('/')), { signal })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    e.size = size;
    e.sha256 = hash.digest('hex');
  }
  return entries;
}

/** The live entries of a selection with their digests: what `diff` and DR compare a backup with. */
export async function liveFiles(sel: FilesSelection, signal?: AbortSignal): Promise<FileEntry[]> {
  const { entries } = await listSelection(sel, signal);
  return hashEntries(sel.root, entries, signal);
}
