import type { Repository, RecoveryPoint } from '../repository';
import type { RestoreTargetOverride } from '../lib/domain';
import type { Heartbeat } from './heartbeat';
import type { ArtifactHandle, SourceType } from './types';

/** What a store handler gets besides its source config. */
export interface StoreContext {
  repo: Repository;
  hb: Heartbeat;
  /** Folder for temp files of this worker. */
  scratchDir: string;
  /** Safety backups: authenticate (and repair) every chunk a write deduplicates against. See WriteOptions. */
  authenticateReused?: boolean;
}

export interface StoreBackup {
  artifacts: ArtifactHandle[];
  items: number;
}

/**
 * One implementation per store type (activities/redis.ts, faiss.ts,
 * qdrant.ts). The generic activities in activities/index.ts do the
 * bookkeeping (plans, recovery points, heartbeats, failures) and call these.
 * Every method must be idempotent: Temporal retries it after a crash.
 */
export interface StoreHandler<S> {
  readonly type: SourceType;
  /** Restores before higher numbers (metadata before vectors). */
  readonly defaultRestoreOrder: number;
  /** Printable target, e.g. redis://host:6379/0, /data/x.faiss, qdrant http://h:6333/docs. No credentials. */
  describeTarget(source: S, override?: RestoreTargetOverride): string;
  /** Streams the source into the repository. */
  backup(source: S, ctx: StoreContext): Promise<StoreBackup>;
  /** Problems that make a restore of `artifacts` into the target impossible (unreachable, dimension mismatch...). */
  preflight(
    source: S,
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    ctx: StoreContext,
  ): Promise<string[]>;
  /** Backs up the target's current state (empty list when the target does not exist yet). */
  safetyBackup(source: S, override: RestoreTargetOverride | undefined, ctx: StoreContext): Promise<StoreBackup>;
  /** Makes the target equal to `artifacts`. */
  restore(
    source: S,
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    restoreId: string,
    ctx: StoreContext,
  ): Promise<{ items: number; bytes: number; check?: Record<string, unknown> }>;
  /** Compares the target with what the artifacts recorded at backup (digests, counts, probes). */
  verify(
    source: S,
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    check: Record<string, unknown> | undefined,
    ctx: StoreContext,
  ): Promise<{ ok: boolean; detail: string }>;
  /** Drops what was kept for a rollback (previous files, old collections). */
  confirm(
    source: S,
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    restoreId: string,
    ctx: StoreContext,
  ): Promise<void>;
  /** Puts the target back as it was before `restore` (from kept state or the safety point's artifacts). */
  compensate(
    source: S,
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    restoreId: string,
    safety: ArtifactHandle[] | undefined,
    check: Record<string, unknown> | undefined,
    ctx: StoreContext,
  ): Promise<void>;
}

export function artifactsOf(rp: RecoveryPoint, source: string): ArtifactHandle[] {
  return rp.artifacts.filter((a) => a.source === source);
}

/**
 * Streams `stream` into the repository as one artifact and merges what the
 * adapter learnt (`done`) into its metadata. `newBytes` (deduplication
 * outcome) is kept in the metadata for the backup summary.
 */
export async function storeStream<I>(
  ctx: StoreContext,
  meta: { source: string; kind: string; name: string },
  backup: { stream: NodeJS.ReadableStream; done: Promise<I> },
  toMetadata: (info: I) => Record<string, unknown>,
  progress: { items?: number } = {},
): Promise<ArtifactHandle> {
  // Observe `done` at once: if the stream fails first, its rejection must not go unhandled.
  const done = backup.done.then(
    (info) => ({ ok: true as const, info }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const written = await ctx.repo.writeArtifact(backup.stream, meta, {
    signal: ctx.hb.signal,
    onProgress: (p) => ctx.hb.onProgress({ bytes: p.bytes, items: progress.items }),
    authenticateReused: ctx.authenticateReused,
  });
  const outcome = await done;
  if (!outcome.ok) throw outcome.error;
  const { written: w, ...ref } = written;
  return { ...ref, metadata: { ...toMetadata(outcome.info), newBytes: w.newBytes } };
}
