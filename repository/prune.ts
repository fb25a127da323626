import { setTimeout as sleep } from 'node:timers/promises';
import { loadArtifactIndex, partsOf } from './artifact-index';
import { collect, forEachLimit } from '../lib/async';
import type { RepoContext } from './context';
import { InvalidArgumentError, MissingObjectError, ObjectLockedError, OperationAbortedError } from './errors';
import {
  LOCK_KINDS,
  PATHS,
  RANDOM_ID_RE,
  chunkIdOf,
  condemnedObject,
  packIdOf,
  packIndexIdOf,
  type ArtifactIndexDoc,
} from './format';

/** The id a data object is kept by: a chunk's id, or the pack id of a pack or pack index. */
const dataIdOf = (key: string) => chunkIdOf(key) ?? packIdOf(key) ?? packIndexIdOf(key);
import type { LockInfo } from './locks';
import type { Points } from './points';
import type { PruneOptions, PruneProgress, PruneReport } from './types';

const DAY = 24 * 60 * 60 * 1000;

interface Plan {
  /** Artifact index objects to delete. */
  indexes: Map<string, number>;
  /** Chunk objects to delete -> stored size. */
  chunks: Map<string, number>;
  keptChunks: number;
}

/**
 * Reachability: roots are the artifact indexes named by a manifest plus every
 * index written at or after `cutoff` (artifacts written but not committed yet
 * are kept for the grace period). Chunks not reachable from a root and written
 * before `cutoff` are garbage.
 */
class Reachability {
  private readonly indexCache = new Map<string, ArtifactIndexDoc>();

  constructor(
    private readonly ctx: RepoContext,
    private readonly points: Points,
  ) {}

  /** Root index ids, the unreferenced old ones, and the chunk ids reachable from the roots. */
  async compute(
    cutoff: number,
    forgotten?: ReadonlySet<string>,
  ): Promise<{ roots: Set<string>; garbage: Map<string, number>; reachable: Set<string> }> {
    const referenced = new Set<string>();
    const ids = (await this.points.ids()).filter((id) => !forgotten?.has(id));
    // A manifest that cannot be read stops the prune: what it references is unknown.
    await forEachLimit(ids, 8, async (id) => {
      for (const a of (await this.points.manifest(id)).artifacts) referenced.add(a.indexId);
    });
    const roots = new Set<string>();
    const garbage = new Map<string, number>();
    for await (const o of this.ctx.backend.list(PATHS.artifacts)) {
      const id = o.key.slice(PATHS.artifacts.length);
      if (!RANDOM_ID_RE.test(id)) continue;
      if (referenced.has(id) || o.mtime >= cutoff) roots.add(id);
      else garbage.set(o.key, o.size);
    }
    const reachable = new Set<string>();
    await forEachLimit(roots, 8, async (id) => {
      let doc = this.indexCache.get(id);
      if (!doc) {
        try {
          doc = await loadArtifactIndex(this.ctx, id);
        } catch (e) {
          // Referenced but missing: nothing to keep for it (verify reports it).
          if ((e as { code?: string }).code === 'ARTIFACT_NOT_FOUND') return;
          throw e;
        }
        this.indexCache.set(id, doc);
      }
      // Chunk ids (64 hex) and pack ids (32 hex) share the set: they cannot collide.
      const { chunks, packs } = partsOf(doc);
      for (const c of chunks) reachable.add(c);
      for (const p of packs) reachable.add(p);
    });
    return { roots, garbage, reachable };
  }
}

/** Live locks other than prunes: the writers and commits a prune must coordinate with. */
const writersOf = (locks: LockInfo[], self?: string) =>
  locks.filter((l) => l.live && l.id !== self && l.doc?.kind !== LOCK_KINDS.prune);

/**
 * Deletes unreferenced data, safely while backups run (protocol in
 * docs/repository-format.md, "Locks and prune"):
 *  1. take the prune lock (one prune at a time); T = its storage time;
 *  2. cutoff = min(T - grace, start of the oldest live writer); plan = unreachable objects older than cutoff;
 *  3. publish the plan (condemned list) in the lock;
 *  4. wait until every live writer has acknowledged it (seenPrunes) or ended;
 *  5. recompute reachability (points committed meanwhile) and delete what is still garbage:
 *     artifact indexes first, then chunks.
 */
export async function pruneRepository(ctx: RepoContext, points: Points, opts: PruneOptions = {}): Promise<PruneReport> {
  const started = Date.now();
  const graceMs = opts.graceMs ?? DAY;
  const waitMs = opts.waitMs ?? 5 * 60 * 1000;
  const dryRun = opts.dryRun === true;
  if (typeof graceMs !== 'number' || !(graceMs >= 0))
    throw new InvalidArgumentError('graceMs', `must be a number >= 0, got ${JSON.stringify(opts.graceMs)}`);
  if (typeof waitMs !== 'number' || !(waitMs >= 0))
    throw new InvalidArgumentError('waitMs', `must be a number >= 0, got ${JSON.stringify(opts.waitMs)}`);
  const { signal } = opts;
  const progress: PruneProgress = {
    phase: 'planning',
    plannedObjects: 0,
    plannedBytes: 0,
    deletedObjects: 0,
    deletedBytes: 0,
  };
  const tell = (p: Partial<PruneProgress> = {}) => {
    Object.assign(progress, p);
    opts.onProgress?.({ ...progress });
  };
  const abortIfNeeded = () => {
    if (signal?.aborted) throw new OperationAbortedError('prune', signal.reason);
  };
  abortIfNeeded();
  const reach = new Reachability(ctx, points);
  const res = ctx.backend.timeResolutionMs;
  const cutoffFor = (T: number, locks: LockInfo[], self?: string) =>
    Math.min(T - graceMs, ...writersOf(locks, self).map((l) => l.doc?.storageCreated ?? l.mtime)) - res;
  const forgotten = dryRun && opts.assumeForgotten?.length ? new Set(opts.assumeForgotten) : undefined;
  const plan = async (cutoff: number): Promise<Plan> => {
    const { garbage, reachable } = await reach.compute(cutoff, forgotten);
    const chunks = new Map<string, number>();
    let keptChunks = 0;
    for await (const o of ctx.backend.list(PATHS.data)) {
      const id = dataIdOf(o.key);
      if (!id) continue;
      if (reachable.has(id)) keptChunks++;
      else if (o.mtime < cutoff) chunks.set(o.key, o.size);
    }
    return { indexes: garbage, chunks, keptChunks };
  };
  const report = (p: Plan, deleted: boolean, extra: Partial<PruneReport> = {}): PruneReport => ({
    dryRun,
    keptChunks: p.keptChunks,
    deletedChunks: deleted ? p.chunks.size : 0,
    deletedIndexes: deleted ? p.indexes.size : 0,
    deletedBytes: deleted ? [...p.chunks.values(), ...p.indexes.values()].reduce((a, b) => a + b, 0) : 0,
    deletedLocks: 0,
    deletedPartials: 0,
    durationMs: Date.now() - started,
    ...extra,
  });
  // Temp files of interrupted writes are dead once older than any write can take (a put lasts seconds).
  const partialsBefore = () => ctx.locks.storageNow() - Math.max(graceMs, ctx.opts.lockStaleMs);

  if (dryRun) {
    tell();
    const locks = await ctx.locks.readLocks();
    const p = await plan(cutoffFor(ctx.locks.storageNow(), locks));
    return {
      ...report(p, true),
      dryRun: true,
      deletedLocks: await cleanupLocks(ctx, true),
      deletedPartials: await ctx.backend.cleanupPartial(partialsBefore(), { dryRun: true }),
    };
  }

  const lock = await ctx.locks.startPrune({ owner: opts.owner, signal });
  const condemned = condemnedObject(lock.id);
  let result: PruneReport;
  tell({ lockId: lock.id });
  try {
    const takenOver = await countTakenOver(ctx, lock.takenOver);
    if (takenOver) tell({ deletedObjects: takenOver.deletedObjects, deletedBytes: takenOver.deletedBytes });
    const T = lock.storageCreated ?? ctx.locks.storageNow();
    const cutoff = cutoffFor(T, await ctx.locks.readLocks(), lock.id);
    const p = await plan(cutoff);
    abortIfNeeded();
    const sizeOf = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    tell({ plannedObjects: p.chunks.size + p.indexes.size, plannedBytes: sizeOf(p.chunks) + sizeOf(p.indexes) });
    if (p.chunks.size === 0 && p.indexes.size === 0) {
      result = report(p, false);
    } else {
      await lock.publishCondemned(
        condemned,
        [...p.indexes.keys(), ...p.chunks.keys()],
        [...p.indexes.values(), ...p.chunks.values()],
      );
      tell({ phase: 'waiting for writers' });
      const deadline = Date.now() + waitMs;
      let unsafe: LockInfo[] = [];
      for (;;) {
        abortIfNeeded();
        lock.check();
        unsafe = writersOf(await ctx.locks.readLocks(), lock.id).filter((l) => !l.doc?.seenPrunes.includes(lock.id));
        if (!unsafe.length || Date.now() >= deadline) break;
        await sleep(Math.min(ctx.opts.lockRefreshMs, 500));
      }
      if (unsafe.length) {
        result = report(p, false, {
          deferred: {
            reason: `${unsafe.length} running writer(s) did not acknowledge this prune within ${waitMs} ms; nothing was deleted (run prune again when they are done)`,
            locks: unsafe.map(
              (l) => `${l.object}${l.doc ? ` (${l.doc.kind} on ${l.doc.host}, pid ${l.doc.pid})` : ''}`,
            ),
          },
        });
      } else {
        // Points committed while we waited may have made garbage reachable again.
        const again = await reach.compute(cutoff);
        for (const key of [...p.indexes.keys()])
          if (again.roots.has(key.slice(PATHS.artifacts.length))) p.indexes.delete(key);
        for (const key of [...p.chunks.keys()]) if (again.reachable.has(dataIdOf(key)!)) p.chunks.delete(key);
        tell({ phase: 'deleting' });
        const deleted = (size: number) => {
          progress.deletedObjects++;
          progress.deletedBytes += size;
          tell();
        };
        // Indexes before chunks: an index that survives a crash here never points at deleted chunks.
        const locked = new LockedObjects();
        await forEachLimit([...p.indexes.keys()], 8, async (key) => {
          lock.check();
          const size = p.indexes.get(key) ?? 0;
          if (await locked.delete(ctx, key, p.indexes)) deleted(size);
        });
        // Pack indexes before packs: a writer's dedup set never names a pack that is already gone.
        const data = [...p.chunks.keys()];
        for (const batch of [data.filter((k) => packIndexIdOf(k)), data.filter((k) => !packIndexIdOf(k))])
          await forEachLimit(batch, 8, async (key) => {
            lock.check();
            abortIfNeeded();
            const size = p.chunks.get(key) ?? 0;
            if (await locked.delete(ctx, key, p.chunks)) deleted(size);
          });
        result = report(p, true, locked.summary());
      }
      await ctx.backend.delete(condemned);
    }
    if (takenOver) {
      result.takenOver = takenOver;
      result.deletedBytes += takenOver.deletedBytes;
    }
  } finally {
    await lock.release();
  }
  tell({ phase: 'cleaning up' });
  result.deletedLocks = await cleanupLocks(ctx);
  result.deletedPartials = await ctx.backend.cleanupPartial(partialsBefore());
  result.durationMs = Date.now() - started;
  return result;
}

/**
 * What crashed earlier runs of this prune (locks taken over) had already deleted: the objects of
 * their condemned lists that are gone now (only a prune deletes data, and only one runs at a time).
 */
async function countTakenOver(ctx: RepoContext, locks: LockInfo[]): Promise<PruneReport['takenOver']> {
  if (!locks.length) return undefined;
  const out = { locks: locks.length, deletedObjects: 0, deletedBytes: 0 };
  for (const l of locks) {
    const object = l.doc?.condemned?.object;
    if (!object) continue;
    let doc;
    try {
      doc = await ctx.locks.readCondemned(object);
    } catch (e) {
      if (e instanceof MissingObjectError) continue;
      throw e;
    }
    await forEachLimit(
      doc.objects.map((o, i) => [o, doc.sizes?.[i] ?? 0] as const),
      8,
      async ([o, size]) => {
        if (await ctx.backend.stat(o)) return;
        out.deletedObjects++;
        out.deletedBytes += size;
      },
    );
  }
  return out;
}

/**
 * Garbage under S3 Object Lock: its delete is refused until the retention ends. Such an object is
 * kept, taken out of the plan (so it is not counted as deleted) and reported; a later prune removes it.
 */
class LockedObjects {
  private objects = 0;
  private bytes = 0;
  private until = '';

  /** Deletes `key`; false (and `key` taken out of `from`) when S3 Object Lock refuses it. */
  async delete(ctx: RepoContext, key: string, from: Map<string, number>): Promise<boolean> {
    try {
      await ctx.backend.delete(key);
      return true;
    } catch (e) {
      if (!(e instanceof ObjectLockedError)) throw e;
      this.objects++;
      this.bytes += from.get(key) ?? 0;
      if ((e.until ?? '') > this.until) this.until = e.until!;
      from.delete(key);
      return false;
    }
  }

  summary(): Pick<PruneReport, 'locked'> {
    if (!this.objects) return {};
    const until = this.until || 'a legal hold is removed';
    return {
      locked: {
        objects: this.objects,
        bytes: this.bytes,
        until,
        message: `${this.objects} object${this.objects === 1 ? '' : 's'} (${this.bytes} bytes) locked until ${until} (S3 Object Lock), will be removed by a later prune`,
      },
    };
  }
}

/**
 * Removes dead locks (not refreshed for lockStaleMs: their holder crashed, since a live one
 * rewrites its lock every lockRefreshMs) and the condemned lists of prunes that are gone.
 * With dryRun, counts them only.
 */
async function cleanupLocks(ctx: RepoContext, dryRun = false): Promise<number> {
  const locks = await ctx.locks.readLocks();
  const livePrunes = new Set(locks.filter((l) => l.live && l.doc?.kind === LOCK_KINDS.prune).map((l) => l.id));
  let n = 0;
  for (const l of locks) {
    if (l.live) continue;
    if (!dryRun) await ctx.backend.delete(l.object);
    n++;
  }
  for (const key of await collect(ctx.backend.listKeys(PATHS.condemned))) {
    if (!livePrunes.has(key.slice(PATHS.condemned.length))) {
      if (!dryRun) await ctx.backend.delete(key);
      n++;
    }
  }
  return n;
}
