import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { alreadyExists, ApiError, collectionNotFound, jsonFormatError, notFound } from './api-error';
import { Collection } from './collection';
import { configFromCreateBody } from './collection-config';
import { loadCollectionDir, WalWriter, WAL_FILE, writeCollectionDir } from './collection-files';
import { parseUpsertBody } from './point-input';

/** Characters Qdrant's `validate_collection_name` rejects. */
const FORBIDDEN = ['<', '>', ':', '"', '/', '\\', '|', '?', '*', '\0'];

export function validateCollectionName(name: string): void {
  const bad = FORBIDDEN.find((c) => name.includes(c));
  const why = !name.length
    ? 'collection name must not be empty'
    : name.length > 255
      ? 'collection name is too long'
      : bad
        ? `collection name cannot contain "${bad === '\0' ? '\\0' : bad}" char`
        : name === '.' || name === '..'
          ? 'collection name cannot be "." or ".."'
          : undefined;
  if (why) throw new ApiError(422, `Validation error in path parameters: [name: ${why}]`);
}

/** One lock for every mutation: operations apply in arrival order and never interleave on disk. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * The stand-in's storage: collections in memory, persisted under `dataDir`
 *   collections/<name>/…   see collection-files.ts
 *   aliases.json           alias → collection
 *   snapshots/<name>/…     snapshot archives and their .checksum files
 *   tmp/                   uploads and half-built collections
 */
export class Storage {
  readonly collections = new Map<string, Collection>();
  readonly aliases = new Map<string, string>();
  private readonly wals = new Map<string, WalWriter>();
  readonly lock = new Mutex();
  peerId = '0';

  private constructor(readonly dataDir: string) {}

  static async open(dataDir: string): Promise<Storage> {
    const s = new Storage(path.resolve(dataDir));
    await fs.mkdir(path.join(s.dataDir, 'collections'), { recursive: true });
    await fs.rm(s.tmpDir, { recursive: true, force: true });
    await fs.mkdir(s.tmpDir, { recursive: true });
    const peerFile = path.join(s.dataDir, 'peer_id');
    try {
      s.peerId = (await fs.readFile(peerFile, 'utf8')).trim();
    } catch {
      s.peerId = BigInt(`0x${randomBytes(6).toString('hex')}`).toString();
      await fs.writeFile(peerFile, s.peerId);
    }
    for (const name of await fs.readdir(path.join(s.dataDir, 'collections'))) {
      const col = await loadCollectionDir(s.collectionDir(name));
      s.collections.set(name, col);
      // Compact at start so the WAL never grows across restarts.
      await writeCollectionDir(s.collectionDir(name), col);
      s.wals.set(name, new WalWriter(path.join(s.collectionDir(name), WAL_FILE)));
    }
    try {
      const raw = JSON.parse(await fs.readFile(path.join(s.dataDir, 'aliases.json'), 'utf8')) as Record<string, string>;
      for (const [a, c] of Object.entries(raw)) if (s.collections.has(c)) s.aliases.set(a, c);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return s;
  }

  get tmpDir(): string {
    return path.join(this.dataDir, 'tmp');
  }
  collectionDir(name: string): string {
    return path.join(this.dataDir, 'collections', name);
  }
  snapshotDir(name: string): string {
    return path.join(this.dataDir, 'snapshots', name);
  }
  tmpPath(prefix: string): string {
    return path.join(this.tmpDir, `${prefix}-${randomUUID()}`);
  }

  /** Collection by name or alias (aliases first, like Qdrant's TableOfContent). */
  resolve(name: string): Collection {
    const col = this.collections.get(this.aliases.get(name) ?? name);
    if (!col) throw collectionNotFound(name);
    return col;
  }

  tryResolve(name: string): Collection | undefined {
    return this.collections.get(this.aliases.get(name) ?? name);
  }

  private async saveAliases(): Promise<void> {
    const file = path.join(this.dataDir, 'aliases.json');
    const tmp = `${file}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(Object.fromEntries(this.aliases)));
    await fs.rename(tmp, file);
  }

  createCollection(name: string, body: Record<string, unknown>): Promise<boolean> {
    validateCollectionName(name);
    const config = configFromCreateBody(body);
    if (body.init_from != null)
      throw new ApiError(400, 'Bad request: init_from is not supported by the Lifeboat Qdrant stand-in');
    return this.lock.run(async () => {
      if (this.collections.has(name)) throw alreadyExists(`Collection \`${name}\` already exists!`);
      if (this.aliases.has(name)) throw alreadyExists(`Alias \`${name}\` already exists!`);
      await this.install(new Collection(name, config));
      return true;
    });
  }

  /** Writes a collection's directory beside the live one, then swaps it in. */
  private async install(col: Collection): Promise<void> {
    const staging = this.tmpPath(`col-${col.name}`);
    await writeCollectionDir(staging, col);
    const live = this.collectionDir(col.name);
    const old = this.tmpPath(`deleted-${col.name}`);
    await this.wals.get(col.name)?.drain();
    const hadOld = await fs.rename(live, old).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return false;
        throw e;
      },
    );
    await fs.rename(staging, live);
    this.collections.set(col.name, col);
    this.wals.set(col.name, new WalWriter(path.join(live, WAL_FILE)));
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
  }

  /** Drops a collection by its real name; `false` when there was none (Qdrant answers 200 either way). */
  deleteCollection(name: string): Promise<boolean> {
    return this.lock.run(async () => {
      if (!this.collections.has(name)) return false;
      await this.wals.get(name)?.drain();
      const gone = this.tmpPath(`deleted-${name}`);
      await fs.rename(this.collectionDir(name), gone);
      this.collections.delete(name);
      this.wals.delete(name);
      let changed = false;
      for (const [a, c] of this.aliases) if (c === name) changed = this.aliases.delete(a) || changed;
      if (changed) await this.saveAliases();
      await fs.rm(gone, { recursive: true, force: true });
      return true;
    });
  }

  /** Validates all points first, then applies and logs them; returns the operation id. */
  upsert(name: string, body: Record<string, unknown>): Promise<number> {
    return this.lock.run(async () => {
      const col = this.resolve(name);
      const points = parseUpsertBody(col.config, body);
      const opId = col.opId + 1;
      await this.wals.get(col.name)!.append({ op: 'upsert', opId, points });
      return col.upsert(points, opId);
    });
  }

  /** Applies every alias action or none: validated against a copy, then swapped in and saved. */
  updateAliases(body: Record<string, unknown>): Promise<boolean> {
    if (!Array.isArray(body.actions)) throw jsonFormatError('missing field `actions`');
    const actions = body.actions as Record<string, Record<string, unknown> | undefined>[];
    return this.lock.run(async () => {
      const next = new Map(this.aliases);
      for (const a of actions) {
        if (a.create_alias) {
          const { collection_name: c, alias_name: alias } = a.create_alias as {
            collection_name?: unknown;
            alias_name?: unknown;
          };
          if (typeof c !== 'string' || typeof alias !== 'string')
            throw jsonFormatError('create_alias needs `collection_name` and `alias_name` strings');
          if (!this.collections.has(c)) throw collectionNotFound(c);
          if (this.collections.has(alias)) throw alreadyExists(`Collection \`${alias}\` already exists!`);
          next.set(alias, c);
        } else if (a.delete_alias) {
          const alias = a.delete_alias.alias_name;
          if (typeof alias !== 'string') throw jsonFormatError('delete_alias needs an `alias_name` string');
          next.delete(alias);
        } else if (a.rename_alias) {
          const { old_alias_name: from, new_alias_name: to } = a.rename_alias as {
            old_alias_name?: unknown;
            new_alias_name?: unknown;
          };
          if (typeof from !== 'string' || typeof to !== 'string')
            throw jsonFormatError('rename_alias needs `old_alias_name` and `new_alias_name` strings');
          const target = next.get(from);
          if (target === undefined) throw notFound(`Alias ${from} does not exists!`);
          next.delete(from);
          next.set(to, target);
        } else {
          throw jsonFormatError('data did not match any variant of untagged enum AliasOperations');
        }
      }
      this.aliases.clear();
      for (const [k, v] of next) this.aliases.set(k, v);
      await this.saveAliases();
      return true;
    });
  }

  listAliases(collection?: string): { aliases: { alias_name: string; collection_name: string }[] } {
    const out = [...this.aliases]
      .filter(([, c]) => collection === undefined || c === collection)
      .map(([alias_name, collection_name]) => ({ alias_name, collection_name }))
      .sort((a, b) => (a.alias_name < b.alias_name ? -1 : a.alias_name > b.alias_name ? 1 : 0));
    return { aliases: out };
  }

  /** Replaces (or creates) a collection with fully built contents, under the lock. */
  replaceCollection(col: Collection): Promise<void> {
    return this.install(col);
  }
}
