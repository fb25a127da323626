import { randomBytes } from 'node:crypto';
import { constants as fsc, type Stats } from 'node:fs';
import { access, copyFile, link, lstat, open, rename, rm, stat, statfs } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StreamOptions } from '../types';
import { checkProbesAgainstHeader } from './backup';
import { compareProbes, DEFAULT_PROBE_EPSILON } from './compare';
import {
  FaissCancelledError,
  FaissCorruptFileError,
  FaissDimensionMismatchError,
  FaissIntegrityError,
  FaissInvalidArgumentError,
  FaissProbeMismatchError,
  FaissRestorePendingError,
  FaissTargetError,
} from './errors';
import { BINARY_PROBE_SKIP } from './fourcc';
import { HashingTransform } from './hashing';
import { headerDifferences, readFaissHeader } from './header';
import {
  checkRestoreId,
  fsyncDir,
  inoOf,
  isSwapped,
  listPendingFaissRestores,
  readJournal,
  removeJournal,
  restorePaths,
  writeJournal,
  type JournalResult,
  type RestorePaths,
  type StoredJournal,
} from './journal';
import { probeOptions, runFaissProbes } from './probe-runner';
import { confirmFaissRestore, discardUnswapped, rollbackFaissRestore } from './restore-finish';
import { inspectFaissFile } from './structure';
import type { FaissExpected, FaissProbes, FaissRestoreHandle, FaissRestoreOptions } from './types';

/**
 * Restores one index file from `stream` (bytes read back from the
 * repository) to `opts.targetPath`:
 *
 * 1. pre-flight: target folder exists and is writable, enough free space, no
 *    other unfinished restore there, optional dimension check;
 * 2. stream into `.<name>.lifeboat-tmp-<id>` beside the target, fsync;
 * 3. size, sha256 and header must equal `expected`; the layout is walked;
 * 4. faiss loads it in a child process and runs the probe queries, compared
 *    with `expected.probes` when given;
 * 5. journal written, the previous file kept as `<name>.lifeboat-prev-<id>`
 *    (a hard link: the target never disappears), the temp file renamed over
 *    the target, folder fsynced.
 *
 * Any failure or cancellation before step 5 removes the temp file and
 * leaves the target as it was. The returned handle's confirm()/rollback()
 * (or confirmFaissRestore / rollbackFaissRestore from another process)
 * finish the restore.
 */
export async function restoreFaiss(
  stream: Readable | AsyncIterable<Uint8Array>,
  opts: FaissRestoreOptions,
  streamOpts: StreamOptions = {},
): Promise<FaissRestoreHandle> {
  const { signal, onProgress } = streamOpts;
  // Whenever the restore stops before reading the stream, release it (e.g. the repository download).
  const drop = () => {
    if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
  };
  try {
    validate(opts);
    probeOptions(opts);
  } catch (e) {
    drop();
    throw e;
  }
  const restoreId = opts.restoreId ?? `${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
  const p = restorePaths(opts.targetPath, restoreId);

  // A retry of the same restore after a crash: finish from what is on disk.
  const previous = await readJournal(p);
  if (previous) {
    if (await isSwapped(previous)) {
      drop();
      return handleFrom(p, previous);
    }
    await discardUnswapped(p, previous);
  }
  const others = (await listPendingFaissRestores(p.target)).filter((id) => id !== restoreId);
  if (others.length) {
    drop();
    throw new FaissRestorePendingError(p.target, others[0]);
  }

  let existing: Stats | undefined;
  try {
    existing = await preflight(p, opts);
  } catch (e) {
    drop();
    throw e;
  }
  const mode = opts.expected.mode ?? (existing ? existing.mode & 0o7777 : 0o600);

  let createdPrev = false;
  let swapped = false;
  const journal: StoredJournal = {
    version: 1,
    restoreId,
    targetPath: p.target,
    tmpPath: p.tmp,
    prevPath: existing ? p.prev : null,
    state: 'writing',
    sha256: opts.expected.sha256,
    size: opts.expected.size,
    createdAt: new Date().toISOString(),
  };
  try {
    // Journal first: a worker killed mid-write leaves a record of its temp file, not an orphan.
    await writeJournal(p, journal);
    await rm(p.tmp, { force: true });
    const ownerNotSet = await writeTemp(stream, p, opts.expected, mode, signal, onProgress);
    const result = await verifyTemp(p, opts, signal, () =>
      onProgress?.({
        bytes: opts.expected.size,
        totalBytes: opts.expected.size,
        totalItems: opts.expected.header.ntotal,
      }),
    );
    if (signal?.aborted) throw new FaissCancelledError(p.target, { cause: signal.reason });
    if (ownerNotSet) result.ownerNotSet = ownerNotSet;

    journal.state = 'prepared';
    journal.result = result;
    await writeJournal(p, journal);
    if (existing) {
      createdPrev = true;
      await keepPrevious(p);
      result.prevIno = await inoOf(p.prev);
    }
    await rename(p.tmp, p.target);
    swapped = true;
    // From here the restore is done; durability steps must not turn it into a reported failure.
    await fsyncDir(p.dir).catch(() => undefined);
    const restoredIno = await inoOf(p.target).catch(() => undefined);
    const final: StoredJournal = { ...journal, state: 'swapped', restoredIno, result };
    await writeJournal(p, final).catch(() => undefined);
    return handleFrom(p, final);
  } catch (e) {
    drop();
    if (!swapped) {
      await rm(p.tmp, { force: true }).catch(() => undefined);
      if (createdPrev) await rm(p.prev, { force: true }).catch(() => undefined);
      await removeJournal(p).catch(() => undefined);
    }
    if (signal?.aborted && !(e instanceof FaissCancelledError))
      throw new FaissCancelledError(p.target, { cause: signal.reason });
    throw e;
  }
}

function validate(opts: FaissRestoreOptions): void {
  if (!opts || typeof opts.targetPath !== 'string' || opts.targetPath === '')
    throw new FaissInvalidArgumentError('targetPath', 'a file path is required');
  if (opts.restoreId !== undefined) checkRestoreId(opts.restoreId);
  const x = opts.expected as FaissExpected | undefined;
  if (!x || !Number.isSafeInteger(x.size) || x.size < 0)
    throw new FaissInvalidArgumentError('expected.size', 'a byte count from the backup is required');
  if (typeof x.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(x.sha256))
    throw new FaissInvalidArgumentError('expected.sha256', 'a hex sha256 from the backup is required');
  if (!x.header || typeof x.header.fourcc !== 'string' || !Number.isInteger(x.header.d))
    throw new FaissInvalidArgumentError('expected.header', 'the header recorded at backup is required');
}

/** Returns the current target's stats when a file is there. */
async function preflight(p: RestorePaths, opts: FaissRestoreOptions): Promise<Stats | undefined> {
  let dirStat: Stats;
  try {
    dirStat = await stat(p.dir);
  } catch (e) {
    throw new FaissTargetError(p.target, `its folder ${p.dir} does not exist; create it first`, { cause: e });
  }
  if (!dirStat.isDirectory()) throw new FaissTargetError(p.target, `${p.dir} is not a folder`);
  try {
    await access(p.dir, fsc.W_OK | fsc.X_OK);
  } catch (e) {
    throw new FaissTargetError(p.target, `the Lifeboat worker cannot write to ${p.dir}`, { cause: e });
  }
  let existing: Stats | undefined;
  try {
    existing = await lstat(p.target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (existing && !existing.isFile())
    throw new FaissTargetError(
      p.target,
      'exists and is not a regular file (folder or symlink); Lifeboat replaces regular files only',
    );
  if (existing && opts.enforceDimension) {
    let current;
    try {
      current = await readFaissHeader(p.target);
    } catch (e) {
      // A damaged current index has no trustworthy dimension; replacing it is what the restore is for.
      if (!(e instanceof FaissCorruptFileError)) throw e;
    }
    if (current && current.d !== opts.expected.header.d)
      throw new FaissDimensionMismatchError(p.target, opts.expected.header.d, current.d);
  }
  const fs = await statfs(p.dir);
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (free < opts.expected.size) {
    throw new FaissTargetError(p.target, `needs ${opts.expected.size} bytes but only ${free} are free in ${p.dir}`);
  }
  return existing;
}

async function writeTemp(
  stream: Readable | AsyncIterable<Uint8Array>,
  p: RestorePaths,
  expected: FaissExpected,
  mode: number,
  signal: AbortSignal | undefined,
  onProgress: StreamOptions['onProgress'],
): Promise<string | undefined> {
  let ownerNotSet: string | undefined;
  const hasher = new HashingTransform(
    (bytes) => onProgress?.({ bytes, totalBytes: expected.size, totalItems: expected.header.ntotal }),
    {
      bytes: expected.size,
      error: () => new FaissIntegrityError(p.target, 'size', expected.size, `more than ${expected.size} bytes`),
    },
  );
  const fh = await open(p.tmp, 'wx', 0o600);
  try {
    // Written through the handle directly: a FileHandle stream with autoClose off keeps the handle referenced and close() would never settle.
    await pipeline(
      stream,
      hasher,
      async (src: AsyncIterable<Buffer>) => {
        for await (const chunk of src) {
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        }
      },
      { signal },
    );
    await fh.chmod(mode);
    ownerNotSet = await giveOwner(fh, expected, p.target);
    await fh.sync();
  } catch (e) {
    if (signal?.aborted) throw new FaissCancelledError(p.target, { cause: signal.reason });
    throw e;
  } finally {
    await fh.close();
  }
  if (hasher.bytes !== expected.size) throw new FaissIntegrityError(p.target, 'size', expected.size, hasher.bytes);
  const sha256 = hasher.digest();
  if (sha256 !== expected.sha256) throw new FaissIntegrityError(p.target, 'sha256', expected.sha256, sha256);
  return ownerNotSet;
}

/**
 * Gives the temp file the backed-up owner. Only root may chown to another
 * user, so elsewhere the file keeps the worker's owner and the reason is
 * returned, for the restore to report (the mode is always given back).
 */
async function giveOwner(
  fh: Awaited<ReturnType<typeof open>>,
  expected: FaissExpected,
  target: string,
): Promise<string | undefined> {
  if (expected.uid === undefined || expected.gid === undefined) return undefined;
  const st = await fh.stat();
  if (st.uid === expected.uid && st.gid === expected.gid) return undefined;
  if (process.getuid?.() === 0) {
    await fh.chown(expected.uid, expected.gid);
    return undefined;
  }
  try {
    // A non-root owner may still hand the file to one of its own groups.
    if (st.uid === expected.uid) {
      await fh.chown(expected.uid, expected.gid);
      return undefined;
    }
  } catch {
    // fall through to the report
  }
  return `${target} was owned by uid ${expected.uid} gid ${expected.gid} at backup; the worker (uid ${process.getuid?.()}) is not root and cannot chown, so it is owned by uid ${st.uid} gid ${st.gid}: chown it by hand or run the worker as root`;
}

/** The written temp file must be the backed-up index, structurally sound, and loadable by faiss with the same answers. */
async function verifyTemp(
  p: RestorePaths,
  opts: FaissRestoreOptions,
  signal: AbortSignal | undefined,
  onAlive: () => void,
): Promise<JournalResult> {
  const x = opts.expected;
  if (x.header.opaque) {
    // An opaque file (unknown type) is only what size and sha256 (checked while writing) say it is.
    return {
      size: x.size,
      sha256: x.sha256,
      header: x.header,
      structure: { checked: false, chain: [], uncheckedReason: x.header.opaque.warning },
      probes: { status: 'skipped', reason: 'opaque file of unknown type: not loaded' },
    };
  }
  let inspection;
  try {
    inspection = await inspectFaissFile(p.tmp);
  } catch (e) {
    // Report the target the user asked for, not our temp name.
    if (e instanceof FaissCorruptFileError)
      throw new FaissCorruptFileError(`${p.target} (restored copy)`, e.kind, e.detail, e.offset);
    throw e;
  }
  const diffs = headerDifferences(x.header, inspection.header);
  if (diffs.length) throw new FaissIntegrityError(p.target, 'header', x.header, inspection.header);
  const probes: FaissProbes = inspection.header.binary
    ? { status: 'skipped', reason: BINARY_PROBE_SKIP }
    : await runFaissProbes(p.tmp, { ...opts, size: inspection.size, signal, onAlive });
  checkProbesAgainstHeader(p.target, probes, inspection.header.d, inspection.header.ntotal);
  const probeComparison = x.probes
    ? compareProbes(x.probes, probes, opts.probeEpsilon ?? DEFAULT_PROBE_EPSILON)
    : undefined;
  if (probeComparison && !probeComparison.equal)
    throw new FaissProbeMismatchError(p.target, probeComparison.differences);
  return {
    size: inspection.size,
    sha256: x.sha256,
    header: inspection.header,
    structure: inspection.structure,
    probes,
    ...(probeComparison ? { probeComparison } : {}),
  };
}

/** Keeps the current target as the "previous" file without a moment where the target is missing. */
async function keepPrevious(p: RestorePaths): Promise<void> {
  await rm(p.prev, { force: true });
  try {
    await link(p.target, p.prev);
  } catch {
    // Some filesystems have no hard links: a copy keeps the same guarantee, at the cost of the space.
    await copyFile(p.target, p.prev, fsc.COPYFILE_EXCL);
    const fh = await open(p.prev, 'r');
    await fh.sync().finally(() => fh.close());
  }
}

function handleFrom(p: RestorePaths, j: StoredJournal): FaissRestoreHandle {
  const r = j.result;
  if (!r) throw new Error(`restore journal ${p.journal} has no result in state ${j.state}`);
  return {
    restoreId: j.restoreId,
    targetPath: p.target,
    previousPath: j.prevPath,
    size: r.size,
    sha256: r.sha256,
    header: r.header,
    structure: r.structure,
    probes: r.probes,
    ...(r.probeComparison ? { probeComparison: r.probeComparison } : {}),
    ...(r.ownerNotSet ? { ownerNotSet: r.ownerNotSet } : {}),
    confirm: () => confirmFaissRestore(p.target, j.restoreId),
    rollback: () => rollbackFaissRestore(p.target, j.restoreId),
  };
}
