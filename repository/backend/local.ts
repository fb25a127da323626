import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BackendError, MissingObjectError } from '../errors';
import { withRetry } from './retry';
import type { Backend, ObjectInfo, PutOptions } from './types';

const TMP_PREFIX = '.tmp-';
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

const errCode = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;

/**
 * A repository in a local folder: one file per object, written to a temp
 * file in the same folder, fsynced, then renamed (atomic). Files 0600,
 * folders 0700.
 */
export class LocalBackend implements Backend {
  readonly kind = 'local' as const;
  readonly timeResolutionMs = 1;
  readonly location: string;
  private readonly knownDirs = new Set<string>();
  private readonly dirtyDirs = new Set<string>();
  // Deferred puts: temp files waiting for fsync + rename, done by a small
  // background stage so the disk works while the writer keeps chunking.
  private readonly syncQueue: {
    key: string;
    tmp: string;
    file: string;
    dir: string;
    size: number;
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  private readonly syncing = new Set<Promise<void>>();
  private pendingBytes = 0;
  private static readonly SYNC_CONCURRENCY = 2;
  private static readonly MAX_PENDING_BYTES = 64 * 1024 * 1024;

  constructor(readonly root: string) {
    this.location = `file://${root}`;
  }

  private full(key: string): string {
    if (key.includes('..') || key.startsWith('/'))
      throw new BackendError(this.location, 'resolve', key, new Error('object names must be relative'));
    return path.join(this.root, key);
  }

  private async op<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(fn);
    } catch (e) {
      if (e instanceof MissingObjectError || e instanceof BackendError) throw e;
      throw new BackendError(this.location, operation, key, e);
    }
  }

  async prepare(): Promise<void> {
    await this.op('create folder', '', async () => {
      await fs.mkdir(this.root, { recursive: true, mode: DIR_MODE });
      await fs.chmod(this.root, DIR_MODE);
    });
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
    this.knownDirs.add(dir);
  }

  async get(key: string): Promise<Buffer> {
    return this.op('read', key, async () => {
      try {
        return await fs.readFile(this.full(key));
      } catch (e) {
        if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') throw new MissingObjectError(key, this.location);
        throw e;
      }
    });
  }

  async put(key: string, data: Buffer | Buffer[], opts: PutOptions = {}): Promise<boolean> {
    const parts = Array.isArray(data) ? data : [data];
    const file = this.full(key);
    const dir = path.dirname(file);
    return this.op('write', key, async () => {
      await this.ensureDir(dir);
      const tmp = await this.writeTemp(dir, parts, true);
      try {
        if (opts.ifAbsent) {
          // link() fails if the name exists: an atomic create-if-absent.
          try {
            await fs.link(tmp, file);
          } catch (e) {
            if (errCode(e) === 'EEXIST') return false;
            throw e;
          }
        } else {
          await fs.rename(tmp, file);
        }
      } finally {
        if (opts.ifAbsent) await fs.unlink(tmp).catch(() => undefined);
      }
      this.dirtyDirs.add(dir);
      return true;
    });
  }

  async putLater(key: string, data: Buffer | Buffer[]): Promise<{ done: Promise<void> }> {
    const { tmp, file, dir, size } = await this.writeUnsynced(key, data);
    const done = this.enqueueSync(key, tmp, file, dir, size);
    // Bounded lag: at most MAX_PENDING_BYTES written but not yet durable.
    while (this.pendingBytes > LocalBackend.MAX_PENDING_BYTES && this.syncing.size) await Promise.race(this.syncing);
    return { done };
  }

  private async writeUnsynced(
    key: string,
    data: Buffer | Buffer[],
  ): Promise<{ tmp: string; file: string; dir: string; size: number }> {
    const parts = Array.isArray(data) ? data : [data];
    const file = this.full(key);
    const dir = path.dirname(file);
    const tmp = await this.op('write', key, async () => {
      await this.ensureDir(dir);
      return this.writeTemp(dir, parts, false);
    });
    return { tmp, file, dir, size: parts.reduce((a, b) => a + b.length, 0) };
  }

  // Its own scope on purpose: a closure created next to the data would keep
  // the written buffers alive until the background fsync is done.
  private enqueueSync(key: string, tmp: string, file: string, dir: string, size: number): Promise<void> {
    const done = new Promise<void>((resolve, reject) =>
      this.syncQueue.push({ key, tmp, file, dir, size, resolve, reject }),
    );
    done.catch(() => undefined); // the owner awaits it; never an unhandled rejection
    this.pendingBytes += size;
    this.pumpSync();
    return done;
  }

  /** Writes `parts` to a new temp file in `dir` (0600); returns its path. */
  private async writeTemp(dir: string, parts: Buffer[], sync: boolean): Promise<string> {
    const tmp = path.join(dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, FILE_MODE);
    try {
      const total = parts.reduce((a, b) => a + b.length, 0);
      let written = 0;
      while (written < total) {
        // writev may write less than asked; continue from where it stopped.
        let skip = written;
        const rest: Buffer[] = [];
        for (const p of parts) {
          if (skip >= p.length) skip -= p.length;
          else {
            rest.push(skip ? p.subarray(skip) : p);
            skip = 0;
          }
        }
        written += (await fh.writev(rest)).bytesWritten;
      }
      if (sync) await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await fs.unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fh.close();
    return tmp;
  }

  // The final name appears only once the content is on disk: nobody can
  // deduplicate against a chunk that a crash could still tear.
  private pumpSync(): void {
    while (this.syncing.size < LocalBackend.SYNC_CONCURRENCY && this.syncQueue.length) {
      const job = this.syncQueue.shift()!;
      const done: { p?: Promise<void> } = {};
      const p: Promise<void> = (async () => {
        try {
          await withRetry(async () => {
            const fh = await fs.open(job.tmp, fsc.O_RDONLY);
            try {
              await fh.sync();
            } finally {
              await fh.close();
            }
            await fs.rename(job.tmp, job.file);
          });
          this.dirtyDirs.add(job.dir);
          job.resolve();
        } catch (e) {
          await fs.unlink(job.tmp).catch(() => undefined);
          job.reject(new BackendError(this.location, 'fsync', job.key, e));
        } finally {
          this.pendingBytes -= job.size;
          this.syncing.delete(done.p!);
          this.pumpSync();
        }
      })();
      done.p = p;
      this.syncing.add(p);
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    return this.op('stat', key, async () => {
      try {
        const st = await fs.stat(this.full(key));
        return st.isFile() ? { key, size: st.size, mtime: st.mtimeMs } : undefined;
      } catch (e) {
        if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return undefined;
        throw e;
      }
    });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* this.withStats(this.walk(prefix.replace(/\/$/, ''), false));
  }

  async *listKeys(prefix: string): AsyncIterable<string> {
    yield* this.walk(prefix.replace(/\/$/, ''), false);
  }

  /** Keys of the files below `rel`: finished objects, or (`partials`) temp files of unfinished writes. No stat: the dedup listing only needs names. */
  private async *walk(rel: string, partials: boolean): AsyncIterable<string> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(this.root, rel), { withFileTypes: true });
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return;
      throw new BackendError(this.location, 'list', `${rel}/`, e);
    }
    for (const ent of entries) {
      const key = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) yield* this.walk(key, partials);
      else if (ent.isFile() && ent.name.startsWith(TMP_PREFIX) === partials) yield key;
    }
  }

  /** Size and mtime of each key; a file gone in between (deleted by a concurrent prune) is left out. */
  private async *withStats(keys: AsyncIterable<string>): AsyncIterable<ObjectInfo> {
    for await (const key of keys) {
      const st = await fs
        .stat(path.join(this.root, key))
        .catch((e) =>
          errCode(e) === 'ENOENT' ? undefined : Promise.reject(new BackendError(this.location, 'stat', key, e)),
        );
      if (st) yield { key, size: st.size, mtime: st.mtimeMs };
    }
  }

  async delete(key: string): Promise<void> {
    await this.op('delete', key, async () => {
      try {
        await fs.unlink(this.full(key));
      } catch (e) {
        if (errCode(e) !== 'ENOENT') throw e;
      }
    });
  }

  // A renamed file's directory entry is durable only once its folder is fsynced.
  async flush(): Promise<void> {
    while (this.syncing.size || this.syncQueue.length) await Promise.race(this.syncing);
    const dirs = [...this.dirtyDirs];
    this.dirtyDirs.clear();
    await this.op('fsync', '', async () => {
      for (const d of dirs) {
        const fh = await fs.open(d, fsc.O_RDONLY);
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    });
  }

  async cleanupPartial(before: number, opts: { dryRun?: boolean } = {}): Promise<number> {
    let n = 0;
    for await (const o of this.withStats(this.walk('', true))) {
      if (o.mtime < before) {
        if (!opts.dryRun) await this.delete(o.key);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
