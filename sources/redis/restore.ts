import { openTopology, resolveOptions, versionNumber, type Topology } from './topology';
import { RecordDecoder, chunkIterator, asBuffer, type ByteSource, type DecodedRecord } from './format/reader';
import type { StreamHeader } from './format/constants';
import { writeBatch, type BatchContext, type RestoreEntry } from './restore-batch';
import { DbDigest, dbLabel } from './digest';
import { decodeDump } from './rdb/value';
import { globMatch } from './glob';
import {
  RedisBackupFormatError,
  RedisIncompatibleDumpError,
  RedisOptionsError,
  RedisUnsupportedVersionError,
  printableKey,
} from './errors';
import { mustRebuild, rebuildCommands, rebuildProblem, topologyCapabilities } from './compat';
import type { StreamOptions } from '../types';
import type { RedisConnectionOptions, RedisRestoreResult, RestoreRedisOptions } from './types';

/** Keys per write batch, and value bytes per batch. */
const BATCH_KEYS = 2000;
const BATCH_BYTES = 8 * 1024 * 1024;
/** Write batches in flight before reading more of the stream. */
const DEPTH = 6;

/** Source db → target db (undefined: db not restored), validated against the header before anything is written. */
function mapDbs(
  header: StreamHeader,
  target: RedisConnectionOptions,
  o: RestoreRedisOptions,
  topo: Topology,
): Map<number, number | undefined> {
  const map = new Map<number, number | undefined>();
  const urlDb = resolveOptions(target).urlDb;
  const targetDb = typeof target.db === 'number' ? target.db : target.db === undefined ? urlDb : undefined;
  if (o.dbMap) {
    for (const [from, to] of Object.entries(o.dbMap)) {
      if (!header.dbs.includes(Number(from))) {
        throw new RedisOptionsError(
          'dbMap',
          `db ${from} is not in this backup (it holds db ${header.dbs.join(', ') || 'none'})`,
        );
      }
      if (!Number.isInteger(to) || to < 0)
        throw new RedisOptionsError('dbMap', `target db ${String(to)} for db ${from} is not a db number`);
    }
    for (const db of header.dbs) map.set(db, o.dbMap[db]);
  } else if (targetDb !== undefined) {
    if (header.dbs.length > 1) {
      throw new RedisOptionsError(
        'db',
        `the backup holds dbs ${header.dbs.join(', ')}; to restore them into db ${targetDb} give a dbMap choosing which`,
      );
    }
    for (const db of header.dbs) map.set(db, targetDb);
  } else {
    for (const db of header.dbs) map.set(db, db);
  }
  const used = new Map<number, number>();
  for (const [from, to] of map) {
    if (to === undefined) continue;
    if (topo.cluster && to !== 0)
      throw new RedisOptionsError('db', `a Redis Cluster only has db 0; db ${from} would go to db ${to} (use dbMap)`);
    if (used.has(to))
      throw new RedisOptionsError('dbMap', `dbs ${used.get(to)} and ${from} would both go into db ${to}`);
    used.set(to, from);
  }
  return map;
}

/**
 * Restores a backup stream (docs/redis-format.md) into a server or cluster.
 * The header, db mapping, pattern and target are all checked before the
 * first write. Records are applied in pipelined batches as the stream is
 * read (memory: a few batches); each db's recorded digest is recomputed from
 * the records and a mismatch fails the restore as a corrupt backup. Keys
 * already expired are skipped. In a cluster each key goes to its slot's
 * master.
 */
export async function restoreRedis(
  input: ByteSource,
  target: RedisConnectionOptions,
  options: RestoreRedisOptions = {},
  streamOpts: StreamOptions = {},
): Promise<RedisRestoreResult> {
  const { signal, onProgress } = streamOpts;
  const replace = options.replace ?? true;
  const patternText = options.pattern ?? target.pattern;
  const pattern = patternText ? Buffer.from(patternText, 'utf8') : undefined;
  const topo = await openTopology({ ...target, db: undefined }, signal);
  const onAbort = () => topo.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const it = chunkIterator(input);
  const dec = new RecordDecoder();
  const pull = async (): Promise<boolean> => {
    signal?.throwIfAborted();
    const r = await it.next();
    if (r.done) return false;
    dec.push(asBuffer(r.value));
    return true;
  };
  const inflight: Promise<void>[] = [];
  try {
    if (versionNumber(topo.version) < 50000) {
      throw new RedisUnsupportedVersionError(topo.address, topo.version, '5.0', 'RESTORE … ABSTTL (absolute expiries)');
    }
    let header: StreamHeader | undefined;
    while (!(header = dec.header())) if (!(await pull())) dec.finish();
    const dbMap = mapDbs(header, target, options, topo);
    let selected = -1;
    const select = async (db: number) => {
      if (topo.cluster || db === selected) return;
      try {
        await topo.nodes[0].wire.call('SELECT', db);
      } catch (e) {
        throw new RedisOptionsError(
          'db',
          `db ${db} cannot be selected on Redis at ${topo.address} (${(e as Error).message})`,
        );
      }
      selected = db;
    };
    for (const to of new Set(dbMap.values())) if (to !== undefined) await select(to);

    const [sec, usec] = (await topo.nodes[0].wire.call('TIME')) as Buffer[];
    const skew = Number(sec) * 1000 + Math.floor(Number(usec) / 1000) - Date.now();
    const now = () => Date.now() + skew;
    const minExpireAt = options.minExpireAt ?? now() + 60_000;
    const pxat = versionNumber(topo.version) >= 60200;
    // Payloads newer than the target reads are rebuilt with type commands (compat.ts).
    const caps = await topologyCapabilities(topo);

    const result: RedisRestoreResult = {
      restored: 0,
      filtered: 0,
      expired: 0,
      rebuilt: 0,
      target: caps.server,
      bytes: 0,
      source: { counts: {}, digests: {} },
      fingerprint: { counts: {}, digests: {} },
      minExpireAt,
    };
    let ctx: BatchContext | undefined;
    let batch: RestoreEntry[] = [];
    let batchBytes = 0;
    let records = 0;
    const flush = async () => {
      if (!batch.length || !ctx) return;
      const p = writeBatch(ctx, batch);
      p.catch(() => undefined);
      inflight.push(p);
      result.restored += batch.length;
      batch = [];
      batchBytes = 0;
      onProgress?.({ bytes: dec.offset, items: records });
      while (inflight.length >= DEPTH) await inflight.shift();
    };

    /**
     * `check` digests every record (to verify DB_END); `out` what is written.
     * They see the same keys until the first one is left out, so `out` is
     * forked from `check` only then — one hash per key in the common case.
     */
    let db: { from: number; to: number | undefined; check: DbDigest; out?: DbDigest; forked: boolean } | undefined;
    let dbIndex = 0;
    let total = 0;
    for (;;) {
      let rec: DecodedRecord | undefined;
      while (!(rec = dec.next())) if (!(await pull())) dec.finish();
      if (rec.tag === 'key') {
        if (!db) throw new RedisBackupFormatError(rec.offset, 'key record outside a db section');
        records++;
        const { key, expireAt, value } = rec;
        if (rec.dump) {
          let decoded;
          try {
            decoded = decodeDump(value);
          } catch (e) {
            throw new RedisBackupFormatError(
              rec.offset,
              `key record holds an unusable DUMP payload (${(e as Error).message})`,
            );
          }
          const queued = batch.length;
          const out = written(rec) ? db.out : undefined;
          if (batch.length > queued && mustRebuild(value, caps)) {
            const problem = rebuildProblem(decoded, caps);
            if (problem) {
              const node = topo.nodes[0];
              throw new RedisIncompatibleDumpError(
                printableKey(key),
                value.readUInt16LE(value.length - 10),
                caps.server,
                node.address,
                problem,
              );
            }
            (rec as RestoreEntry).rebuild = rebuildCommands(key, expireAt, decoded, replace);
            result.rebuilt++;
          }
          db.check.add(key, expireAt, decoded);
          out?.add(key, expireAt, decoded);
        } else {
          const out = written(rec) ? db.out : undefined;
          db.check.addString(key, expireAt, value);
          out?.addString(key, expireAt, value);
        }
        if (batch.length >= BATCH_KEYS || batchBytes >= BATCH_BYTES) await flush();
      } else if (rec.tag === 'dbStart') {
        if (db) throw new RedisBackupFormatError(rec.offset, `db ${rec.db} starts inside db ${db.from}`);
        if (header.dbs[dbIndex] !== rec.db)
          throw new RedisBackupFormatError(
            rec.offset,
            `db section ${rec.db} where the header lists ${header.dbs[dbIndex] ?? 'no more dbs'}`,
          );
        const to = dbMap.get(rec.db);
        db = { from: rec.db, to, check: new DbDigest(), forked: false };
        if (to !== undefined) {
          await flush();
          await select(to);
          ctx = { topo, db: to, replace, pxat, now };
        }
      } else if (rec.tag === 'dbEnd') {
        if (!db || db.from !== rec.db)
          throw new RedisBackupFormatError(rec.offset, `end of db ${rec.db} without its start`);
        const hex = db.check.digest();
        if (db.check.count !== rec.keys || hex !== rec.digest) {
          throw new RedisBackupFormatError(
            rec.offset,
            `db ${rec.db} holds ${db.check.count} keys with digest ${hex.slice(0, 16)}…, but its end record says ${rec.keys} keys with ${rec.digest.slice(0, 16)}… — the backup is corrupt`,
          );
        }
        result.source.counts[dbLabel(rec.db)] = rec.keys;
        result.source.digests[dbLabel(rec.db)] = rec.digest;
        if (db.to !== undefined) {
          const out = db.forked ? db.out : undefined;
          result.fingerprint.counts[dbLabel(db.to)] = out ? out.count : db.check.count;
          result.fingerprint.digests[dbLabel(db.to)] = out ? out.digest() : hex;
        }
        total += rec.keys;
        await flush();
        db = undefined;
        dbIndex++;
      } else {
        if (db || dbIndex !== header.dbs.length || rec.dbCount !== header.dbs.length || rec.keys !== total) {
          throw new RedisBackupFormatError(
            rec.offset,
            `end record (${rec.dbCount} dbs, ${rec.keys} keys) does not match what the stream held (${dbIndex} dbs, ${total} keys)`,
          );
        }
        break;
      }
    }
    while (await pull()) {
      // push() throws on any byte after the end record
    }
    await Promise.all(inflight.splice(0));
    result.bytes = dec.received;
    onProgress?.({ bytes: result.bytes, items: records, totalItems: records });
    return result;

    /**
     * Queues the key unless its db is not restored, the pattern leaves it out
     * or it has expired (each counted); true when it goes into the
     * fingerprint of what was written (written, and not expiring before
     * minExpireAt). Call before adding the record to db.check.
     */
    function written(rec: Extract<DecodedRecord, { tag: 'key' }>): boolean {
      const d = db!;
      let queued = false;
      if (d.to === undefined || (pattern && !globMatch(pattern, rec.key))) result.filtered++;
      else if (rec.expireAt && rec.expireAt <= now()) result.expired++;
      else {
        batch.push(rec);
        batchBytes += rec.key.length + rec.value.length;
        queued = true;
      }
      const counted = queued && !(rec.expireAt && rec.expireAt < minExpireAt);
      if (!counted && !d.forked && d.to !== undefined) {
        d.out = d.check.fork();
        d.forked = true;
      }
      return counted && d.forked;
    }
  } catch (e) {
    await Promise.allSettled(inflight);
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    topo.close();
    await Promise.resolve(it.return?.()).catch(() => undefined);
  }
}
