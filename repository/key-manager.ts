/**
 * Several passwords per repository, like restic's `key` command: each key file wraps the same
 * master key under one password, with its own scrypt parameters. Adding a key never touches data;
 * removing one only deletes its key file. The key used to open the repository cannot be removed
 * (change it with `passwd`), and the last key never can: that would make every point unreadable.
 */
import { collect } from '../lib/async';
import type { RepoContext } from './context';
import { InvalidArgumentError, KeyRefusedError, MissingObjectError } from './errors';
import { DEFAULTS, PATHS, keyObject } from './format';
import { createKeyFile, parseKeyFile, validatePassword, validateScrypt, type KeyFileDoc } from './keys';
import type { ScryptParams } from './types';

/** What `key list` shows of a key file: never the wrapped key. */
export interface KeyInfo {
  id: string;
  created: string;
  host: string;
  /** OS user that created it; undefined for key files written before keys carried one. */
  user?: string;
  kdf: { algorithm: 'scrypt'; N: number; r: number; p: number };
  /** The key this repository was opened with. */
  current: boolean;
}

export interface AddKeyOptions {
  /** scrypt cost of the new key. @default DEFAULTS.scrypt (N 2^15, r 8, p 1) */
  scrypt?: Partial<ScryptParams>;
}

const info = (d: KeyFileDoc, currentId: string): KeyInfo => ({
  id: d.id,
  created: d.created,
  host: d.host,
  ...(d.user ? { user: d.user } : {}),
  kdf: { algorithm: d.kdf.algorithm, N: d.kdf.N, r: d.kdf.r, p: d.kdf.p },
  current: d.id === currentId,
});

export class KeyManager {
  constructor(
    private readonly ctx: RepoContext,
    private readonly repositoryId: string,
    private current: () => KeyFileDoc,
    private readonly setCurrent: (k: KeyFileDoc) => void,
  ) {}

  /** Valid key files of this repository, oldest first (stray or foreign files are left out). */
  private async docs(): Promise<KeyFileDoc[]> {
    const out: KeyFileDoc[] = [];
    for (const k of await collect(this.ctx.backend.listKeys(PATHS.keys))) {
      const blob = await this.ctx.backend
        .get(k)
        .catch((e: unknown) => (e instanceof MissingObjectError ? undefined : Promise.reject(e)));
      const d = blob && parseKeyFile(blob.toString('utf8'));
      if (d && k === keyObject(d.id) && d.repository === this.repositoryId) out.push(d);
    }
    return out.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : 1));
  }

  async list(): Promise<KeyInfo[]> {
    const cur = this.current().id;
    return (await this.docs()).map((d) => info(d, cur));
  }

  /** Writes a key file wrapping the master key under `password`. */
  async add(password: string, opts: AddKeyOptions = {}): Promise<KeyInfo> {
    validatePassword(password, 'new password');
    const params = validateScrypt({ ...DEFAULTS.scrypt, ...opts.scrypt });
    const doc = await createKeyFile(this.repositoryId, this.ctx.keys, password, params);
    await this.ctx.backend.put(keyObject(doc.id), Buffer.from(JSON.stringify(doc, null, 2)), { ifAbsent: true });
    await this.ctx.backend.flush();
    return info(doc, this.current().id);
  }

  /** Deletes one key file by id or unique prefix; refuses the current key and the last one. */
  async remove(idOrPrefix: string): Promise<KeyInfo> {
    if (!/^[0-9a-f]{1,32}$/.test(idOrPrefix))
      throw new InvalidArgumentError(
        'key id',
        `expected hex digits of a key id (see lifeboat key list), got ${JSON.stringify(idOrPrefix)}`,
      );
    const docs = await this.docs();
    const matches = docs.filter((d) => d.id.startsWith(idOrPrefix));
    if (!matches.length)
      throw new KeyRefusedError(`no key ${idOrPrefix} in this repository; lifeboat key list shows the key ids`);
    if (matches.length > 1)
      throw new KeyRefusedError(
        `key id prefix ${idOrPrefix} matches ${matches.length} keys (${matches.map((d) => d.id).join(', ')}); give more digits`,
      );
    const doc = matches[0];
    if (docs.length === 1)
      throw new KeyRefusedError(
        `refusing to remove key ${doc.id}: it is the repository's last key, and without a key no recovery point can ever be read; add another key first`,
      );
    if (doc.id === this.current().id)
      throw new KeyRefusedError(
        `refusing to remove key ${doc.id}: it is the key this command opened the repository with; use lifeboat key passwd to replace it, or remove it with another password`,
      );
    await this.ctx.backend.delete(keyObject(doc.id));
    return info(doc, this.current().id);
  }

  /**
   * Replaces the current key: a new key file under `password` (with `opts.scrypt`, default the
   * current defaults, so an old cheap KDF is upgraded), then the old key file is deleted.
   */
  async passwd(password: string, opts: AddKeyOptions = {}): Promise<{ removed: string; added: KeyInfo }> {
    validatePassword(password, 'new password');
    const old = this.current();
    const params = validateScrypt({ ...DEFAULTS.scrypt, ...opts.scrypt });
    const next = await createKeyFile(this.repositoryId, this.ctx.keys, password, params);
    await this.ctx.backend.put(keyObject(next.id), Buffer.from(JSON.stringify(next, null, 2)), { ifAbsent: true });
    await this.ctx.backend.flush();
    await this.ctx.backend.delete(keyObject(old.id));
    this.setCurrent(next);
    return { removed: old.id, added: info(next, next.id) };
  }
}
