import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { StreamOptions } from '../types';
import { listFaissFiles } from './backup';
import { FaissCorruptFileError, FaissFileNotFoundError } from './errors';
import { hashFile } from './hashing';
import { readFaissHeader } from './header';
import type { FaissBackupInfo, FaissBackupOptions, FaissFileFingerprint, FaissFingerprint } from './types';

/** Key of a single file in a fingerprint; directories use relative paths. */
export const SINGLE_FILE_KEY = '.';

/**
 * Fingerprint of an index file or of every index file under a directory:
 * per file its size, sha256 (streamed), ntotal and d (from the header;
 * faiss is not loaded). Compare with faissFingerprintFromBackup to prove a
 * restore gave the backed-up bytes.
 */
export async function fingerprintFaiss(
  target: string,
  opts: Pick<FaissBackupOptions, 'extensions' | 'include' | 'exclude'> & Pick<StreamOptions, 'signal'> = {},
): Promise<FaissFingerprint> {
  let st;
  try {
    st = await stat(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FaissFileNotFoundError(target, { cause: e });
    throw e;
  }
  const files: Record<string, FaissFileFingerprint> = {};
  if (st.isDirectory()) {
    for (const rel of await listFaissFiles(target, opts))
      files[rel] = await fileFingerprint(path.join(target, ...rel.split('/')), opts.signal);
  } else {
    files[SINGLE_FILE_KEY] = await fileFingerprint(target, opts.signal);
  }
  return build(files);
}

/** The fingerprint a backup recorded: one info for a file, or (relativePath, info) pairs for a directory. */
export function faissFingerprintFromBackup(
  backup: FaissBackupInfo | { relativePath: string; info: FaissBackupInfo }[],
): FaissFingerprint {
  const files: Record<string, FaissFileFingerprint> = {};
  const one = (i: FaissBackupInfo): FaissFileFingerprint => ({
    size: i.size,
    sha256: i.sha256,
    ntotal: i.header.ntotal,
    d: i.header.d,
    fourcc: i.header.fourcc,
  });
  if (Array.isArray(backup)) for (const e of backup) files[e.relativePath] = one(e.info);
  else files[SINGLE_FILE_KEY] = one(backup);
  return build(files);
}

async function fileFingerprint(file: string, signal?: AbortSignal): Promise<FaissFileFingerprint> {
  // A file of unknown type (backed up as opaque bytes) is fingerprinted by its bytes alone.
  const header = await readFaissHeader(file).catch((e: unknown) => {
    if (e instanceof FaissCorruptFileError && e.kind === 'unknown-type' && e.offset === 0)
      return { ntotal: 0, d: 0, fourcc: '' };
    throw e;
  });
  const { size, sha256 } = await hashFile(file, signal);
  return { size, sha256, ntotal: header.ntotal, d: header.d, fourcc: header.fourcc };
}

function build(files: Record<string, FaissFileFingerprint>): FaissFingerprint {
  const counts: Record<string, number> = {};
  const digests: Record<string, string> = {};
  for (const [k, f] of Object.entries(files)) {
    counts[k] = f.ntotal;
    digests[k] = f.sha256;
  }
  return { counts, digests, files };
}
