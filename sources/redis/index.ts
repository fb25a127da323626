/**
 * Redis source adapter: logical backup (SCAN + MGET/DUMP + PEXPIRETIME) into
 * the stream format of docs/redis-format.md, restore (MSET/SET/RESTORE …
 * ABSTTL), and content fingerprints that prove a restore exact. Works on a
 * standalone server (any db, or all) and on a Redis Cluster.
 */
export { backupRedis } from './backup';
export { restoreRedis } from './restore';
export { fingerprintRedis } from './fingerprint';
export { clearRedisScope, pingRedis } from './clear';
export { inspectRedisBackup, type RedisBackupSummary } from './inspect';
export { checkRedisTarget, type RedisTargetCheck } from './restore-check';
export type {
  RedisConnectionOptions,
  RedisBackupInfo,
  RestoreRedisOptions,
  RedisRestoreResult,
  FingerprintRedisOptions,
} from './types';
export {
  RedisSourceError,
  RedisUnreachableError,
  RedisAuthError,
  RedisConnectionLostError,
  RedisCommandError,
  RedisOptionsError,
  RedisUnsupportedVersionError,
  RedisClusterError,
  RedisBusyKeyError,
  RedisIncompatibleDumpError,
  RedisRestoreRejectedError,
  RedisBackupFormatError,
} from './errors';
