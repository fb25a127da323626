import { walkSource, emptyWalkResult } from './walk';
import type { SourceFingerprint } from '../types';
import type { FingerprintRedisOptions, RedisConnectionOptions } from './types';

/**
 * Key count and content digest per db (`db0`, …) of a live server or
 * cluster, computed exactly as a backup computes the fingerprint it records
 * (same key order, same canonical encoding), so equal digests mean equal
 * keys, types, values and expiries (to the second). Reads every value once.
 */
export async function fingerprintRedis(
  opts: RedisConnectionOptions,
  o: FingerprintRedisOptions = {},
): Promise<SourceFingerprint> {
  const result = emptyWalkResult();
  for await (const _ of walkSource(opts, { signal: o.signal, minExpireAt: o.minExpireAt }, result)) {
    // digests accumulate inside the walk
  }
  return result.fingerprint;
}
