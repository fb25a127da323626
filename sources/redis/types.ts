import type { SourceFingerprint } from '../types';

/**
 * Where a Redis source or target lives. The password is passed as a value
 * (the caller resolved it from an env var or a file); it is never logged nor
 * put into error messages.
 */
export interface RedisConnectionOptions {
  /** `redis://[user[:password]@]host[:port][/db]`; `rediss://` turns TLS on. @default "redis://127.0.0.1:6379" */
  url?: string;
  /** Seed nodes of a Redis Cluster; when set, `url`'s host and port are ignored. */
  cluster?: { host: string; port: number }[];
  password?: string;
  username?: string;
  /** TLS to the server(s) (certificates are verified). @default false, or true for a `rediss://` url */
  tls?: boolean;
  /**
   * Backup/fingerprint: the db to read, or `'all'` for every non-empty db.
   * Restore target: the db to write into, or `'all'`/unset to keep each db's number.
   * @default 0 (backup), unset (restore)
   */
  db?: number | 'all';
  /** Key glob in Redis MATCH syntax (`*`, `?`, `[a-z]`, `\\` escapes). @default every key */
  pattern?: string;
  /** @default 10000 */
  connectTimeoutMs?: number;
  /**
   * Backup only — how keys are read: `sync` the server's own RDB snapshot over the replication protocol
   * (point in time; fails when SYNC/PSYNC are refused), `scan` SCAN + DUMP (works everywhere, fuzzy on a
   * live server), `auto` sync where the server allows it, else scan. @default 'scan'
   */
  capture?: 'auto' | 'sync' | 'scan';
  /** Backup with capture sync: where the snapshot is spooled while it is turned into records. @default the OS temp dir */
  scratchDir?: string;
}

/** What a backup recorded; goes into the artifact's metadata. */
export interface RedisBackupInfo {
  /** Record format version of the stream (docs/redis-format.md). */
  format: 1;
  /** `redis_version` of the source (lowest one in a cluster). */
  redisVersion: string;
  cluster: boolean;
  /** Dbs in the stream, ascending. */
  dbs: number[];
  pattern?: string;
  /** Keys written to the stream. */
  keys: number;
  /** Keys SCAN listed that were gone (deleted or expired) when read. */
  vanished: number;
  /** Keys whose record is a DUMP payload (every type but plain strings). */
  dumped: number;
  /** Stream length. */
  bytes: number;
  /** How the keys were read: `sync` the server's RDB snapshot (point in time), `scan` SCAN + DUMP. Absent in older backups (scan). */
  capture?: 'sync' | 'scan';
  /** Why capture `auto` used SCAN (e.g. SYNC refused), or which command delivered the snapshot. */
  captureNote?: string;
  /** How expiries were read: exact PEXPIRETIME (Redis ≥ 7) or PTTL + server TIME. */
  expirySource: 'pexpiretime' | 'pttl';
  /** Per db (`db0`, …): key count and canonical content digest. */
  fingerprint: SourceFingerprint;
  /**
   * Keys of types the adapter cannot decode (modules other than vector sets, RDB types newer than it
   * knows), per type name: stored and restored as their DUMP payload, digested as bytes.
   */
  passedThrough?: Record<string, number>;
  startedAt: string;
  finishedAt: string;
}

export interface RestoreRedisOptions {
  /** Only keys matching this glob are restored. @default every key (or the target options' `pattern`) */
  pattern?: string;
  /**
   * Source db → target db. When given, only the dbs it lists are restored.
   * @default each db into the target options' `db` when that is a number, else into the same number
   */
  dbMap?: Record<number, number>;
  /** Overwrite keys that exist in the target; false fails on the first existing key (BUSYKEY). @default true */
  replace?: boolean;
  /**
   * Keys expiring before this unix-ms time are restored but left out of the
   * returned `fingerprint`, so a fingerprint of the target taken soon after
   * with the same `minExpireAt` compares equal even while TTLs run out.
   * @default restore start + 60000
   */
  minExpireAt?: number;
}

export interface RedisRestoreResult {
  /** Keys written to the target. */
  restored: number;
  /** Keys left out by the pattern or because their db was not mapped. */
  filtered: number;
  /** Keys whose expiry had passed by restore time (not written). */
  expired: number;
  /** Keys whose DUMP payload was newer than the target reads, rebuilt with type commands instead of RESTORE. */
  rebuilt: number;
  /** The target, as `Redis 7.0.15` / `Valkey 8.1.8`. */
  target: string;
  /** Bytes of backup stream read. */
  bytes: number;
  /** Counts and digests of the stream as recorded (each verified while reading). */
  source: SourceFingerprint;
  /** Fingerprint of exactly what was written (target db numbers, keys expiring before `minExpireAt` left out). */
  fingerprint: SourceFingerprint;
  /** The `minExpireAt` used for `fingerprint`; pass it to `fingerprintRedis`. */
  minExpireAt: number;
}

export interface FingerprintRedisOptions {
  signal?: AbortSignal;
  /** Leave out keys expiring before this unix-ms time (see RestoreRedisOptions.minExpireAt). @default none left out */
  minExpireAt?: number;
}
