import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FaissSourceConfig } from '../config';
import {
  backupFaiss,
  confirmFaissRestore,
  faissFingerprintFromBackup,
  fingerprintFaiss,
  readFaissHeader,
  restoreFaiss,
  rollbackFaissRestore,
  SINGLE_FILE_KEY,
  LIFEBOAT_FILE_MARK,
  type FaissBackupInfo,
  type FaissProbeOptions,
} from '../sources/faiss';
import type { RestoreTargetOverride } from '../lib/domain';
import { storeStream, type StoreBackup, type StoreContext, type StoreHandler } from './store';
import { FAISS_OPAQUE_KIND } from './faiss-put-back';

/** FAISS needs nothing from restore to verify or roll back: the journal beside each file knows. */
export type FaissRestoreCheck = Record<string, never>;
import type { ArtifactHandle } from './types';

const KIND = 'faiss-index';
/** A safety backup's byte-for-byte copy of whatever file sat in the target, checked or not. */
const OPAQUE_KIND = FAISS_OPAQUE_KIND;
const isOpaque = (a: ArtifactHandle) => a.kind === OPAQUE_KIND;

/** Probing off (`probe: false`, queries 0) is expressed to the adapter as a size limit nothing fits under. */
const probeOptions = (s: FaissSourceConfig): FaissProbeOptions =>
  s.probe.queries > 0
    ? { maxProbeBytes: s.probe.maxBytes, probeQueries: s.probe.queries, probeK: s.probe.k }
    : { maxProbeBytes: 0 };
/** The folder filters of a source (include/exclude globs), for listing, backup and fingerprints. */
const filterOptions = (s: FaissSourceConfig) => ({
  ...(s.include ? { include: [...s.include] } : {}),
  ...(s.exclude ? { exclude: [...s.exclude] } : {}),
});
const targetRoot = (s: FaissSourceConfig, o?: RestoreTargetOverride) => o?.path ?? s.path;
const infoOf = (a: ArtifactHandle) => a.metadata?.faiss as FaissBackupInfo;
const relOf = (a: ArtifactHandle) => String(a.metadata?.relativePath ?? SINGLE_FILE_KEY);
/** Where an artifact goes: the target itself for a single file, else below the target folder. */
const fileTarget = (root: string, a: ArtifactHandle) =>
  relOf(a) === SINGLE_FILE_KEY ? root : path.join(root, ...relOf(a).split('/'));

async function backupPath(
  source: string,
  root: string,
  opts: FaissProbeOptions,
  ctx: StoreContext,
): Promise<StoreBackup> {
  const b = await backupFaiss({ path: root }, { ...opts, signal: ctx.hb.signal, onProgress: ctx.hb.onProgress });
  // A file of unknown type carries its warning in the artifact's metadata, where list/inspect show it.
  const meta = (info: FaissBackupInfo, relativePath: string) => ({
    faiss: info,
    relativePath,
    ...(info.warning ? { warning: info.warning } : {}),
  });
  if (b.kind === 'file') {
    const a = await storeStream(ctx, { source, kind: KIND, name: path.basename(root) }, b.backup, (info) =>
      meta(info, SINGLE_FILE_KEY),
    );
    return { artifacts: [a], items: infoOf(a).header.ntotal };
  }
  const artifacts: ArtifactHandle[] = [];
  for await (const entry of b.files) {
    artifacts.push(
      await storeStream(ctx, { source, kind: KIND, name: entry.relativePath }, entry.backup, (info) =>
        meta(info, entry.relativePath),
      ),
    );
  }
  return { artifacts, items: artifacts.reduce((n, a) => n + infoOf(a).header.ntotal, 0) };
}

/**
 * Every regular file of the target (Lifeboat's own temp/kept files aside), as
 * paths relative to `root`; a file target is itself. Absent: nothing.
 */
async function targetFiles(root: string): Promise<string[]> {
  const st = await stat(root).catch(() => undefined);
  if (!st) return [];
  if (st.isFile()) return [SINGLE_FILE_KEY];
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.includes(LIFEBOAT_FILE_MARK)) continue;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * The target's current files as opaque bytes: a truncated, overwritten or
 * unknown file is saved as it is (damage included) instead of refusing, so a
 * damaged index never blocks its own repair. The rollback itself puts back
 * the kept previous file (inode for inode); this copy is the record of what
 * was there.
 */
async function opaqueSnapshot(source: string, root: string, ctx: StoreContext): Promise<StoreBackup> {
  const artifacts: ArtifactHandle[] = [];
  for (const rel of await targetFiles(root)) {
    const file = rel === SINGLE_FILE_KEY ? root : path.join(root, ...rel.split('/'));
    const st = await stat(file);
    const a = await ctx.repo.writeArtifact(
      createReadStream(file),
      { source, kind: OPAQUE_KIND, name: rel === SINGLE_FILE_KEY ? path.basename(root) : rel },
      { signal: ctx.hb.signal, authenticateReused: ctx.authenticateReused },
    );
    const { written, ...ref } = a;
    artifacts.push({
      ...ref,
      metadata: { relativePath: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, newBytes: written.newBytes },
    });
  }
  return { artifacts, items: 0 };
}

/** Where a restore notes the folders it created, so its rollback can remove them (worker-local, like the files). */
const createdDirsFile = (scratch: string, restoreId: string, source: string) =>
  path.join(scratch, `faiss-created-dirs-${restoreId}-${Buffer.from(source).toString('hex')}.json`);

async function readCreatedDirs(scratch: string, restoreId: string, source: string): Promise<string[]> {
  return readFile(createdDirsFile(scratch, restoreId, source), 'utf8').then(
    (t) => (JSON.parse(t) as unknown[]).filter((x): x is string => typeof x === 'string'),
    () => [],
  );
}

/** Records `first` (what mkdir -p created first) and every folder below it down to `leaf`. */
async function recordCreatedDirs(scratch: string, restoreId: string, source: string, first: string, leaf: string) {
  const dirs = new Set(await readCreatedDirs(scratch, restoreId, source));
  for (let d = leaf; d.length >= first.length; d = path.dirname(d)) {
    dirs.add(d);
    if (d === first) break;
  }
  await writeFile(createdDirsFile(scratch, restoreId, source), JSON.stringify([...dirs]), { mode: 0o600 });
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** FAISS index files on the worker's disk: a file, or a folder of them. */
export const faissHandler: StoreHandler<FaissSourceConfig, FaissRestoreCheck> = {
  type: 'faiss',
  defaultRestoreOrder: 20,

  describeTarget: (s, o) => targetRoot(s, o),
  readCheck: () => undefined,

  backup: (s, ctx) => backupPath(s.name, s.path, { ...probeOptions(s), ...filterOptions(s) }, ctx),

  async preflight(s, o, artifacts) {
    const root = targetRoot(s, o);
    const problems: string[] = [];
    if (!artifacts.length) return [`the recovery point holds no index file for this source`];
    const opaque = artifacts.filter(isOpaque);
    if (opaque.length)
      return [
        `${opaque.map((a) => a.name).join(', ')} in this point are byte copies a safety backup took of whatever was in the target (maybe damaged), not checked indexes; Lifeboat does not restore them: restore a regular recovery point (lifeboat list)`,
      ];
    // A missing folder is no problem: the restore creates it (total loss, or a new target).
    // Vectors of another dimension would break the application reading the index.
    for (const a of artifacts) {
      const file = fileTarget(root, a);
      if (!(await exists(file))) continue;
      // A damaged current file (truncated, random bytes) is what the restore repairs: no header, no check.
      const current = await readFaissHeader(file).catch(() => undefined);
      const d = infoOf(a).header.d;
      // An opaque file (unknown type) has no dimension to compare.
      if (infoOf(a).header.opaque) continue;
      if (current && current.d !== d)
        problems.push(`dimension mismatch at ${file}: the backup has d=${d}, the current index has d=${current.d}`);
    }
    return problems;
  },

  safetyBackup: (s, o, ctx) => opaqueSnapshot(s.name, targetRoot(s, o), ctx),

  async restore(s, o, artifacts, restoreId, ctx) {
    const root = targetRoot(s, o);
    let items = 0;
    let bytes = 0;
    for (const a of artifacts) {
      const info = infoOf(a);
      const file = fileTarget(root, a);
      const created = await mkdir(path.dirname(file), { recursive: true });
      if (created) await recordCreatedDirs(ctx.scratchDir, restoreId, s.name, created, path.dirname(file));
      await restoreFaiss(
        ctx.repo.readArtifact(a, { signal: ctx.hb.signal }),
        {
          targetPath: file,
          restoreId,
          expected: {
            size: info.size,
            sha256: info.sha256,
            header: info.header,
            probes: info.probes,
            mode: info.mode,
            ...(info.uid !== undefined && info.gid !== undefined ? { uid: info.uid, gid: info.gid } : {}),
          },
          ...probeOptions(s),
        },
        { signal: ctx.hb.signal, onProgress: (p) => ctx.hb.onProgress({ ...p, bytes: bytes + p.bytes }) },
      );
      items += info.header.ntotal;
      bytes += info.size;
    }
    return { items, bytes };
  },

  async verify(s, o, artifacts) {
    const root = targetRoot(s, o);
    const mismatches: string[] = [];
    const notes: string[] = [];
    for (const a of artifacts) {
      const file = fileTarget(root, a);
      const info = infoOf(a);
      const want = faissFingerprintFromBackup(info);
      const st = await stat(file).catch(() => undefined);
      if (st && (st.mode & 0o7777) !== info.mode)
        mismatches.push(`${file}: mode ${(st.mode & 0o7777).toString(8)}, expected ${info.mode.toString(8)}`);
      if (st && info.uid !== undefined && (st.uid !== info.uid || st.gid !== info.gid)) {
        // Only root can give a file to another user: report it, the bytes and mode are still right.
        const why = process.getuid?.() === 0 ? '' : ' (the worker is not root, so it cannot chown)';
        notes.push(`${file}: owner ${st.uid}:${st.gid}, was ${info.uid}:${info.gid} at backup${why}`);
      }
      if (info.warning) notes.push(`${file}: restored as opaque bytes (unknown index type, sha256 checked)`);
      const got = await fingerprintFaiss(file).catch((e: Error) => e);
      if (got instanceof Error) mismatches.push(`${file}: ${got.message}`);
      else if (
        got.digests[SINGLE_FILE_KEY] !== want.digests[SINGLE_FILE_KEY] ||
        got.counts[SINGLE_FILE_KEY] !== want.counts[SINGLE_FILE_KEY]
      ) {
        mismatches.push(
          `${file}: sha256 ${got.digests[SINGLE_FILE_KEY]} ntotal ${got.counts[SINGLE_FILE_KEY]}, expected ${want.digests[SINGLE_FILE_KEY]} ntotal ${want.counts[SINGLE_FILE_KEY]}`,
        );
      }
    }
    // Probe results were compared in the sandbox during restore, before the swap.
    return mismatches.length
      ? { ok: false, detail: mismatches.join('; ') }
      : {
          ok: true,
          detail:
            `${artifacts.length} index file(s): sha256, mode, header and probe queries match` +
            (notes.length ? `; notes: ${notes.join('; ')}` : ''),
        };
  },

  async confirm(s, o, artifacts, restoreId, ctx) {
    const root = targetRoot(s, o);
    for (const a of artifacts) await confirmFaissRestore(fileTarget(root, a), restoreId);
    await rm(createdDirsFile(ctx.scratchDir, restoreId, s.name), { force: true });
  },

  async compensate(s, o, artifacts, restoreId, _safety, _check, ctx) {
    // The previous file of each swapped index was kept beside it: put it back.
    const root = targetRoot(s, o);
    for (const a of artifacts.slice().reverse()) await rollbackFaissRestore(fileTarget(root, a), restoreId);
    // Folders the restore created (a new or wiped target) go again, deepest first, if empty.
    for (const d of (await readCreatedDirs(ctx.scratchDir, restoreId, s.name)).sort((a, b) => b.length - a.length))
      await rmdir(d).catch(() => undefined);
  },
};
