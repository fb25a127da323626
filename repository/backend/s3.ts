import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  ListObjectVersionsCommand,
  HeadObjectCommand,
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  BackendAccessDeniedError,
  BackendError,
  InvalidArgumentError,
  MissingObjectError,
  ObjectLockNotEnabledError,
  ObjectLockedError,
} from '../errors';
import { PATHS } from '../format';
import type { S3Options } from '../types';
import { withRetry, type RetryPolicy } from './retry';
import type { Backend, ObjectInfo, PutOptions } from './types';

const MIN_PART = 5 * 1024 * 1024;

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const isNotFound = (e: unknown) => status(e) === 404 || ['NoSuchKey', 'NotFound'].includes((e as Error)?.name);
const ACCESS_DENIED = ['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AccessDenied', 'InvalidToken', 'ExpiredToken'];
const isAccessDenied = (e: unknown) => status(e) === 403 || ACCESS_DENIED.includes((e as Error)?.name);
const isNoSuchBucket = (e: unknown) => (e as Error)?.name === 'NoSuchBucket';
/** Objects written once and never changed: the ones Object Lock retains. Locks, holds, keys and records stay mutable. */
const IMMUTABLE = [PATHS.data, PATHS.artifacts, PATHS.points];
const isImmutable = (key: string) => key === PATHS.config || IMMUTABLE.some((p) => key.startsWith(p));
const isRefusedRequest = (e: unknown) => status(e) === 400 || (e as Error)?.name === 'InvalidRequest';
const isPreconditionFailed = (e: unknown) => status(e) === 412 || (e as Error)?.name === 'PreconditionFailed';

function crc32Base64(parts: Buffer[]): string {
  let c = 0;
  for (const p of parts) c = crc32(p, c);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(c >>> 0, 0);
  return b.toString('base64');
}

/**
 * A repository in an S3 bucket under a prefix. Whole-object PUTs are atomic in
 * S3; objects over `multipartThreshold` go as multipart uploads (completed
 * atomically too). Each PUT carries a CRC32 the server checks, so a body
 * damaged in transit is refused rather than stored.
 */
export class S3Backend implements Backend {
  readonly kind = 's3' as const;
  readonly timeResolutionMs = 1000;
  readonly location: string;
  private readonly client: S3Client;
  private readonly root: string;
  private readonly threshold: number;
  private readonly retry: RetryPolicy;
  readonly objectLockRetentionMs?: number;

  constructor(
    readonly bucket: string,
    prefix: string,
    private readonly opts: S3Options = {},
  ) {
    this.root = prefix.replace(/^\/+|\/+$/g, '');
    this.location = `s3://${bucket}${this.root ? `/${this.root}` : ''}${opts.endpoint ? ` (${opts.endpoint})` : ''}`;
    if (opts.sse !== undefined && opts.sse !== 'AES256' && opts.sse !== 'aws:kms')
      throw new InvalidArgumentError('s3.sse', `must be "AES256" or "aws:kms", got ${JSON.stringify(opts.sse)}`);
    if (opts.kmsKeyId && opts.sse !== 'aws:kms')
      throw new InvalidArgumentError('s3.kmsKeyId', 'is only used with sse: "aws:kms"');
    const lock = opts.objectLock;
    if (
      lock !== undefined &&
      (!['governance', 'compliance'].includes(lock.mode) ||
        !Number.isInteger(lock.retentionMs) ||
        lock.retentionMs < 1000)
    )
      throw new InvalidArgumentError(
        's3.objectLock',
        `must be { mode: "governance" | "compliance", retentionMs: integer >= 1000 }, got ${JSON.stringify(lock)}`,
      );
    this.objectLockRetentionMs = lock?.retentionMs;
    this.threshold = Math.max(MIN_PART, opts.multipartThreshold ?? 16 * 1024 * 1024);
    this.retry = { attempts: opts.maxAttempts ?? 5, baseMs: 200, maxMs: 5000 };
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
      credentials: opts.credentials,
      // Retries are ours (withRetry) so that reading the body is retried too.
      maxAttempts: 1,
      // We send our own CRC32 (native zlib) instead of the SDK's JS checksum, which would cost more CPU than the rest of the write path.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private full(key: string): string {
    return this.root ? `${this.root}/${key}` : key;
  }

  private async op<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(fn, this.retry);
    } catch (e) {
      if (e instanceof MissingObjectError || e instanceof BackendError) throw e;
      if (isAccessDenied(e)) throw new BackendAccessDeniedError(this.location, operation, key, e);
      throw new BackendError(this.location, operation, key, e);
    }
  }

  private sseParams(): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
    return { ServerSideEncryption: this.opts.sse, SSEKMSKeyId: this.opts.kmsKeyId };
  }

  /** Retention headers for a new object (none for mutable ones, or without objectLock). */
  private lockParams(key: string): Pick<PutObjectCommandInput, 'ObjectLockMode' | 'ObjectLockRetainUntilDate'> {
    const lock = this.opts.objectLock;
    if (!lock || !isImmutable(key)) return {};
    return {
      ObjectLockMode: lock.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
      ObjectLockRetainUntilDate: new Date(Date.now() + lock.retentionMs),
    };
  }

  async prepare(): Promise<void> {
    // Like restic: a missing bucket is created (init); otherwise fail early (and clearly) if it is unreachable.
    await this.op('list', '', async () => {
      try {
        await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.full(''), MaxKeys: 1 }));
      } catch (e) {
        if (!isNoSuchBucket(e)) throw e;
        // Object Lock can only be switched on at creation (on most servers): do it when it is configured.
        await this.client.send(
          new CreateBucketCommand({
            Bucket: this.bucket,
            ...(this.opts.objectLock ? { ObjectLockEnabledForBucket: true } : {}),
          }),
        );
      }
    });
    await this.checkObjectLock();
  }

  /**
   * Moves the current version's retain-until to now + retention (never earlier: S3 refuses shortening,
   * and a later date already set is kept). Returns false for an object that does not exist.
   */
  async extendRetention(key: string): Promise<boolean> {
    const lockParams = this.lockParams(key);
    if (!lockParams.ObjectLockMode) return false;
    return this.op('extend retention of', key, async () => {
      try {
        await this.client.send(
          new PutObjectRetentionCommand({
            Bucket: this.bucket,
            Key: this.full(key),
            Retention: { Mode: lockParams.ObjectLockMode, RetainUntilDate: lockParams.ObjectLockRetainUntilDate },
          }),
        );
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    });
  }

  /** With objectLock configured: refuses (before anything is written) a bucket that cannot hold locked objects. */
  async checkObjectLock(): Promise<void> {
    if (!this.opts.objectLock) return;
    const conf = await this.op('read object lock configuration of', '', async () => {
      try {
        return await this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }));
      } catch (e) {
        const name = (e as Error)?.name ?? '';
        if (
          name === 'ObjectLockConfigurationNotFoundError' ||
          /ObjectLockConfiguration/i.test(name) ||
          status(e) === 404
        )
          return undefined;
        throw e;
      }
    });
    if (conf?.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled')
      throw new ObjectLockNotEnabledError(this.location, this.bucket, 'was not created with Object Lock enabled');
  }

  async get(key: string): Promise<Buffer> {
    return this.op('read', key, async () => {
      try {
        const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
        const bytes = await r.Body!.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (e) {
        if (isNotFound(e)) throw new MissingObjectError(key, this.location);
        throw e;
      }
    });
  }

  async put(key: string, data: Buffer | Buffer[], opts: PutOptions = {}): Promise<boolean> {
    const parts = Array.isArray(data) ? data : [data];
    const size = parts.reduce((a, b) => a + b.length, 0);
    return this.op('write', key, async () => {
      try {
        if (size > this.threshold && !opts.ifAbsent) {
          const up = new Upload({
            client: this.client,
            params: {
              Bucket: this.bucket,
              Key: this.full(key),
              Body: parts.length === 1 ? parts[0] : Buffer.concat(parts),
              ...this.sseParams(),
              ...this.lockParams(key),
              // Object Lock needs an integrity checksum on every part; the SDK computes it then.
              ...(this.opts.objectLock ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
            },
            partSize: Math.max(MIN_PART, Math.ceil(this.threshold / 2)),
            queueSize: 4,
            leavePartsOnError: false,
          });
          await up.done();
        } else {
          await this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: this.full(key),
              // Parts are streamed, not concatenated (a fresh stream per attempt): no extra copy per chunk in flight.
              Body: parts.length === 1 ? parts[0] : Readable.from(parts, { objectMode: false }),
              ContentLength: size,
              ChecksumCRC32: crc32Base64(parts),
              IfNoneMatch: opts.ifAbsent ? '*' : undefined,
              ...this.sseParams(),
              ...this.lockParams(key),
            }),
          );
        }
        return true;
      } catch (e) {
        if (opts.ifAbsent && isPreconditionFailed(e)) return false;
        throw e;
      }
    });
  }

  async putLater(key: string, data: Buffer | Buffer[]): Promise<{ done: Promise<void> }> {
    await this.put(key, data);
    return { done: Promise.resolve() };
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    return this.op('stat', key, async () => {
      try {
        const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
        return { key, size: r.ContentLength ?? 0, mtime: r.LastModified?.getTime() ?? 0 };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const cut = this.root ? this.root.length + 1 : 0;
    let token: string | undefined;
    do {
      const page = await this.op('list', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.full(prefix), ContinuationToken: token }),
        ),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key.slice(cut), size: o.Size ?? 0, mtime: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async *listKeys(prefix: string): AsyncIterable<string> {
    for await (const o of this.list(prefix)) yield o.key;
  }

  async delete(key: string): Promise<void> {
    if (this.opts.objectLock) return this.deleteVersions(key);
    await this.op('delete', key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.full(key) })),
    );
  }

  /**
   * On an Object Lock bucket (always versioned) a plain DeleteObject only adds a delete marker and keeps
   * the data: every version of the key is deleted by id instead. A version still under retention is
   * refused by S3; it is kept (with the others that are locked) and ObjectLockedError names the latest
   * retain-until date, so callers skip and report it.
   */
  private async deleteVersions(key: string): Promise<void> {
    const full = this.full(key);
    let lockedUntil: Date | undefined;
    let locked = false;
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await this.op('list versions of', key, () =>
        this.client.send(
          new ListObjectVersionsCommand({
            Bucket: this.bucket,
            Prefix: full,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        ),
      );
      const ids = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
        .filter((v) => v.Key === full)
        .map((v) => v.VersionId);
      for (const VersionId of ids) {
        const refused = await this.op('delete', key, async () => {
          try {
            await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: full, VersionId }));
            return false;
          } catch (e) {
            // AWS answers 403 AccessDenied, MinIO 400 InvalidRequest ("Object is WORM protected"):
            // locked, or a real permission problem; the version's retention tells which.
            if (!isAccessDenied(e) && !isRefusedRequest(e)) throw e;
            const head = await this.client
              .send(new HeadObjectCommand({ Bucket: this.bucket, Key: full, VersionId }))
              .catch(() => undefined);
            const until = head?.ObjectLockRetainUntilDate;
            if (head?.ObjectLockLegalHoldStatus === 'ON' || (until && until.getTime() > Date.now())) {
              if (until && (!lockedUntil || until > lockedUntil)) lockedUntil = until;
              return true;
            }
            throw e;
          }
        });
        locked ||= refused;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    if (locked) throw new ObjectLockedError(key, this.location, lockedUntil?.toISOString());
  }

  async flush(): Promise<void> {}

  // Interrupted multipart uploads are aborted by lib-storage on error; a
  // crashed process can leave parts behind, which a bucket lifecycle rule
  // (AbortIncompleteMultipartUpload) should clean. Nothing else is partial on S3.
  async cleanupPartial(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
