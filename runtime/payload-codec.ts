/**
 * Temporal payload encryption: an AES-256-GCM `PayloadCodec` for everything Lifeboat sends through
 * Temporal (workflow and activity inputs and results, heartbeat details, query answers, signals,
 * schedule actions, memos and — with lib/failure-converter.ts — failure messages and stacks).
 *
 * Wire format of an encrypted payload:
 *   metadata.encoding            = "binary/encrypted"
 *   metadata["encryption-key-id"] = the key id (config `temporal.payloadEncryption.keyId`)
 *   metadata["encryption-cipher"] = "AES-256-GCM"
 *   data = nonce (12 bytes) || ciphertext || tag (16 bytes)
 * The plaintext is the whole original payload (metadata and data) as JSON with base64 fields; the
 * key id is the AEAD's associated data, so a payload cannot be relabelled to another key.
 *
 * Keys are referenced in the config, never written there; the current key encrypts, retired keys
 * (`previousKeys`) still decrypt, so rotating is: add the new key, move the old one to
 * previousKeys, restart workers and CLIs. Search attributes are not payloads the codec sees (the
 * server must index them): Lifeboat puts only source names, kinds and ids there.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { resolveSecret } from '../config/secrets';
import type { PayloadEncryptionConfig, PayloadKeyRef, TemporalConfig } from '../config/types';
import { describeSecretRef } from '../config/errors';
import { LifeboatError } from '../lib/errors';
import type { ErrorCode } from '../lib/error-codes';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A payload could not be decrypted, or a key could not be loaded. Never retryable: the key is wrong or missing. */
export class PayloadEncryptionError extends LifeboatError {
  constructor(message: string, code: ErrorCode = 'PAYLOAD_ENCRYPTION') {
    super(message, code);
  }
}

const te = new TextEncoder();
const td = new TextDecoder();
/**
 * Bytes of a payload field. The SDK hands the codec typed arrays, but payloads that crossed the
 * workflow thread can arrive as another realm's views or plain arrays: accept every form.
 */
function bytesOf(u: unknown): Buffer {
  if (ArrayBuffer.isView(u)) return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  if (u instanceof ArrayBuffer) return Buffer.from(u);
  if (Array.isArray(u)) return Buffer.from(u as number[]);
  if (typeof u === 'string') return Buffer.from(u, 'utf8');
  if (u && typeof u === 'object') return Buffer.from(Object.values(u as Record<string, number>));
  return Buffer.alloc(0);
}
const b64 = (u: unknown) => bytesOf(u).toString('base64');

function serialize(p: Payload): Buffer {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = b64(v);
  return Buffer.from(JSON.stringify({ m: metadata, d: p.data ? b64(p.data) : '' }));
}

function deserialize(buf: Buffer): Payload {
  const o = JSON.parse(buf.toString('utf8')) as { m: Record<string, string>; d: string };
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(o.m)) metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  return { metadata, data: new Uint8Array(Buffer.from(o.d, 'base64')) };
}

/**
 * 32 bytes from a key file or variable: base64 (44 characters, `openssl rand -base64 32`) or hex
 * (64 characters). Anything else is refused: a passphrase would be a weak key, silently.
 */
export function parsePayloadKey(text: string, where: string): Buffer {
  const s = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(s)
    ? Buffer.from(s, 'hex')
    : /^[A-Za-z0-9+/]{43}=$/.test(s)
      ? Buffer.from(s, 'base64')
      : undefined;
  if (!key || key.length !== 32)
    throw new PayloadEncryptionError(
      `${where} is not a 32-byte key (base64 of 44 characters or 64 hex digits); create one with: openssl rand -base64 32 > FILE && chmod 600 FILE`,
      'PAYLOAD_KEY_INVALID',
    );
  return key;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;

  /** @param keys id → 32-byte key; `currentId` encrypts, every key decrypts. */
  constructor(
    private readonly currentId: string,
    keys: ReadonlyMap<string, Buffer>,
  ) {
    if (!keys.has(currentId))
      throw new PayloadEncryptionError(`current payload key "${currentId}" is not among the keys`);
    for (const [id, k] of keys)
      if (k.length !== 32) throw new PayloadEncryptionError(`payload key "${id}" is ${k.length} bytes, not 32`);
    this.keys = keys;
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentId)!;
    return payloads.map((p) => {
      const nonce = randomBytes(NONCE_BYTES);
      const c = createCipheriv('aes-256-gcm', key, nonce);
      c.setAAD(Buffer.from(`lifeboat-payload/v1 ${this.currentId}`));
      const body = Buffer.concat([c.update(serialize(p)), c.final()]);
      return {
        metadata: {
          encoding: te.encode(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: te.encode(this.currentId),
          [CIPHER_METADATA]: te.encode(CIPHER),
        },
        data: new Uint8Array(Buffer.concat([nonce, body, c.getAuthTag()])),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const enc = p.metadata?.encoding;
      // Not ours (written before encryption was turned on, or by another tool): passed through.
      if (!enc || td.decode(enc) !== ENCRYPTED_ENCODING) return p;
      const idBytes = p.metadata?.[KEY_ID_METADATA];
      if (!idBytes)
        throw new PayloadEncryptionError('an encrypted payload carries no key id; it was not written by Lifeboat');
      const id = td.decode(idBytes);
      const key = this.keys.get(id);
      if (!key)
        throw new PayloadEncryptionError(
          `a payload is encrypted with key "${id}", which is not configured (known: ${this.keyIds.join(', ')}); add it to temporal.payloadEncryption.previousKeys`,
          'PAYLOAD_KEY_UNKNOWN',
        );
      const data = bytesOf(p.data);
      if (data.length < NONCE_BYTES + TAG_BYTES)
        throw new PayloadEncryptionError(`a payload encrypted with key "${id}" is truncated`, 'PAYLOAD_DAMAGED');
      try {
        const d = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
        d.setAAD(Buffer.from(`lifeboat-payload/v1 ${id}`));
        d.setAuthTag(data.subarray(data.length - TAG_BYTES));
        return deserialize(Buffer.concat([d.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), d.final()]));
      } catch {
        throw new PayloadEncryptionError(
          `a payload does not decrypt with key "${id}": the key file holds another key, or the payload was altered`,
          'PAYLOAD_DAMAGED',
        );
      }
    });
  }
}

async function loadKey(ref: PayloadKeyRef, path: string): Promise<Buffer> {
  return parsePayloadKey(await resolveSecret(ref.key), `${path} (${describeSecretRef(ref.key)}, key id "${ref.id}")`);
}

/** The codec for a `temporal.payloadEncryption` section, keys resolved from their references. */
export async function loadPayloadCodec(cfg: PayloadEncryptionConfig): Promise<AesGcmPayloadCodec> {
  const keys = new Map<string, Buffer>();
  keys.set(cfg.current.id, await loadKey(cfg.current, 'temporal.payloadEncryption.key'));
  for (const [i, k] of cfg.previous.entries())
    keys.set(k.id, await loadKey(k, `temporal.payloadEncryption.previousKeys[${i}].key`));
  return new AesGcmPayloadCodec(cfg.current.id, keys);
}

/** The data converter every Lifeboat worker and client uses for a config; undefined without encryption. */
export async function lifeboatDataConverter(cfg: TemporalConfig): Promise<DataConverter | undefined> {
  if (!cfg.payloadEncryption) return undefined;
  return {
    payloadCodecs: [await loadPayloadCodec(cfg.payloadEncryption)],
    failureConverterPath: require.resolve('../lib/failure-converter'),
  };
}
