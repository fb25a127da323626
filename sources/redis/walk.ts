import { openTopology, dbsToRead, keyspace, versionNumber, type Topology } from './topology';
import { collectKeys } from './keyspace';
import * as reader from './key-reader';
import type { ExpiryMode, ExpiryPolicy } from './key-reader';
import { DbDigest, dbLabel } from './digest';
import { decodeDump, KNOWN_RDB_TYPES, type LogicalValue } from './rdb/value';
import { canonicalDump } from './rdb/canonical';
import { type RecordWriter } from './format/writer';
import * as C from './format/constants';
import { RedisOptionsError } from './errors';
import type { SourceFingerprint, SourceProgress } from '../types';
import type { RedisConnectionOptions } from './types';

// Bound once: under tsx's CommonJS interop every use of an imported binding is a getter call, which shows in per-key loops.
const { readKeys, Kind } = reader;
const { STRING, DUMP } = C.RecordTag;

export interface WalkOptions {
  signal?: AbortSignal;
  onProgress?: (p: SourceProgress) => void;
  /** When given, records are encoded into it (a backup); otherwise only digests are computed (a fingerprint). */
  writer?: RecordWriter;
  /** Keys expiring before this unix-ms time are left out of the digest. */
  minExpireAt?: number;
}

export interface WalkResult {
  redisVersion: string;
  cluster: boolean;
  dbs: number[];
  keys: number;
  vanished: number;
  dumped: number;
  expirySource: ExpiryMode;
  fingerprint: SourceFingerprint;
  /** How the keys were read: SCAN + DUMP (a fuzzy snapshot), or the server's own RDB snapshot over SYNC/PSYNC (point in time). */
  capture: 'scan' | 'sync';
  /** Why a `capture: auto` backup fell back to SCAN, if it did. */
  captureNote?: string;
  /** The replication command that delivered the snapshot (capture sync). */
  captureCommand?: 'SYNC' | 'PSYNC';
  /** Keys of types this adapter cannot decode (modules other than vector sets, future RDB types), by type name: kept as their DUMP payload. */
  passedThrough: Record<string, number>;
}

/** The name a value of a type this adapter cannot decode is reported under, or undefined for a known type. */
export function unknownTypeName(v: LogicalValue): string | undefined {
  if (v.kind !== 'opaque') return undefined;
  if (v.module) return `module type ${v.module}`;
  return KNOWN_RDB_TYPES.has(v.rdbType) ? undefined : `RDB type ${v.rdbType}`;
}

async function selectDb(topo: Topology, db: number): Promise<void> {
  if (topo.cluster) return;
  try {
    await topo.nodes[0].wire.call('SELECT', db);
  } catch (e) {
    throw new RedisOptionsError(
      'db',
      `db ${db} cannot be selected on Redis at ${topo.address} (${(e as Error).message})`,
    );
  }
}

/**
 * Records one key: encodes it (a backup) and digests it. `value` is a plain
 * string's bytes or a DUMP payload. Shared by the SCAN walk and the SYNC
 * snapshot walk, so both give the same records and digests for the same data.
 */
export function emitKey(
  w: RecordWriter | undefined,
  digest: DbDigest,
  result: WalkResult,
  minExpireAt: number,
  isString: boolean,
  key: string | Buffer,
  exp: number,
  raw: Buffer,
): void {
  // Hash-table hashes and sets dump in an order set by the server's random seed: put them in canonical order so unchanged data gives unchanged bytes.
  const value = !isString && w ? canonicalDump(raw) : raw;
  w?.key(isString ? STRING : DUMP, key, exp, value);
  result.keys++;
  if (isString) {
    if (!(exp && exp < minExpireAt)) digest.addString(key, exp, value);
    return;
  }
  result.dumped++;
  const decoded = decodeDump(value);
  // Never silently mangled: a type we cannot read is kept byte for byte and named in the summary.
  const unknown = unknownTypeName(decoded);
  if (unknown) result.passedThrough[unknown] = (result.passedThrough[unknown] ?? 0) + 1;
  if (!(exp && exp < minExpireAt)) digest.add(key, exp, decoded);
}

/**
 * Reads a source db by db in canonical key order, digesting every key and,
 * for a backup, encoding its record. Yields the encoded chunks after each
 * batch so the caller's stream applies backpressure between batches. Backup
 * and fingerprint share this walk, so a fingerprint of the target is computed
 * exactly like the one recorded at backup.
 */
export async function* walkSource(
  opts: RedisConnectionOptions,
  o: WalkOptions,
  result: WalkResult,
): AsyncGenerator<Buffer[]> {
  const topo = await openTopology(opts, o.signal);
  const onAbort = () => topo.close();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const dbs = await dbsToRead(opts, topo);
    const mode: ExpiryMode = versionNumber(topo.version) >= 70000 ? 'pexpiretime' : 'pttl';
    Object.assign(result, { redisVersion: topo.version, cluster: topo.cluster, dbs, expirySource: mode });
    const pattern = opts.pattern ? Buffer.from(opts.pattern, 'utf8') : undefined;
    const w = o.writer;
    const minExpireAt = o.minExpireAt ?? 0;
    w?.header({ cluster: topo.cluster, redisVersion: topo.version, pattern: opts.pattern ?? '', dbs });
    let done = 0;
    for (const db of dbs) {
      await selectDb(topo, db);
      const volatile = await Promise.all(topo.nodes.map(async (n) => (await keyspace(n.wire)).get(db)?.expires ?? 0));
      const policy: ExpiryPolicy = { mode, db, skip: volatile.every((v) => v === 0) };
      const keys = await collectKeys(topo, pattern, {
        signal: o.signal,
        // Heartbeat while listing: nothing is emitted until the db's keys are sorted.
        onKeys: (n) => o.onProgress?.({ bytes: w?.total ?? 0, items: done, totalItems: done + n }),
      });
      const totalItems = done + keys.keys.length;
      w?.dbStart(db);
      const digest = new DbDigest();
      for await (const batch of readKeys(topo, keys, policy, { signal: o.signal })) {
        const { kinds, values, expireAt } = batch;
        for (let j = 0; j < kinds.length; j++) {
          const kind = kinds[j];
          if (kind === Kind.vanished) {
            result.vanished++;
            continue;
          }
          emitKey(w, digest, result, minExpireAt, kind === Kind.string, batch.keys[j], expireAt[j], values[j]!);
        }
        done += batch.to - batch.from;
        yield w ? w.take() : [];
        o.onProgress?.({ bytes: w?.total ?? 0, items: done, totalItems });
      }
      const hex = digest.digest();
      result.fingerprint.counts[dbLabel(db)] = digest.count;
      result.fingerprint.digests[dbLabel(db)] = hex;
      w?.dbEnd(db, digest.count, hex);
    }
    w?.end(dbs.length, result.keys);
    yield w ? w.take() : [];
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    topo.close();
  }
}

export function emptyWalkResult(): WalkResult {
  return {
    redisVersion: '',
    cluster: false,
    dbs: [],
    keys: 0,
    vanished: 0,
    dumped: 0,
    expirySource: 'pexpiretime',
    fingerprint: { counts: {}, digests: {} },
    passedThrough: {},
    capture: 'scan',
  };
}
