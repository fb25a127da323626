import { LifeboatError } from '../../lib/errors';

/**
 * Errors of the Redis adapter. `retryable` (from LifeboatError) tells the
 * activity whether trying again can help; bad input — wrong address,
 * credentials, options, a corrupt backup — is never retryable.
 */
export abstract class RedisSourceError extends LifeboatError {}

/** Printable form of a binary key: printable ASCII kept, other bytes as \xNN, long keys cut. */
export function printableKey(key: Buffer | string, max = 120): string {
  const b = typeof key === 'string' ? Buffer.from(key, 'latin1') : key;
  let out = '';
  for (let i = 0; i < b.length && out.length < max; i++) {
    const c = b[i];
    out +=
      c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c
        ? String.fromCharCode(c)
        : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${out}${out.length >= max && b.length > max ? '…' : ''}"`;
}

/** Nothing answers at the address (refused, unknown host, timeout). */
export class RedisUnreachableError extends RedisSourceError {
  constructor(
    readonly address: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Redis at ${address} is unreachable (${reason}): check the host, port and TLS setting, and that the server is running`,
      'REDIS_UNREACHABLE',
      options,
    );
  }
}

/** The server refused the credentials, or wants some and got none. */
export class RedisAuthError extends RedisSourceError {
  constructor(
    readonly address: string,
    readonly username: string | undefined,
    reply: string,
  ) {
    super(
      `Redis at ${address} refused authentication${username ? ` as user "${username}"` : ''}: ${reply} — check the password (and username) Lifeboat is given`,
      'REDIS_AUTH',
    );
  }
}

/** The connection broke while work was under way; trying again may succeed. */
export class RedisConnectionLostError extends RedisSourceError {
  constructor(
    readonly address: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`connection to Redis at ${address} was lost: ${reason}`, 'REDIS_CONNECTION_LOST', {
      ...options,
      retryable: true,
    });
  }
}

const TRANSIENT = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|MOVED|ASK)\b/;

/** A command failed in a way not covered by a more specific error. */
export class RedisCommandError extends RedisSourceError {
  constructor(
    readonly address: string,
    readonly command: string,
    readonly reply: string,
  ) {
    super(`Redis at ${address} rejected ${command}: ${reply}`, 'REDIS_COMMAND', { retryable: TRANSIENT.test(reply) });
  }
}

/** Options that cannot work (bad db number, cluster with db ≠ 0, conflicting dbMap, …). */
export class RedisOptionsError extends RedisSourceError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid Redis option ${option}: ${message}`, 'REDIS_INVALID_OPTIONS');
  }
}

/** The server is too old for what is asked (e.g. RESTORE … ABSTTL needs Redis 5.0). */
export class RedisUnsupportedVersionError extends RedisSourceError {
  constructor(
    readonly address: string,
    readonly version: string,
    readonly needed: string,
    what: string,
  ) {
    super(
      `Redis at ${address} is version ${version}; ${what} needs Redis ${needed} or newer`,
      'REDIS_UNSUPPORTED_VERSION',
    );
  }
}

/** Cluster not usable: slots uncovered, or the topology changed under the job (retry once it settles). */
export class RedisClusterError extends RedisSourceError {
  constructor(
    readonly address: string,
    message: string,
    retryable: boolean,
  ) {
    super(`Redis Cluster (${address}): ${message}`, 'REDIS_CLUSTER', { retryable });
  }
}

/** RESTORE without REPLACE hit an existing key. */
export class RedisBusyKeyError extends RedisSourceError {
  constructor(
    readonly key: string,
    readonly db: number,
    readonly address: string,
  ) {
    super(
      `key ${key} already exists in db ${db} of Redis at ${address}: restore with replace=true to overwrite, or into an empty db`,
      'REDIS_BUSY_KEY',
    );
  }
}

/** A DUMP payload carries an RDB version the target cannot read (the source Redis is newer). */
export class RedisIncompatibleDumpError extends RedisSourceError {
  constructor(
    readonly key: string,
    readonly payloadRdbVersion: number,
    /** `Redis 7.0.15`, `Valkey 8.1.8`. */
    readonly targetServer: string,
    readonly address: string,
    /** Set when the key cannot be rebuilt with commands either (what it is, and what the target lacks). */
    readonly cannotRebuild?: string,
  ) {
    super(
      cannotRebuild
        ? `${targetServer} at ${address} cannot take key ${key}: it is ${cannotRebuild}, and its DUMP payload (RDB v${payloadRdbVersion}) is newer than the target reads — restore into a server that has this type, or leave the key out with a pattern`
        : `${targetServer} at ${address} cannot read key ${key}: its DUMP payload is RDB format v${payloadRdbVersion}, written by a newer server — restore into a server at least as new as the backup's source`,
      'REDIS_INCOMPATIBLE_DUMP',
    );
  }
}

/** The target refused a write for another reason (OOM, READONLY replica, ACL, …). */
export class RedisRestoreRejectedError extends RedisSourceError {
  constructor(
    readonly key: string,
    readonly db: number,
    readonly address: string,
    readonly reply: string,
  ) {
    super(`Redis at ${address} refused to restore key ${key} into db ${db}: ${reply}`, 'REDIS_RESTORE_REJECTED', {
      retryable: TRANSIENT.test(reply),
    });
  }
}

/** The backup stream is not a Lifeboat Redis stream, or is truncated or corrupt. */
export class RedisBackupFormatError extends RedisSourceError {
  constructor(
    /** Byte offset in the stream where the problem was found. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`Redis backup stream is unusable at byte ${offset}: ${reason}`, 'REDIS_BACKUP_FORMAT');
  }
}
