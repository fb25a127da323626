import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { openBackend } from './backend/open';
import type { Backend } from './backend/types';
import { collect } from '../lib/async';
import type { RepoContext, ResolvedOptions } from './context';
import { openJson, sealJson, type MasterKeys } from './envelope';
import {
  CorruptObjectError,
  InvalidArgumentError,
  MissingObjectError,
  RepositoryClosedError,
  RepositoryExistsError,
  RepositoryNotFoundError,
  WrongPasswordError,
} from './errors';
import {
  DEFAULTS,
  V1,
  OBJECT_TYPES,
  PATHS,
  RANDOM_ID_RE,
  chunkIdOf,
  keyObject,
  packIdOf,
  type ConfigDoc,
} from './format';
import { Chunker } from './chunker';
import { deriveGearTable } from './gear';
import {
  createKeyFile,
  newMasterKeys,
  parseKeyFile,
  unlockKeyFile,
  validatePassword,
  validateScrypt,
  type KeyFileDoc,
} from './keys';
import { AuditLog } from './audit';
import { KeyManager } from './key-manager';
import { LockManager } from './locks';
import { Points } from './points';
import { Records } from './records';
import { pruneRepository } from './prune';
import { extendObjectLocks, type LockExtension } from './object-lock';
import { readArtifact } from './reader';
import type {
  ArtifactMeta,
  ArtifactRef,
  CommitInput,
  ForgetResult,
  InitOptions,
  OpenOptions,
  PruneOptions,
  PruneReport,
  ReadOptions,
  RecoveryPoint,
  Repository,
  RepositoryLocation,
  RepositoryStats,
  VerifyOptions,
  VerifyReport,
  WriteOptions,
  WriteResult,
} from './types';
import { verifyRepository } from './verify';
import { writeArtifact } from './writer';

function resolveOptions(backend: Backend, o: OpenOptions = {}): ResolvedOptions {
  const s3 = backend.kind === 's3';
  const r: ResolvedOptions = {
    lockRefreshMs: o.lockRefreshMs ?? 60_000,
    lockStaleMs: o.lockStaleMs ?? 600_000,
    writeConcurrency: o.writeConcurrency ?? (s3 ? 8 : 4),
    readConcurrency: o.readConcurrency ?? (s3 ? 8 : 4),
    host: o.host ?? os.hostname(),
  };
  for (const k of ['lockRefreshMs', 'lockStaleMs', 'writeConcurrency', 'readConcurrency'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1)
      throw new InvalidArgumentError(k, `must be a positive integer, got ${JSON.stringify(r[k])}`);
  }
  if (r.lockStaleMs < 3 * r.lockRefreshMs)
    throw new InvalidArgumentError(
      'lockStaleMs',
      `must be at least 3 x lockRefreshMs (${3 * r.lockRefreshMs}), got ${r.lockStaleMs}`,
    );
  return r;
}

function validateConfig(doc: ConfigDoc): void {
  const c = doc.chunker;
  const ok =
    RANDOM_ID_RE.test(doc.id) &&
    c?.algorithm === 'fastcdc-gear32-v1' &&
    [c.minSize, c.normalSize, c.maxSize, c.normalization].every(Number.isSafeInteger) &&
    c.minSize > 0 &&
    c.minSize < c.normalSize &&
    c.normalSize < c.maxSize &&
    Number.isInteger(Math.log2(c.normalSize)) &&
    c.normalization >= 0 &&
    c.normalization <= 4 &&
    /^[0-9a-f]{64}$/.test(c.gearSeed) &&
    doc.compression?.algorithm === 'zstd' &&
    Number.isInteger(doc.compression.level);
  if (!ok) throw new CorruptObjectError(PATHS.config, 'config document is authentic but malformed');
}

class RepositoryImpl implements Repository {
  readonly id: string;
  readonly url: string;
  private readonly ctx: RepoContext;
  private readonly points: Points;
  private readonly recordStore: Records;
  private readonly keyManager: KeyManager;
  private readonly auditLog: AuditLog;
  private closed = false;

  constructor(
    backend: Backend,
    keys: MasterKeys,
    config: ConfigDoc,
    opts: ResolvedOptions,
    private keyFile: KeyFileDoc,
  ) {
    this.id = config.id;
    this.url = backend.location;
    const locks = new LockManager(backend, keys, {
      refreshMs: opts.lockRefreshMs,
      staleMs: opts.lockStaleMs,
      host: opts.host,
    });
    this.ctx = {
      backend,
      keys,
      config,
      gear: deriveGearTable(Buffer.from(config.chunker.gearSeed, 'hex')),
      opts,
      locks,
    };
    this.points = new Points(this.ctx);
    this.recordStore = new Records(this.ctx);
    this.auditLog = new AuditLog(this.ctx);
    this.keyManager = new KeyManager(
      this.ctx,
      this.id,
      () => this.keyFile,
      (k) => (this.keyFile = k),
    );
  }

  get audit(): AuditLog {
    this.live();
    return this.auditLog;
  }

  get keyring(): KeyManager {
    this.live();
    return this.keyManager;
  }

  get keyId(): string {
    return this.keyFile.id;
  }

  get records(): Records {
    this.live();
    return this.recordStore;
  }

  private live(): RepoContext {
    if (this.closed) throw new RepositoryClosedError(this.url);
    return this.ctx;
  }

  writeArtifact(
    input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
    meta: ArtifactMeta,
    opts?: WriteOptions,
  ): Promise<WriteResult> {
    return writeArtifact(this.live(), input, meta, opts);
  }

  readArtifact(ref: ArtifactRef, opts?: ReadOptions) {
    return readArtifact(this.live(), ref, opts);
  }

  commitRecoveryPoint(input: CommitInput): Promise<RecoveryPoint> {
    this.live();
    return this.points.commit(input);
  }

  listRecoveryPoints(): Promise<RecoveryPoint[]> {
    this.live();
    return this.points.list();
  }

  getRecoveryPoint(id: string): Promise<RecoveryPoint> {
    this.live();
    return this.points.get(id);
  }

  forget(id: string): Promise<ForgetResult> {
    this.live();
    return this.points.forget(id);
  }

  hold(id: string, reason: string): Promise<void> {
    this.live();
    return this.points.hold(id, reason);
  }

  unhold(id: string): Promise<void> {
    this.live();
    return this.points.unhold(id);
  }

  verify(opts?: VerifyOptions): Promise<VerifyReport> {
    return verifyRepository(this.live(), this.points, opts);
  }

  prune(opts?: PruneOptions): Promise<PruneReport> {
    return pruneRepository(this.live(), this.points, opts);
  }

  extendObjectLocks(): Promise<LockExtension> {
    return extendObjectLocks(this.live(), this.points);
  }

  /** Writes a key file for the new password, then deletes the one this repository was opened with. */
  async changePassword(newPassword: string): Promise<void> {
    const ctx = this.live();
    validatePassword(newPassword, 'new password');
    const next = await createKeyFile(this.id, ctx.keys, newPassword, {
      N: this.keyFile.kdf.N,
      r: this.keyFile.kdf.r,
      p: this.keyFile.kdf.p,
    });
    await ctx.backend.put(keyObject(next.id), Buffer.from(JSON.stringify(next, null, 2)), { ifAbsent: true });
    await ctx.backend.flush();
    await ctx.backend.delete(keyObject(this.keyFile.id));
    this.keyFile = next;
  }

  async stats(): Promise<RepositoryStats> {
    const ctx = this.live();
    const s = { objects: 0, bytes: 0, chunks: 0, chunkBytes: 0, packs: 0 };
    for await (const o of ctx.backend.list('')) {
      s.objects++;
      s.bytes += o.size;
      if (o.key.startsWith(PATHS.data)) {
        s.chunkBytes += o.size;
        if (chunkIdOf(o.key)) s.chunks++;
        else if (packIdOf(o.key)) s.packs++;
      }
    }
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ctx.locks.releaseAll();
    await this.ctx.backend.close();
  }
}

/**
 * Creates a repository at an empty location: a random master key (data key +
 * id key), wrapped under `password` in a key file, and the encrypted config.
 * The config is written last, create-if-absent: its presence is what makes a
 * repository.
 */
export async function initRepository(
  loc: RepositoryLocation,
  password: string,
  opts: InitOptions = {},
): Promise<Repository> {
  validatePassword(password);
  const backend = openBackend(loc);
  try {
    const ropts = resolveOptions(backend, opts);
    const scrypt = validateScrypt(opts.scrypt);
    const chunker = {
      minSize: opts.chunker?.minSize ?? DEFAULTS.minSize,
      normalSize: opts.chunker?.normalSize ?? DEFAULTS.normalSize,
      maxSize: opts.chunker?.maxSize ?? DEFAULTS.maxSize,
      normalization: opts.chunker?.normalization ?? DEFAULTS.normalization,
    };
    try {
      if (chunker.maxSize > 64 * 1024 * 1024) throw new RangeError('maxSize is over 64 MiB');
      new Chunker(chunker, new Uint32Array(256));
    } catch (e) {
      throw new InvalidArgumentError('chunker', `${(e as Error).message}; got ${JSON.stringify(chunker)}`);
    }
    const level = opts.compressionLevel ?? DEFAULTS.compressionLevel;
    if (!Number.isInteger(level) || level < 1 || level > 19)
      throw new InvalidArgumentError('compressionLevel', `must be an integer 1-19, got ${level}`);

    // Only an empty location (or a missing folder) becomes a repository.
    // prepare() first: it creates a missing folder or bucket (like restic), then the location must be empty.
    await backend.prepare();
    for await (const _ of backend.listKeys('')) throw new RepositoryExistsError(backend.location);
    const keys = newMasterKeys();
    const config: ConfigDoc = {
      v: V1,
      type: 'config',
      id: randomBytes(16).toString('hex'),
      created: new Date().toISOString(),
      chunker: { algorithm: 'fastcdc-gear32-v1', ...chunker, gearSeed: randomBytes(32).toString('hex') },
      compression: { algorithm: 'zstd', level },
    };
    const keyFile = await createKeyFile(config.id, keys, password, scrypt);
    await backend.put(keyObject(keyFile.id), Buffer.from(JSON.stringify(keyFile, null, 2)), { ifAbsent: true });
    const created = await backend.put(PATHS.config, await sealJson(keys, OBJECT_TYPES.config, PATHS.config, config), {
      ifAbsent: true,
    });
    if (!created) {
      await backend.delete(keyObject(keyFile.id));
      throw new RepositoryExistsError(backend.location);
    }
    await backend.flush();
    return new RepositoryImpl(backend, keys, config, ropts, keyFile);
  } catch (e) {
    await backend.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Opens a repository: tries `password` on each key file until one unwraps a
 * master key that decrypts the config.
 */
export async function openRepository(
  loc: RepositoryLocation,
  password: string,
  opts: OpenOptions = {},
): Promise<Repository> {
  validatePassword(password);
  const backend = openBackend(loc);
  try {
    const ropts = resolveOptions(backend, opts);
    await backend.checkObjectLock?.();
    let configBlob: Buffer;
    try {
      configBlob = await backend.get(PATHS.config);
    } catch (e) {
      if (e instanceof MissingObjectError) throw new RepositoryNotFoundError(backend.location);
      throw e;
    }
    const keyFiles: KeyFileDoc[] = [];
    for (const k of await collect(backend.listKeys(PATHS.keys))) {
      const doc = parseKeyFile(
        (
          await backend.get(k).catch((e) => (e instanceof MissingObjectError ? Buffer.alloc(0) : Promise.reject(e)))
        ).toString('utf8'),
      );
      if (doc && k === keyObject(doc.id)) keyFiles.push(doc);
    }
    if (!keyFiles.length)
      throw new MissingObjectError(
        PATHS.keys,
        backend.location,
        'no key file: the repository cannot be unlocked by any password',
      );
    let corrupt: unknown;
    for (const kf of keyFiles) {
      const keys = await unlockKeyFile(kf, password);
      if (!keys) continue;
      try {
        const config = await openJson<ConfigDoc>(keys, OBJECT_TYPES.config, PATHS.config, configBlob, 'config');
        validateConfig(config);
        if (config.id !== kf.repository)
          throw new CorruptObjectError(
            keyObject(kf.id),
            `key file belongs to repository ${kf.repository}, not ${config.id}`,
          );
        return new RepositoryImpl(backend, keys, config, ropts, kf);
      } catch (e) {
        if (!(e instanceof CorruptObjectError)) throw e;
        corrupt = e;
      }
    }
    if (corrupt) throw corrupt;
    throw new WrongPasswordError(backend.location, keyFiles.length);
  } catch (e) {
    await backend.close().catch(() => undefined);
    throw e;
  }
}
