import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend } from './backend/types';
import { collect, forEachLimit } from '../lib/async';
import { openJson, sealJson, type MasterKeys } from './envelope';
import { CorruptObjectError, LockLostError, MissingObjectError, RepositoryLockedError } from './errors';
import { LOCK_KINDS, OBJECT_TYPES, PATHS, lockObject, type CondemnedDoc, type LockDoc, type LockKind } from './format';

/** A lock as read from the repository. */
export interface LockInfo {
  id: string;
  object: string;
  /** Storage time of the last refresh. */
  mtime: number;
  /** Refreshed within lockStaleMs (storage clock). */
  live: boolean;
  /** Undefined when the object could not be decrypted (then treated as a live writer while fresh, to stay safe). */
  doc?: LockDoc;
}

export interface LockTiming {
  refreshMs: number;
  staleMs: number;
  host: string;
}

/**
 * Locks coordinate writers with prune (docs/repository-format.md, "Locks
 * and prune"). Every lock is an encrypted object `locks/<id>` rewritten every
 * refreshMs; its storage mtime says it is alive. Times are compared on the
 * storage's clock: the offset to the local clock is measured on each refresh.
 */
export class LockManager {
  private skew = 0;
  private readonly held = new Set<LockHandle>();
  private readonly condemnedCache = new Map<string, string[]>();

  constructor(
    readonly backend: Backend,
    readonly keys: MasterKeys,
    readonly timing: LockTiming,
  ) {}

  /** Current time on the storage's clock (estimate). */
  storageNow(): number {
    return Date.now() + this.skew;
  }

  /** @internal */
  noteStorageTime(storageTime: number, localBefore: number, localAfter: number): void {
    this.skew = storageTime - (localBefore + localAfter) / 2;
  }

  async readLocks(): Promise<LockInfo[]> {
    const objects = (await collect(this.backend.list(PATHS.locks))).filter((o) => o.key.split('/').length === 2);
    const now = this.storageNow();
    const out: LockInfo[] = [];
    await forEachLimit(objects, 8, async (o) => {
      const id = o.key.slice(PATHS.locks.length);
      const live = o.mtime >= now - this.timing.staleMs;
      try {
        const doc = await openJson<LockDoc>(this.keys, OBJECT_TYPES.lock, o.key, await this.backend.get(o.key), 'lock');
        out.push({ id, object: o.key, mtime: o.mtime, live, doc });
      } catch (e) {
        if (e instanceof MissingObjectError) return; // released meanwhile
        if (e instanceof CorruptObjectError) out.push({ id, object: o.key, mtime: o.mtime, live });
        else throw e;
      }
    });
    return out;
  }

  /** A condemned list as written (not cached). */
  async readCondemned(object: string): Promise<CondemnedDoc> {
    return openJson<CondemnedDoc>(
      this.keys,
      OBJECT_TYPES.condemned,
      object,
      await this.backend.get(object),
      'condemned',
    );
  }

  /** Objects a prune condemned (immutable once written, so cached). */
  async condemnedObjects(object: string): Promise<string[]> {
    let list = this.condemnedCache.get(object);
    if (!list) {
      const doc = await openJson<CondemnedDoc>(
        this.keys,
        OBJECT_TYPES.condemned,
        object,
        await this.backend.get(object),
        'condemned',
      );
      list = doc.objects;
      this.condemnedCache.set(object, list);
    }
    return list;
  }

  /** A writer or commit lock; `used` are the objects the session has come to depend on. */
  async startWriter(kind: typeof LOCK_KINDS.write | typeof LOCK_KINDS.commit): Promise<WriterLock> {
    const lock = new WriterLock(this, kind);
    await lock.start();
    return lock;
  }

  /**
   * The prune lock; fails with RepositoryLockedError if another prune is alive. A live prune lock
   * with the same `owner` is an interrupted earlier run of this prune (a retried activity whose
   * worker died): it is waited for until provably dead (stale, or its process gone on this host)
   * and then taken over (see PruneLock.takenOver) instead of failing.
   */
  async startPrune(opts: { owner?: string; signal?: AbortSignal } = {}): Promise<PruneLock> {
    const lock = new PruneLock(this, opts.owner);
    await lock.start();
    const giveUpAt = Date.now() + 2 * this.timing.staleMs;
    try {
      for (;;) {
        const other = (await this.readLocks()).find(
          (l) => l.live && l.id !== lock.id && l.doc?.kind === LOCK_KINDS.prune,
        );
        if (!other) return lock;
        const holder = `a prune on ${other.doc?.host ?? 'an unknown host'} (pid ${other.doc?.pid ?? '?'})`;
        // Still refreshed long after it should have gone stale: its holder is alive after all.
        const ours = opts.owner !== undefined && other.doc?.owner === opts.owner;
        if (!ours || Date.now() > giveUpAt) throw new RepositoryLockedError(other.object, holder, 'prune');
        if (this.processIsGone(other.doc!)) {
          lock.takenOver.push(other);
          await this.backend.delete(other.object);
          continue;
        }
        opts.signal?.throwIfAborted();
        lock.check();
        await sleep(Math.min(this.timing.refreshMs, 1000));
      }
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /**
   * True only when the lock's holder provably no longer runs: written on this host by another
   * process that does not exist any more. Anything else (another host, or a pid that exists,
   * perhaps reused) is not proof; such a lock is dead only once stale.
   */
  processIsGone(doc: LockDoc): boolean {
    if (doc.host !== this.timing.host || doc.pid === process.pid || !Number.isInteger(doc.pid) || doc.pid <= 0)
      return false;
    try {
      process.kill(doc.pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  /** @internal */
  track(l: LockHandle, on: boolean): void {
    if (on) this.held.add(l);
    else this.held.delete(l);
  }

  async releaseAll(): Promise<void> {
    await Promise.allSettled([...this.held].map((l) => l.release()));
  }
}

/** A lock this process holds, refreshed in the background until released. */
export class LockHandle {
  readonly id = randomBytes(16).toString('hex');
  readonly object = lockObject(this.id);
  readonly seenPrunes = new Set<string>();
  storageCreated?: number;
  protected condemned?: LockDoc['condemned'];
  private lastOk = 0;
  private lastError: unknown;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private released = false;

  constructor(
    protected readonly mgr: LockManager,
    readonly kind: LockKind,
    readonly owner?: string,
  ) {}

  async start(): Promise<void> {
    await this.write();
    this.mgr.track(this, true);
    this.timer = setInterval(() => void this.refresh(), this.mgr.timing.refreshMs);
    this.timer.unref();
  }

  /** Rewrites the lock (its mtime is the heartbeat). */
  protected async write(): Promise<void> {
    const doc: LockDoc = {
      v: 1,
      type: 'lock',
      id: this.id,
      kind: this.kind,
      host: this.mgr.timing.host,
      pid: process.pid,
      created: new Date().toISOString(),
      storageCreated: this.storageCreated,
      seenPrunes: [...this.seenPrunes],
      condemned: this.condemned,
      ...(this.owner !== undefined ? { owner: this.owner } : {}),
    };
    const before = Date.now();
    await this.mgr.backend.put(this.object, await sealJson(this.mgr.keys, OBJECT_TYPES.lock, this.object, doc));
    const st = await this.mgr.backend.stat(this.object);
    const after = Date.now();
    if (st) {
      this.mgr.noteStorageTime(st.mtime, before, after);
      this.storageCreated ??= st.mtime;
    }
    this.lastOk = before;
  }

  /** Background heartbeat; subclasses add work before the rewrite. */
  refresh(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        await this.beforeRefresh();
        if (!this.released) await this.write();
        this.lastError = undefined;
      } catch (e) {
        this.lastError = e;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  protected async beforeRefresh(): Promise<void> {}

  /**
   * Throws LockLostError once the lock has gone unrefreshed for half the stale
   * time: past that, a prune may soon treat this holder as dead.
   */
  check(): void {
    const since = Date.now() - this.lastOk;
    if (since > this.mgr.timing.staleMs / 2) throw new LockLostError(this.object, since, this.lastError);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    this.mgr.track(this, false);
    await this.refreshing;
    // Best effort: a lock that cannot be deleted now simply goes stale, and the
    // operation it guarded has already succeeded or failed on its own.
    await this.mgr.backend.delete(this.object).catch(() => undefined);
  }
}

/**
 * Lock of a write session (one writeArtifact) or a commit. It records which
 * running prunes it has taken into account: their condemned objects are not
 * reused (excluded), and an object it already depends on (used) makes
 * adopting that prune impossible, so the prune waits for it instead.
 */
export class WriterLock extends LockHandle {
  /** Object names this session depends on (chunks reused or written, indexes committed). */
  readonly used = new Set<string>();
  /** Condemned object -> prune lock id, for adopted prunes. */
  readonly excluded = new Map<string, string>();
  /** Used objects a live prune condemned before this session could adopt it -> prune lock id. */
  readonly conflicts = new Map<string, string>();

  override async start(): Promise<void> {
    await super.start();
    await this.adopt(await this.mgr.readLocks());
    if (this.seenPrunes.size) await this.write();
  }

  protected override async beforeRefresh(): Promise<void> {
    await this.adopt(await this.mgr.readLocks());
  }

  private async adopt(locks: LockInfo[]): Promise<void> {
    for (const l of locks) {
      const cond = l.doc?.condemned;
      if (!l.live || l.doc?.kind !== LOCK_KINDS.prune || !cond || this.seenPrunes.has(l.id)) continue;
      const objects = await this.mgr.condemnedObjects(cond.object);
      // No await from here on: the check and the exclusion happen in one step,
      // so no chunk decision slips in between.
      const hits = objects.filter((o) => this.used.has(o));
      if (hits.length) {
        for (const o of hits) this.conflicts.set(o, l.id);
        continue;
      }
      for (const o of objects) this.excluded.set(o, l.id);
      this.seenPrunes.add(l.id);
    }
  }

  /** Waits until prune `pruneId` has released its lock (or it went stale). */
  async waitForPrune(pruneId: string, signal?: AbortSignal): Promise<void> {
    const poll = Math.min(this.mgr.timing.refreshMs, 1000);
    for (;;) {
      this.check();
      signal?.throwIfAborted();
      const p = (await this.mgr.readLocks()).find((l) => l.id === pruneId);
      if (!p || !p.live) return;
      await sleep(poll);
    }
  }
}

/** The lock of a running prune; carries its condemned list once computed. */
export class PruneLock extends LockHandle {
  /** Dead locks of earlier runs of this prune (same owner) that this one replaced. */
  readonly takenOver: LockInfo[] = [];

  constructor(mgr: LockManager, owner?: string) {
    super(mgr, LOCK_KINDS.prune, owner);
  }

  /** Publishes the list of objects this prune is about to delete (with their sizes). */
  async publishCondemned(object: string, objects: string[], sizes?: number[]): Promise<void> {
    const doc: CondemnedDoc = { v: 1, type: 'condemned', prune: this.id, objects, ...(sizes ? { sizes } : {}) };
    await this.mgr.backend.put(object, await sealJson(this.mgr.keys, OBJECT_TYPES.condemned, object, doc));
    this.condemned = { object, count: objects.length };
    await this.write();
  }
}
