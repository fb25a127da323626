import { RecordDecoder, chunkIterator, asBuffer, type ByteSource } from './format/reader';
import { DbDigest, dbLabel } from './digest';
import { decodeDump } from './rdb/value';
import { RedisBackupFormatError } from './errors';
import type { SourceFingerprint, StreamOptions } from '../types';

export interface RedisBackupSummary {
  redisVersion: string;
  cluster: boolean;
  pattern: string;
  dbs: number[];
  keys: number;
  /** Keys stored as DUMP payloads (non-strings). */
  dumped: number;
  bytes: number;
  /** As recorded, each verified against the records. */
  fingerprint: SourceFingerprint;
}

/**
 * Reads a backup stream end to end without touching any server: checks its
 * structure and recomputes every db's digest from the records (a corrupt or
 * truncated stream throws RedisBackupFormatError with the offset). Use it to
 * verify a recovery point, or before a restore that must not start on bad data.
 */
export async function inspectRedisBackup(input: ByteSource, o: StreamOptions = {}): Promise<RedisBackupSummary> {
  const dec = new RecordDecoder();
  const it = chunkIterator(input);
  const pull = async () => {
    o.signal?.throwIfAborted();
    const r = await it.next();
    if (r.done) return false;
    dec.push(asBuffer(r.value));
    return true;
  };
  try {
    let h;
    while (!(h = dec.header())) if (!(await pull())) dec.finish();
    const out: RedisBackupSummary = {
      redisVersion: h.redisVersion,
      cluster: h.cluster,
      pattern: h.pattern,
      dbs: h.dbs,
      keys: 0,
      dumped: 0,
      bytes: 0,
      fingerprint: { counts: {}, digests: {} },
    };
    let digest: DbDigest | undefined;
    let current = -1;
    let seenDbs = 0;
    for (;;) {
      let rec;
      while (!(rec = dec.next())) if (!(await pull())) dec.finish();
      if (rec.tag === 'key') {
        if (!digest) throw new RedisBackupFormatError(rec.offset, 'key record outside a db section');
        if (rec.dump) {
          out.dumped++;
          digest.add(rec.key, rec.expireAt, decodeDump(rec.value));
        } else digest.addString(rec.key, rec.expireAt, rec.value);
        if ((out.keys++ & 0xfff) === 0) o.onProgress?.({ bytes: dec.offset, items: out.keys });
      } else if (rec.tag === 'dbStart') {
        if (digest || h.dbs[seenDbs] !== rec.db)
          throw new RedisBackupFormatError(rec.offset, `unexpected start of db ${rec.db}`);
        digest = new DbDigest();
        current = rec.db;
      } else if (rec.tag === 'dbEnd') {
        if (!digest || rec.db !== current)
          throw new RedisBackupFormatError(rec.offset, `end of db ${rec.db} without its start`);
        const hex = digest.digest();
        if (hex !== rec.digest || digest.count !== rec.keys) {
          throw new RedisBackupFormatError(
            rec.offset,
            `db ${rec.db} content does not match its recorded digest and count — the backup is corrupt`,
          );
        }
        out.fingerprint.counts[dbLabel(rec.db)] = rec.keys;
        out.fingerprint.digests[dbLabel(rec.db)] = rec.digest;
        digest = undefined;
        seenDbs++;
      } else {
        if (digest || seenDbs !== h.dbs.length || rec.keys !== out.keys || rec.dbCount !== seenDbs) {
          throw new RedisBackupFormatError(rec.offset, 'end record does not match the stream it closes');
        }
        break;
      }
    }
    while (await pull()) {
      // push() throws on any byte after the end record
    }
    out.bytes = dec.received;
    return out;
  } finally {
    await Promise.resolve(it.return?.()).catch(() => undefined);
  }
}
