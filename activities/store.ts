import type { Repository, RecoveryPoint } from '../repository';
import type { RestoreTargetOverride } from '../lib/domain';
import type { Heartbeat } from './heartbeat';
import type { SourceConfig } from '../config';
import type { ArtifactHandle } from './types';

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
  /** Facts the backup summary must show (e.g. Redis keys of a type kept as raw DUMP payloads). */
  notes?: string[];
}

/**
 * What a restore step hands to its verify and compensate steps (through the
 * workflow, so it is plain JSON: counts, digests, names — small).
 */
export type RestoreCheck = Record<string, unknown>;

/**
 * One implementation per store type (activities/redis.ts, faiss.ts,
 * qdrant.ts), typed end to end by its source config `S` and its restore
 * check `C`. The generic activities in activities/index.ts do the
 * bookkeeping (plans, recovery points, heartbeats, failures) and call them
 * through bindStore(). Every method must be idempotent: Temporal retries it
 * after a crash.
 */
export interface StoreHandler<S extends SourceConfig, C extends RestoreCheck> {
  readonly type: S['type'];
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
  /** Backs up the target's current state, whatever it is (empty list when the target does not exist yet). */
  safetyBackup(source: S, override: RestoreTargetOverride | undefined, ctx: StoreContext): Promise<StoreBackup>;
  /** Makes the target equal to `artifacts`. */
  restore(
    source: S,
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    restoreId: string,
    ctx: StoreContext,
  ): Promise<{ items: number; bytes: number; check?: C }>;
  /**
   * Reads a check back after its trip through workflow history: `C` when
   * `raw` has its shape, else undefined (treated as "restore did not finish").
   */
  readCheck(raw: unknown): C | undefined;
  /** Compares the target with what the artifacts recorded at backup (digests, counts, probes). */
  verify(
    source: S,
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    check: C | undefined,
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
  /** Puts the target back exactly as it was before `restore`, or throws saying why it cannot. */
  compensate(
    source: S,
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    restoreId: string,
    safety: ArtifactHandle[] | undefined,
    check: C | undefined,
    ctx: StoreContext,
  ): Promise<void>;
}

/** A handler bound to its source: what the generic activities call, free of the handler's own types. */
export interface BoundStore {
  readonly defaultRestoreOrder: number;
  describeTarget(override?: RestoreTargetOverride): string;
  backup(ctx: StoreContext): Promise<StoreBackup>;
  preflight(
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    ctx: StoreContext,
  ): Promise<string[]>;
  safetyBackup(override: RestoreTargetOverride | undefined, ctx: StoreContext): Promise<StoreBackup>;
  restore(
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    restoreId: string,
    ctx: StoreContext,
  ): Promise<{ items: number; bytes: number; check?: RestoreCheck }>;
  verify(
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    check: RestoreCheck | undefined,
    ctx: StoreContext,
  ): Promise<{ ok: boolean; detail: string }>;
  confirm(
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    restoreId: string,
    ctx: StoreContext,
  ): Promise<void>;
  compensate(
    override: RestoreTargetOverride | undefined,
    artifacts: ArtifactHandle[],
    restoreId: string,
    safety: ArtifactHandle[] | undefined,
    check: RestoreCheck | undefined,
    ctx: StoreContext,
  ): Promise<void>;
}

/** Binds `h` to `s`; checks coming back from the workflow are read with the handler's own readCheck. */
export function bindStore<S extends SourceConfig, C extends RestoreCheck>(h: StoreHandler<S, C>, s: S): BoundStore {
  return {
    defaultRestoreOrder: h.defaultRestoreOrder,
    describeTarget: (o) => h.describeTarget(s, o),
    backup: (ctx) => h.backup(s, ctx),
    preflight: (o, a, ctx) => h.preflight(s, o, a, ctx),
    safetyBackup: (o, ctx) => h.safetyBackup(s, o, ctx),
    restore: (o, a, id, ctx) => h.restore(s, o, a, id, ctx),
    verify: (o, a, check, ctx) => h.verify(s, o, a, h.readCheck(check), ctx),
    confirm: (o, a, id, ctx) => h.confirm(s, o, a, id, ctx),
    compensate: (o, a, id, safety, check, ctx) => h.compensate(s, o, a, id, safety, h.readCheck(check), ctx),
  };
}

/** Small shape checks for readCheck implementations. */
export const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
export const isRecordOf = <T>(x: unknown, item: (v: unknown) => v is T): x is Record<string, T> =>
  isRecord(x) && Object.values(x).every(item);
export const isNumber = (x: unknown): x is number => typeof x === 'number';
export const isString = (x: unknown): x is string => typeof x === 'string';

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
  progress: { items?: number; chunking?: 'content' | 'records' } = {},
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
    chunking: progress.chunking,
  });
  const outcome = await done;
  if (!outcome.ok) throw outcome.error;
  const { written: w, ...ref } = written;
  return { ...ref, metadata: { ...toMetadata(outcome.info), newBytes: w.newBytes } };
}
