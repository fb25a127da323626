import { mkdir, stat } from 'node:fs/promises';
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
  type FaissBackupInfo,
  type FaissProbeOptions,
} from '../sources/faiss';
import type { RestoreTargetOverride } from '../lib/domain';
import { storeStream, type StoreBackup, type StoreContext, type StoreHandler } from './store';
import type { ArtifactHandle } from './types';

const KIND = 'faiss-index';

/** Probing off (`probe: false`, queries 0) is expressed to the adapter as a size limit nothing fits under. */
const probeOptions = (s: FaissSourceConfig): FaissProbeOptions =>
  s.probe.queries > 0
    ? { maxProbeBytes: s.probe.maxBytes, probeQueries: s.probe.queries, probeK: s.probe.k }
    : { maxProbeBytes: 0 };
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
  const meta = (info: FaissBackupInfo, relativePath: string) => ({ faiss: info, relativePath });
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

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** FAISS index files on the worker's disk: a file, or a folder of them. */
export const faissHandler: StoreHandler<FaissSourceConfig> = {
  type: 'faiss',
  defaultRestoreOrder: 20,

  describeTarget: (s, o) => targetRoot(s, o),

  backup: (s, ctx) => backupPath(s.name, s.path, probeOptions(s), ctx),

  async preflight(s, o, artifacts) {
    const root = targetRoot(s, o);
    const problems: string[] = [];
    if (!artifacts.length) return [`the recovery point holds no index file for this source`];
    const single = artifacts.length === 1 && relOf(artifacts[0]) === SINGLE_FILE_KEY;
    const folder = single ? path.dirname(root) : root;
    if (!(await exists(folder))) problems.push(`target folder ${folder} does not exist`);
    // Vectors of another dimension would break the application reading the index.
    for (const a of artifacts) {
      const file = fileTarget(root, a);
      if (!(await exists(file))) continue;
      const current = await readFaissHeader(file).catch(() => undefined);
      const d = infoOf(a).header.d;
      if (current && current.d !== d)
        problems.push(`dimension mismatch at ${file}: the backup has d=${d}, the current index has d=${current.d}`);
    }
    return problems;
  },

  async safetyBackup(s, o, ctx) {
    const root = targetRoot(s, o);
    if (!(await exists(root))) return { artifacts: [], items: 0 };
    // The state being saved only needs its bytes; probes would only slow the rollback point down.
    return backupPath(s.name, root, { maxProbeBytes: 0 }, ctx);
  },

  async restore(s, o, artifacts, restoreId, ctx) {
    const root = targetRoot(s, o);
    let items = 0;
    let bytes = 0;
    for (const a of artifacts) {
      const info = infoOf(a);
      const file = fileTarget(root, a);
      await mkdir(path.dirname(file), { recursive: true });
      await restoreFaiss(
        ctx.repo.readArtifact(a, { signal: ctx.hb.signal }),
        {
          targetPath: file,
          restoreId,
          expected: { size: info.size, sha256: info.sha256, header: info.header, probes: info.probes, mode: info.mode },
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
    for (const a of artifacts) {
      const file = fileTarget(root, a);
      const want = faissFingerprintFromBackup(infoOf(a));
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
      : { ok: true, detail: `${artifacts.length} index file(s): sha256, header and probe queries match` };
  },

  async confirm(s, o, artifacts, restoreId) {
    const root = targetRoot(s, o);
    for (const a of artifacts) await confirmFaissRestore(fileTarget(root, a), restoreId);
  },

  async compensate(s, o, artifacts, restoreId) {
    // The previous file of each swapped index was kept beside it: put it back.
    const root = targetRoot(s, o);
    for (const a of artifacts.slice().reverse()) await rollbackFaissRestore(fileTarget(root, a), restoreId);
  },
};
