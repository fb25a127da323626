import { randomBytes, scrypt as scryptCb } from 'node:crypto';
import os from 'node:os';
import { promisify } from 'node:util';
import { InvalidArgumentError } from './errors';
import { unwrapSecret, wrapSecret, type MasterKeys } from './envelope';
import { DEFAULTS } from './format';
import type { ScryptParams } from './types';

const scrypt = promisify(scryptCb) as (
  pw: string | Buffer,
  salt: Buffer,
  len: number,
  opts: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** A key file: plain JSON (it must be readable before the password is known). */
export interface KeyFileDoc {
  format: 'lifeboat-key';
  v: 1;
  id: string;
  repository: string;
  created: string;
  host: string;
  /**
   * OS user that created the key (issue 14). Optional: key files written before it have none, and
   * stay valid (a compatible addition, still `v: 1`).
   */
  user?: string;
  kdf: { algorithm: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** AES-256-GCM of dataKey || idKey under the scrypt-derived key; data = ciphertext || tag. */
  wrapped: { algorithm: 'aes-256-gcm'; nonce: string; data: string };
}

/** The OS user running this process ('' when the platform cannot say, e.g. no passwd entry in a container). */
export function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? '';
  }
}

/** AAD of the wrapped master key: binds it to its repository and key file. */
const wrapAad = (repository: string, keyId: string) => `lifeboat-key/v1 ${repository} ${keyId}`;

export function validatePassword(password: unknown, what = 'password'): asserts password is string {
  if (typeof password !== 'string' || password.length === 0)
    throw new InvalidArgumentError(what, 'must be a non-empty string');
}

export function validateScrypt(p: Partial<ScryptParams> | undefined): ScryptParams {
  const out = { ...DEFAULTS.scrypt, ...p };
  if (!Number.isInteger(Math.log2(out.N)) || out.N < 1024 || out.N > 2 ** 22)
    throw new InvalidArgumentError('scrypt.N', `must be a power of two between 1024 and 2^22, got ${out.N}`);
  if (!Number.isInteger(out.r) || out.r < 1 || out.r > 32)
    throw new InvalidArgumentError('scrypt.r', `must be an integer 1-32, got ${out.r}`);
  if (!Number.isInteger(out.p) || out.p < 1 || out.p > 16)
    throw new InvalidArgumentError('scrypt.p', `must be an integer 1-16, got ${out.p}`);
  return out;
}

async function deriveKek(password: string, kdf: KeyFileDoc['kdf']): Promise<Buffer> {
  return scrypt(password.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r * kdf.p + 1024 * 1024,
  });
}

/** A new key file wrapping `keys` under `password`. */
export async function createKeyFile(
  repository: string,
  keys: MasterKeys,
  password: string,
  params: ScryptParams,
): Promise<KeyFileDoc> {
  const id = randomBytes(16).toString('hex');
  const kdf = { algorithm: 'scrypt' as const, ...params, salt: randomBytes(32).toString('base64') };
  const kek = await deriveKek(password, kdf);
  const { nonce, data } = wrapSecret(kek, Buffer.concat([keys.dataKey, keys.idKey]), wrapAad(repository, id));
  return {
    format: 'lifeboat-key',
    v: 1,
    id,
    repository,
    created: new Date().toISOString(),
    host: os.hostname(),
    user: osUser(),
    kdf,
    wrapped: { algorithm: 'aes-256-gcm', nonce: nonce.toString('base64'), data: data.toString('base64') },
  };
}

/** Parses a key file; undefined when it is not one (so a stray file does not block opening). */
export function parseKeyFile(text: string): KeyFileDoc | undefined {
  try {
    const d = JSON.parse(text) as KeyFileDoc;
    const k = d?.kdf;
    if (d?.format !== 'lifeboat-key' || d.v !== 1 || typeof d.id !== 'string' || typeof d.repository !== 'string')
      return undefined;
    if (k?.algorithm !== 'scrypt' || ![k.N, k.r, k.p].every(Number.isInteger) || typeof k.salt !== 'string')
      return undefined;
    if (k.N > 2 ** 22 || k.r > 32 || k.p > 16) return undefined; // refuse absurd costs from a tampered file
    if (
      d.wrapped?.algorithm !== 'aes-256-gcm' ||
      typeof d.wrapped.nonce !== 'string' ||
      typeof d.wrapped.data !== 'string'
    )
      return undefined;
    return d;
  } catch {
    return undefined;
  }
}

/** The master keys if `password` opens this key file, else undefined. */
export async function unlockKeyFile(doc: KeyFileDoc, password: string): Promise<MasterKeys | undefined> {
  const kek = await deriveKek(password, doc.kdf);
  const secret = unwrapSecret(
    kek,
    Buffer.from(doc.wrapped.nonce, 'base64'),
    Buffer.from(doc.wrapped.data, 'base64'),
    wrapAad(doc.repository, doc.id),
  );
  if (!secret || secret.length !== 64) return undefined;
  return { dataKey: secret.subarray(0, 32), idKey: secret.subarray(32, 64) };
}

export function newMasterKeys(): MasterKeys {
  return { dataKey: randomBytes(32), idKey: randomBytes(32) };
}
