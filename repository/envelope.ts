import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { zstdCompress as compress, zstdDecompress as decompress } from './zstd';
import { CorruptObjectError, UnsupportedVersionError } from './errors';
import {
  FORMAT_VERSION,
  HEADER_BYTES,
  NONCE_BYTES,
  OBJECT_FLAGS,
  OBJECT_MAGIC,
  OBJECT_OVERHEAD,
  OBJECT_TYPES,
  TAG_BYTES,
  V1,
  type ObjectType,
} from './format';

/** The two secrets the password protects. */
export interface MasterKeys {
  /** AES-256-GCM key of every object. */
  dataKey: Buffer;
  /** HMAC-SHA256 key of chunk ids. */
  idKey: Buffer;
}

// Crypto runs synchronously on the JS thread on purpose: measured on Node 20,
// WebCrypto's "async" HMAC/AES-GCM spend as much JS-thread time per MiB in
// their synchronous part (copying the input into the job) as doing the work,
// and add thread-pool work and garbage on top.

/** Chunk id: hex HMAC-SHA256 of the plain chunk under the repository's id key. */
export function chunkId(idKey: Buffer, plain: Uint8Array): string {
  return createHmac('sha256', idKey).update(plain).digest('hex');
}

function header(type: ObjectType, flags: number, version: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt16BE(OBJECT_MAGIC, 0);
  h[2] = version;
  h[3] = type;
  h[4] = flags;
  return h;
}

// The object's name is authenticated with it: an object copied or renamed to
// another name (a manifest swapped for another, chunk A served as chunk B)
// fails to decrypt.
function aad(hdr: Buffer, name: string): Buffer {
  return Buffer.concat([hdr, Buffer.from(name, 'utf8')]);
}

/** Chunks at least this big are sampled before compressing. */
const SAMPLE_FROM = 256 * 1024;
const SAMPLE_BYTES = 64 * 1024;

/**
 * Encrypts `plain` as object `name`: header, random 96-bit nonce,
 * AES-256-GCM ciphertext, tag. With `level`, the plaintext is zstd-compressed
 * first unless that does not make it smaller (large inputs whose first 64 KiB
 * do not compress by 3% at level 1 are not tried: compressed or random data).
 */
export async function sealObject(
  keys: MasterKeys,
  type: ObjectType,
  name: string,
  plain: Buffer,
  level?: number,
  version: number = V1,
): Promise<Buffer> {
  const parts = await sealObjectParts(keys, type, name, plain, level, version);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * sealObject as parts (header+nonce, ciphertext, tag), saving a copy when the backend can write parts.
 * `version` is the header's format version: V1 for every kind of object version 1 has, V2 for packs.
 */
export async function sealObjectParts(
  keys: MasterKeys,
  type: ObjectType,
  name: string,
  plain: Buffer,
  level?: number,
  version: number = V1,
): Promise<Buffer[]> {
  let body = plain;
  let flags = 0;
  if (level !== undefined && plain.length > 0) {
    let worth = true;
    if (plain.length >= SAMPLE_FROM) {
      const sample = plain.subarray(0, SAMPLE_BYTES);
      worth = (await compress(sample, 1)).length < sample.length * 0.97;
    }
    if (worth) {
      const z = await compress(plain, level);
      if (z.length < plain.length) {
        body = z;
        flags |= OBJECT_FLAGS.zstd;
      }
    }
  }
  return encryptParts(keys.dataKey, type, flags, version, name, body);
}

/** [header + nonce, ciphertext, tag]: written with writev, no concatenation. */
function encryptParts(
  key: Buffer,
  type: ObjectType,
  flags: number,
  version: number,
  name: string,
  body: Buffer,
): Buffer[] {
  const prefix = Buffer.allocUnsafe(HEADER_BYTES + NONCE_BYTES);
  const hdr = header(type, flags, version);
  hdr.copy(prefix, 0);
  randomFillSync(prefix, HEADER_BYTES, NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, prefix.subarray(HEADER_BYTES));
  cipher.setAAD(aad(hdr, name));
  const ct = cipher.update(body);
  const fin = cipher.final();
  return fin.length ? [prefix, ct, fin, cipher.getAuthTag()] : [prefix, ct, cipher.getAuthTag()];
}

/** Authenticates, decrypts and decompresses object `name`; any failure is a CorruptObjectError naming it. */
export async function openObject(keys: MasterKeys, type: ObjectType, name: string, blob: Buffer): Promise<Buffer> {
  if (blob.length < OBJECT_OVERHEAD)
    throw new CorruptObjectError(
      name,
      `${blob.length} bytes is shorter than the ${OBJECT_OVERHEAD}-byte envelope (truncated)`,
    );
  if (blob.readUInt16BE(0) !== OBJECT_MAGIC) throw new CorruptObjectError(name, 'bad magic: not a Lifeboat object');
  if (blob[2] > FORMAT_VERSION) throw new UnsupportedVersionError(name, blob[2], FORMAT_VERSION);
  if (blob[3] !== type) throw new CorruptObjectError(name, `object type ${blob[3]} where ${type} was expected`);
  const hdr = blob.subarray(0, HEADER_BYTES);
  const flags = hdr[4];
  const nonce = blob.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  let body: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', keys.dataKey, nonce);
    d.setAAD(aad(hdr, name));
    d.setAuthTag(tag);
    const ct = blob.subarray(HEADER_BYTES + NONCE_BYTES, blob.length - TAG_BYTES);
    const a = d.update(ct);
    const b = d.final();
    body = b.length ? Buffer.concat([a, b]) : a;
  } catch (e) {
    throw new CorruptObjectError(name, 'authentication failed (AES-GCM tag mismatch)', e);
  }
  if (!(flags & OBJECT_FLAGS.zstd)) return body;
  try {
    return await decompress(body);
  } catch (e) {
    throw new CorruptObjectError(name, 'authenticated but zstd decompression failed', e);
  }
}

/** Opens a chunk and checks that its plaintext hashes to its id. */
export async function openChunk(keys: MasterKeys, name: string, id: string, blob: Buffer): Promise<Buffer> {
  const plain = await openObject(keys, OBJECT_TYPES.chunk, name, blob);
  const got = Buffer.from(chunkId(keys.idKey, plain), 'hex');
  if (!timingSafeEqual(got, Buffer.from(id, 'hex')))
    throw new CorruptObjectError(name, 'decrypted content does not hash to the chunk id');
  return plain;
}

/**
 * Opens a pack and checks every blob its index lists lies within it; with
 * `checkIds`, also that each hashes to its id (verify does: it proves a pack
 * index and its pack belong together). Reads skip the per-blob HMAC: the pack
 * is authenticated whole by AES-GCM, and a reader checks the stream's SHA-256.
 */
export async function openPackBlobs(
  keys: MasterKeys,
  name: string,
  blob: Buffer,
  blobs: [string, number, number][],
  checkIds = true,
): Promise<Buffer> {
  const plain = await openObject(keys, OBJECT_TYPES.pack, name, blob);
  for (const [id, offset, length] of blobs) {
    if (offset + length > plain.length)
      throw new CorruptObjectError(
        name,
        `blob ${id} at ${offset}+${length} lies outside the pack's ${plain.length} bytes`,
      );
    if (!checkIds) continue;
    const got = Buffer.from(chunkId(keys.idKey, plain.subarray(offset, offset + length)), 'hex');
    if (!timingSafeEqual(got, Buffer.from(id, 'hex')))
      throw new CorruptObjectError(name, `blob ${id} at offset ${offset} does not hash to its id`);
  }
  return plain;
}

/** JSON helpers for the small encrypted documents (config, indexes, manifests, locks). */
export async function sealJson(
  keys: MasterKeys,
  type: ObjectType,
  name: string,
  doc: unknown,
  version: number = V1,
): Promise<Buffer> {
  return sealObject(keys, type, name, Buffer.from(JSON.stringify(doc), 'utf8'), 3, version);
}

export async function openJson<T>(
  keys: MasterKeys,
  type: ObjectType,
  name: string,
  blob: Buffer,
  expectedType: string,
): Promise<T> {
  const plain = await openObject(keys, type, name, blob);
  let doc: unknown;
  try {
    doc = JSON.parse(plain.toString('utf8'));
  } catch (e) {
    throw new CorruptObjectError(name, 'authenticated but not valid JSON', e);
  }
  const d = doc as { v?: unknown; type?: unknown };
  if (!d || typeof d !== 'object' || d.type !== expectedType)
    throw new CorruptObjectError(name, `document type ${JSON.stringify(d?.type)} where "${expectedType}" was expected`);
  if (typeof d.v !== 'number' || d.v > FORMAT_VERSION)
    throw new UnsupportedVersionError(name, Number(d.v), FORMAT_VERSION);
  return doc as T;
}

/** AES-256-GCM of a small secret under a key-encryption key (key files). */
export function wrapSecret(kek: Buffer, secret: Buffer, aadText: string): { nonce: Buffer; data: Buffer } {
  const nonce = randomFillSync(Buffer.alloc(NONCE_BYTES));
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  c.setAAD(Buffer.from(aadText, 'utf8'));
  const data = Buffer.concat([c.update(secret), c.final(), c.getAuthTag()]);
  return { nonce, data };
}

/** Inverse of wrapSecret; undefined when the key is wrong (or the file was altered). */
export function unwrapSecret(kek: Buffer, nonce: Buffer, data: Buffer, aadText: string): Buffer | undefined {
  if (data.length < TAG_BYTES || nonce.length !== NONCE_BYTES) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', kek, nonce);
    d.setAAD(Buffer.from(aadText, 'utf8'));
    d.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([d.update(data.subarray(0, data.length - TAG_BYTES)), d.final()]);
  } catch {
    return undefined;
  }
}
