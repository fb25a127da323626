/** One stored object as a listing returns it. */
export interface ObjectInfo {
  /** Name relative to the repository root, e.g. `data/3f/3f9a…`. */
  key: string;
  /** Stored bytes. */
  size: number;
  /** Storage clock time of the last write, ms since the epoch (S3 LastModified / file mtime). */
  mtime: number;
}

export interface PutOptions {
  /** Write only if no object has that name; put() then returns false when one exists. @default false */
  ifAbsent?: boolean;
}

/**
 * What the repository needs of a storage: whole-object get/put (objects are
 * small: chunks are at most a few MiB), listing with sizes and times, delete.
 * put is atomic: a reader sees the old object, no object, or the whole new one.
 */
export interface Backend {
  /** Printable location, without credentials. */
  readonly location: string;
  readonly kind: 'local' | 's3';
  /** Resolution of `mtime`, ms (S3 LastModified may be truncated to seconds). */
  readonly timeResolutionMs: number;
  /** Creates the root (a folder; a missing S3 bucket), then checks it as checkObjectLock does. */
  prepare(): Promise<void>;
  /** S3 with objectLock: ObjectLockNotEnabledError if the bucket cannot hold locked objects. */
  checkObjectLock?(): Promise<void>;
  /** S3 with objectLock: the configured retention, ms. */
  readonly objectLockRetentionMs?: number;
  /** S3 with objectLock: retains the object until now + retention; false if it does not exist. */
  extendRetention?(key: string): Promise<boolean>;
  /** The object's bytes; MissingObjectError if it does not exist. */
  get(key: string): Promise<Buffer>;
  /** Writes atomically (the parts, concatenated); false only with ifAbsent when the object already exists. */
  put(key: string, data: Buffer | Buffer[], opts?: PutOptions): Promise<boolean>;
  /**
   * Like put, but the object may become durable and visible later: `done`
   * settles when it is (and rejects if that failed). Lets a local disk fsync in
   * the background, with bounded lag, while the writer goes on.
   */
  putLater(key: string, data: Buffer | Buffer[]): Promise<{ done: Promise<void> }>;
  /** undefined when the object does not exist. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose name starts with `prefix` (a folder prefix ending in '/'), in no particular order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Names only (cheaper than list on a local disk: no stat per file). */
  listKeys(prefix: string): AsyncIterable<string>;
  /** Idempotent. */
  delete(key: string): Promise<void>;
  /** Makes every object written so far durable (waits for putLater objects; their failures go to their `done`). */
  flush(): Promise<void>;
  /** Removes leftovers of interrupted writes older than `before` (storage time); returns how many (with dryRun: counts only). */
  cleanupPartial(before: number, opts?: { dryRun?: boolean }): Promise<number>;
  close(): Promise<void>;
}
