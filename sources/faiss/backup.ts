import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BackupStream, StreamOptions } from '../types';
import {
  FaissCancelledError,
  FaissCorruptFileError,
  FaissFileChangedError,
  FaissFileNotFoundError,
  FaissInvalidPathError,
} from './errors';
import { HashingTransform, READ_CHUNK } from './hashing';
import { BINARY_PROBE_SKIP } from './fourcc';
import { globMatcher } from '../../lib/glob';
import { openIndexFile, opaqueHeader } from './header';
import { runFaissProbes } from './probe-runner';
import { inspectOpenFile } from './structure';
import type { FaissBackupInfo, FaissBackupOptions, FaissDirectoryEntry, FaissInspection, FaissProbes } from './types';

/** Options only a directory backup sets for its files. */
interface FileBackupOptions extends FaissBackupOptions, StreamOptions {
  /**
   * Back up a file whose type code is unknown as opaque bytes (size and
   * sha256, with a warning) instead of refusing it: inside a folder, one
   * file of a type Lifeboat does not know must not fail the whole backup.
   */
  opaqueUnknown?: boolean;
}

/** Files Lifeboat itself leaves beside a target during a restore (temp, kept previous, journal). */
export const LIFEBOAT_FILE_MARK = '.lifeboat-';
export const DEFAULT_EXTENSIONS: readonly string[] = ['.index', '.faiss'];

export type FaissBackup =
  | { kind: 'file'; path: string; backup: BackupStream<FaissBackupInfo> }
  | { kind: 'directory'; path: string; files: AsyncGenerator<FaissDirectoryEntry<BackupStream<FaissBackupInfo>>> };

/**
 * Backs up one index file, or every index file under a directory.
 * Bad input (missing path, corrupted file) throws before any byte is streamed.
 */
export async function backupFaiss(
  source: { path: string },
  opts: FaissBackupOptions & StreamOptions = {},
): Promise<FaissBackup> {
  const st = await statOrNotFound(source.path);
  if (st.isDirectory()) return { kind: 'directory', path: source.path, files: backupFaissDirectory(source.path, opts) };
  return { kind: 'file', path: source.path, backup: await backupFaissFile(source.path, opts) };
}

/**
 * One index file as a BackupStream of its raw bytes (streamed in 1 MiB
 * reads, never loaded). Before returning it checks the header and the
 * whole layout (FaissCorruptFileError); while the bytes flow, the probe
 * queries run in a child process. `done` resolves with size, sha256, header,
 * structure, probes, mtime and mode once the stream ended and the probes
 * finished. The file must not change meanwhile (FaissFileChangedError,
 * retryable); a failed probe also fails the stream, so a caller never
 * stores a backup that `done` would reject.
 */
export async function backupFaissFile(
  file: string,
  opts: FileBackupOptions = {},
): Promise<BackupStream<FaissBackupInfo>> {
  const { signal, onProgress } = opts;
  if (signal?.aborted) throw new FaissCancelledError(file, { cause: signal.reason });
  const fh = await openIndexFile(file);
  let before: Stats;
  let inspection: FaissInspection;
  try {
    before = await fh.stat();
    inspection = await inspectOpenFile(fh, file).catch(async (e: unknown) => {
      // Only the file's own (outermost) type code unknown: a known type with damage inside is still refused.
      if (!opts.opaqueUnknown || !(e instanceof FaissCorruptFileError) || e.kind !== 'unknown-type' || e.offset !== 0)
        throw e;
      const first = Buffer.alloc(4);
      await fh.read(first, 0, 4, 0);
      const warning = `${file}: type code ${JSON.stringify(first.toString('latin1'))} (bytes ${first.toString('hex')}) is not a FAISS index type Lifeboat knows; backed up as opaque bytes (size and sha256 checked, no header, layout or probe checks)`;
      return {
        header: opaqueHeader(first, warning),
        size: before.size,
        structure: { checked: false, chain: [], uncheckedReason: warning },
      };
    });
  } catch (e) {
    await fh.close();
    throw e;
  }
  const { header, structure, size } = inspection;
  const probeSkip = header.opaque
    ? 'opaque file of unknown type: not loaded'
    : header.binary
      ? BINARY_PROBE_SKIP
      : undefined;

  const hasher = new HashingTransform((bytes) => onProgress?.({ bytes, totalBytes: size, totalItems: header.ntotal }));
  const source = fh.createReadStream({ start: 0, highWaterMark: READ_CHUNK, autoClose: true });
  source.on('error', (e) => hasher.destroy(e));
  // However the consumer stops (end, error, cancel), the file handle is released.
  hasher.once('close', () => source.destroy());
  source.pipe(hasher);

  const onAbort = () => {
    const err = new FaissCancelledError(file, { cause: signal?.reason });
    source.destroy();
    hasher.destroy(err);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const streamed = new Promise<void>((resolve, reject) => {
    hasher.once('end', resolve);
    hasher.once('error', reject);
    hasher.once('close', () => {
      if (!hasher.readableEnded) reject(hasher.errored ?? new FaissCancelledError(file));
    });
  });
  const alive = () => onProgress?.({ bytes: hasher.bytes, totalBytes: size, totalItems: header.ntotal });
  const probing: Promise<FaissProbes> = probeSkip
    ? Promise.resolve({ status: 'skipped', reason: probeSkip })
    : runFaissProbes(file, { ...opts, size, signal, onAlive: alive });
  const probes = probing.catch((e: unknown) => {
    // Fail the stream too, so the caller's upload stops instead of committing a backup without its facts.
    if (!hasher.destroyed) hasher.destroy(e as Error);
    throw e;
  });

  const done = (async (): Promise<FaissBackupInfo> => {
    try {
      const [, p] = await Promise.all([streamed, probes]);
      checkProbesAgainstHeader(file, p, header.d, header.ntotal);
      if (hasher.bytes !== size) throw new FaissFileChangedError(file, `${hasher.bytes} bytes read, ${size} expected`);
      const after = await stat(file).catch(() => undefined);
      if (!after || after.ino !== before.ino || after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
        throw new FaissFileChangedError(
          file,
          after ? 'its size, modification time or inode changed' : 'it was deleted',
        );
      }
      onProgress?.({ bytes: size, totalBytes: size, items: header.ntotal, totalItems: header.ntotal });
      return {
        size,
        sha256: hasher.digest(),
        header,
        structure,
        probes: p,
        mtime: before.mtime.toISOString(),
        mode: before.mode & 0o7777,
        uid: before.uid,
        gid: before.gid,
        ...(header.opaque ? { warning: header.opaque.warning } : {}),
      };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  })();
  // The caller usually awaits `done` only after draining the stream; until then a rejection must not count as unhandled.
  done.catch(() => undefined);
  return { stream: hasher, done };
}

/** The index itself must agree with its header: faiss's view after loading vs. the bytes Lifeboat parsed. */
export function checkProbesAgainstHeader(file: string, p: FaissProbes, d: number, ntotal: number): void {
  if (p.status !== 'ok') return;
  if (p.d !== d || p.ntotal !== ntotal) {
    throw new FaissCorruptFileError(
      file,
      'inconsistent',
      `faiss loads it as d=${p.d}, ntotal=${p.ntotal} but its header says d=${d}, ntotal=${ntotal}`,
    );
  }
}

/**
 * Index files under `dir` (recursively), as sorted "/"-separated relative
 * paths: regular files whose name ends with one of `extensions`
 * (default .index, .faiss). Symlinks and Lifeboat's own `.lifeboat-` files
 * are skipped. A folder with none is an error: a misconfigured path would
 * otherwise back up nothing, silently.
 */
export async function listFaissFiles(
  dir: string,
  opts: Pick<FaissBackupOptions, 'extensions' | 'include' | 'exclude'> = {},
): Promise<string[]> {
  const exts = opts.extensions ?? DEFAULT_EXTENSIONS;
  const include = opts.include?.length ? globMatcher(opts.include) : undefined;
  const exclude = opts.exclude?.length ? globMatcher(opts.exclude) : undefined;
  const wanted = (r: string, name: string) =>
    (include ? include(r) : exts.some((x) => name.endsWith(x))) && !exclude?.(r);
  const st = await statOrNotFound(dir);
  if (!st.isDirectory()) throw new FaissInvalidPathError(dir, 'is not a directory');
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.includes(LIFEBOAT_FILE_MARK)) continue;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && wanted(r, e.name)) out.push(r);
    }
  };
  await walk('');
  if (out.length === 0) {
    const which = include ? `matching include ${opts.include!.join(', ')}` : `names ending with ${exts.join(', ')}`;
    throw new FaissInvalidPathError(
      dir,
      `holds no index files (${which}${exclude ? `, minus exclude ${opts.exclude!.join(', ')}` : ''}); set include (globs such as "**/*.bin") in the source config if yours are named otherwise`,
    );
  }
  return out.sort();
}

/**
 * One BackupStream per index file under `dir`, opened lazily: drain each
 * entry's stream (and await its `done`) before asking for the next.
 */
export async function* backupFaissDirectory(
  dir: string,
  opts: FaissBackupOptions & StreamOptions = {},
): AsyncGenerator<FaissDirectoryEntry<BackupStream<FaissBackupInfo>>> {
  for (const relativePath of await listFaissFiles(dir, opts)) {
    yield {
      relativePath,
      backup: await backupFaissFile(path.join(dir, ...relativePath.split('/')), { ...opts, opaqueUnknown: true }),
    };
  }
}

async function statOrNotFound(p: string): Promise<Stats> {
  try {
    return await stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FaissFileNotFoundError(p, { cause: e });
    throw e;
  }
}
