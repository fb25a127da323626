import { Readable } from 'node:stream';
import type { FilesSourceConfig } from '../config';
import type { RestoreTargetOverride } from '../lib/domain';
import type { Repository } from '../repository';
import type { SourceFingerprint } from '../sources/types';
import {
  backupFiles,
  liveFiles,
  compareFiles,
  confirmFilesRestore,
  filesConflicts,
  filesFingerprint,
  FilesBadBackupError,
  restoreFiles,
  rollbackFilesRestore,
  type FilesManifest,
  type FilesSelection,
} from '../sources/files';
import type { StoreBackup, StoreContext, StoreHandler } from './store';
import type { ArtifactHandle } from './types';

/** Files need nothing from restore to verify or roll back: the journal in the scratch folder knows. */
export type FilesRestoreCheck = Record<string, never>;

export const FILES_CONTENT_KIND = 'files-content';
export const FILES_MANIFEST_KIND = 'files-manifest';

const targetRoot = (s: FilesSourceConfig, o?: RestoreTargetOverride) => o?.path ?? s.root;
/** The source's selection, rebased onto another folder for a restore elsewhere (its safety backup). */
export const selectionOf = (s: FilesSourceConfig, o?: RestoreTargetOverride): FilesSelection => ({
  root: targetRoot(s, o),
  include: s.include,
  exclude: s.exclude,
});

/** Backs up a selection as two artifacts: the concatenated contents, then the manifest describing them. */
export async function backupSelection(source: string, sel: FilesSelection, ctx: StoreContext): Promise<StoreBackup> {
  const b = await backupFiles(sel, { signal: ctx.hb.signal, onProgress: ctx.hb.onProgress });
  const opts = { signal: ctx.hb.signal, authenticateReused: ctx.authenticateReused };
  const c = await ctx.repo.writeArtifact(b.content, { source, kind: FILES_CONTENT_KIND, name: 'content' }, opts);
  const manifest = b.manifest();
  const m = await ctx.repo.writeArtifact(
    Readable.from([Buffer.from(JSON.stringify(manifest))]),
    { source, kind: FILES_MANIFEST_KIND, name: 'manifest' },
    opts,
  );
  const files = manifest.entries.filter((e) => e.type === 'file').length;
  // Counts and a digest only: names and attributes stay in the encrypted manifest artifact.
  const fingerprint = filesFingerprint(manifest.entries);
  const { written: cw, ...content } = c;
  const { written: mw, ...man } = m;
  return {
    artifacts: [
      { ...content, metadata: { newBytes: cw.newBytes } },
      {
        ...man,
        metadata: {
          newBytes: mw.newBytes,
          files: { entries: manifest.entries.length, files, missing: manifest.missing.length, fingerprint },
        },
      },
    ],
    items: manifest.entries.length,
  };
}

/** The manifest and content artifacts of a source in a point, or a clear error. */
export function filesArtifacts(artifacts: ArtifactHandle[]): { manifest: ArtifactHandle; content: ArtifactHandle } {
  const manifest = artifacts.find((a) => a.kind === FILES_MANIFEST_KIND);
  const content = artifacts.find((a) => a.kind === FILES_CONTENT_KIND);
  if (!manifest || !content)
    throw new FilesBadBackupError(
      `the recovery point holds no files backup for this source (artifacts: ${artifacts.map((a) => a.kind).join(', ') || 'none'})`,
    );
  return { manifest, content };
}

/** Reads a manifest artifact (small: names and attributes, no contents). */
export async function readManifest(repo: Repository, a: ArtifactHandle, signal?: AbortSignal): Promise<FilesManifest> {
  const parts: Buffer[] = [];
  for await (const b of repo.readArtifact(a, { signal })) parts.push(b);
  let m: FilesManifest;
  try {
    m = JSON.parse(Buffer.concat(parts).toString('utf8')) as FilesManifest;
  } catch (e) {
    throw new FilesBadBackupError(`manifest artifact ${a.indexId} is not JSON: ${(e as Error).message}`);
  }
  if (m.version !== 1 || !Array.isArray(m.entries))
    throw new FilesBadBackupError(`manifest artifact ${a.indexId} has version ${String(m.version)}; expected 1`);
  return m;
}

/** Configuration files on the worker's disk (docs/operations.md, "Configuration files"). */
export const filesHandler: StoreHandler<FilesSourceConfig, FilesRestoreCheck> = {
  type: 'files',
  defaultRestoreOrder: 5,

  describeTarget: (s, o) => `files ${targetRoot(s, o)}`,
  readCheck: () => undefined,

  backup: (s, ctx) => backupSelection(s.name, selectionOf(s), ctx),

  async preflight(s, o, artifacts, ctx) {
    let a: ReturnType<typeof filesArtifacts>;
    try {
      a = filesArtifacts(artifacts);
    } catch (e) {
      return [(e as Error).message];
    }
    return filesConflicts(await readManifest(ctx.repo, a.manifest), targetRoot(s, o));
  },

  safetyBackup: (s, o, ctx) => backupSelection(s.name, selectionOf(s, o), ctx),

  async restore(s, o, artifacts, restoreId, ctx) {
    const a = filesArtifacts(artifacts);
    const manifest = await readManifest(ctx.repo, a.manifest, ctx.hb.signal);
    return restoreFiles(manifest, ctx.repo.readArtifact(a.content, { signal: ctx.hb.signal }), {
      targetRoot: targetRoot(s, o),
      restoreId,
      journalDir: ctx.scratchDir,
      key: s.name,
      signal: ctx.hb.signal,
      onProgress: ctx.hb.onProgress,
    });
  },

  async verify(s, o, artifacts, _check, ctx) {
    const a = filesArtifacts(artifacts);
    const manifest = await readManifest(ctx.repo, a.manifest, ctx.hb.signal);
    const { mismatches, notes } = await compareFiles(manifest, targetRoot(s, o), ctx.hb.signal);
    return mismatches.length
      ? { ok: false, detail: mismatches.slice(0, 20).join('; ') }
      : {
          ok: true,
          detail:
            `${manifest.entries.length} entries: bytes, types, modes, mtimes and link targets match` +
            (notes.length ? `; notes: ${notes.slice(0, 10).join('; ')}` : ''),
        };
  },

  confirm: (s, _o, _a, restoreId, ctx) => confirmFilesRestore(ctx.scratchDir, restoreId, s.name),

  compensate: (s, _o, _a, restoreId, _safety, _check, ctx) => rollbackFilesRestore(ctx.scratchDir, restoreId, s.name),
};

/** The fingerprint a files backup recorded (DR and drills compare a live folder with it). */
export function filesRecordedFingerprint(artifacts: ArtifactHandle[]): SourceFingerprint {
  const m = artifacts.find((a) => a.kind === FILES_MANIFEST_KIND);
  const fp = (m?.metadata?.files as { fingerprint?: SourceFingerprint } | undefined)?.fingerprint;
  return fp ?? { counts: {}, digests: {} };
}

/** The live fingerprint of a files source's folder (or of the folder a restore elsewhere wrote). */
export async function liveFilesFingerprint(
  s: FilesSourceConfig,
  o?: RestoreTargetOverride,
  signal?: AbortSignal,
): Promise<SourceFingerprint> {
  return filesFingerprint(await liveFiles(selectionOf(s, o), signal));
}
