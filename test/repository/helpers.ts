import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { scratchDir, testEnv } from '../harness/env';
import type { InitOptions, RepositoryLocation } from '../../repository';

/** Cheap key derivation for tests (the default costs ~100 ms per open). */
export const FAST: InitOptions = { scrypt: { N: 1024, r: 8, p: 1 } };

/**
 * Direct access to a repository's stored objects, independent of the code
 * under test (plain fs / a plain S3 client), to damage them on purpose.
 */
export interface RawStore {
  get(key: string): Promise<Buffer>;
  put(key: string, data: Buffer): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  close(): void;
}

export interface Target {
  name: 'local' | 'minio';
  /** A fresh, empty location. */
  location(label: string): RepositoryLocation;
  raw(loc: RepositoryLocation): RawStore;
}

let s3: S3Client | undefined;
function s3Client(): S3Client {
  const m = testEnv().minio;
  s3 ??= new S3Client({
    endpoint: m.endpoint,
    region: m.region,
    forcePathStyle: true,
    credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
  });
  return s3;
}

export function minioOptions() {
  const m = testEnv().minio;
  return {
    endpoint: m.endpoint,
    region: m.region,
    forcePathStyle: true,
    credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
  };
}

const local: Target = {
  name: 'local',
  location: (label) => ({ url: path.join(scratchDir(`repo-${label}`), 'repo') }),
  raw: (loc) => {
    const root = loc.url.replace(/^file:\/\//, '');
    return {
      get: (k) => fs.readFile(path.join(root, k)),
      put: (k, d) => fs.writeFile(path.join(root, k), d),
      delete: (k) => fs.unlink(path.join(root, k)),
      list: async (prefix) => {
        const out: string[] = [];
        const walk = async (rel: string) => {
          for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true }).catch(() => [])) {
            const k = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) await walk(k);
            else if (!e.name.startsWith('.tmp-')) out.push(k);
          }
        };
        await walk(prefix.replace(/\/$/, ''));
        return out.sort();
      },
      close: () => undefined,
    };
  },
};

const minio: Target = {
  name: 'minio',
  location: (label) => ({
    url: `s3://${testEnv().minio.bucket}/repo-tests/${label}-${randomBytes(6).toString('hex')}`,
    s3: minioOptions(),
  }),
  raw: (loc) => {
    const [bucket, ...rest] = loc.url.slice('s3://'.length).split('/');
    const prefix = rest.join('/');
    const c = s3Client();
    return {
      get: async (k) =>
        Buffer.from(
          await (
            await c.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/${k}` }))
          ).Body!.transformToByteArray(),
        ),
      put: async (k, d) =>
        void (await c.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${k}`, Body: d }))),
      delete: async (k) => void (await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}/${k}` }))),
      list: async (p) => {
        const out: string[] = [];
        let token: string | undefined;
        do {
          const r = await c.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/${p}`, ContinuationToken: token }),
          );
          for (const o of r.Contents ?? []) out.push(o.Key!.slice(prefix.length + 1));
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
        return out.sort();
      },
      close: () => undefined,
    };
  },
};

/** Every test that matters runs on both. */
export const TARGETS: Target[] = [local, minio];

/**
 * Deterministic pseudo-random bytes (AES-128-CTR keystream of `seed`):
 * the same seed always gives the same stream, so tests can regenerate data
 * instead of keeping it in memory.
 */
export async function* randomStream(size: number, seed: string, piece = 1 << 20): AsyncGenerator<Buffer> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(piece);
  for (let left = size; left > 0; left -= piece) yield c.update(left >= piece ? zeros : zeros.subarray(0, left));
}

/** A highly repetitive stream: `unit` over and over. */
export async function* repeatStream(size: number, unit: Buffer, piece = 1 << 20): AsyncGenerator<Buffer> {
  const block = Buffer.alloc(piece);
  for (let i = 0; i < piece; i += unit.length) unit.copy(block, i);
  let off = 0;
  for (let left = size; left > 0;) {
    // Keep the pattern continuous across pieces.
    const phase = off % unit.length;
    const n = Math.min(left, piece - unit.length);
    yield Buffer.from(block.subarray(phase, phase + n));
    off += n;
    left -= n;
  }
}

/** Collects a stream's sha256 and size as it passes (bounded memory). */
export function tap(src: AsyncIterable<Uint8Array>): {
  stream: AsyncGenerator<Uint8Array>;
  result: () => { sha256: string; size: number };
} {
  const h = createHash('sha256');
  let size = 0;
  return {
    stream: (async function* () {
      for await (const b of src) {
        h.update(b);
        size += b.length;
        yield b;
      }
    })(),
    result: () => ({ sha256: h.copy().digest('hex'), size }),
  };
}

export async function digestOf(src: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const b of src) {
    h.update(b);
    size += b.length;
  }
  return { sha256: h.digest('hex'), size };
}

export async function collectBytes(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of src) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

export async function* fromBuffer(b: Buffer, piece = 1 << 20): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += piece) yield b.subarray(i, i + piece);
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const MiB = 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const forceGc = vm.runInNewContext('gc') as () => void;

/** Live memory (JS heap + Buffers) after a full GC: what a streaming design keeps bounded. */
export function liveBytes(): number {
  forceGc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
