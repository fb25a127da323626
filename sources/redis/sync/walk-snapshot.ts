import { readSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openTopology, resolveOptions } from '../topology';
import { DbDigest, dbLabel } from '../digest';
import { crc64 } from '../rdb/crc64';
import { decodeDump } from '../rdb/value';
import { globMatch } from '../glob';
import { keySlotLatin1 } from '../slot';
import { RedisOptionsError } from '../errors';
import { emitKey, type WalkOptions, type WalkResult } from '../walk';
import { fetchSnapshot } from './replication';
import { scanRdbFile, type RdbEntry } from './rdb-file';
import type { RedisConnectionOptions } from '../types';

/** Value bytes read from the spooled snapshot per batch. */
const BATCH_BYTES = 4 << 20;

interface Indexed {
  /** latin1 key (one char per byte). */
  key: string;
  slot: number;
  type: number;
  expireAt: number;
  start: number;
  end: number;
}

function fail(e: Indexed): never {
  throw new Error(`the spooled snapshot ends inside the value of key ${JSON.stringify(e.key.slice(0, 80))}`);
}

/** The DUMP payload of a value spanning file bytes `body`: type byte, body, RDB version (LE), CRC64. */
export function dumpPayload(type: number, body: Buffer, rdbVersion: number): Buffer {
  const out = Buffer.allocUnsafe(1 + body.length + 10);
  out[0] = type;
  body.copy(out, 1);
  out.writeUInt16LE(rdbVersion, 1 + body.length);
  crc64(out.subarray(0, 1 + body.length + 2)).copy(out, 1 + body.length + 2);
  return out;
}

/**
 * A point-in-time backup: the server's own RDB snapshot (fork-consistent, as
 * a replica gets it) read over SYNC/PSYNC and spooled to a scratch file, then
 * turned into the same records as the SCAN walk — same canonical key order,
 * same digests — so restore, verification and deduplication do not care how
 * a backup was taken. Memory: the key index (as with SCAN: ≈ 60 bytes plus
 * the key per key) and one batch of values; the snapshot itself is on disk,
 * in `scratchDir` (default: the OS temp dir), removed afterwards.
 */
export async function* walkSnapshot(
  opts: RedisConnectionOptions,
  o: WalkOptions & { scratchDir?: string },
  result: WalkResult,
): AsyncGenerator<Buffer[]> {
  const topo = await openTopology(opts, o.signal);
  let version: string;
  try {
    if (topo.cluster)
      throw new RedisOptionsError(
        'capture',
        'capture: sync reads one server’s snapshot; a Redis Cluster is backed up with capture: scan (or auto)',
      );
    version = topo.version;
  } finally {
    topo.close();
  }
  const r = resolveOptions(opts);
  const wantDb = opts.db ?? r.urlDb ?? 0;
  const dir = await mkdtemp(path.join(o.scratchDir ?? os.tmpdir(), 'lifeboat-rdb-'));
  try {
    const file = path.join(dir, 'snapshot.rdb');
    const transfer = await fetchSnapshot({ ...r.params, ...r.seeds[0], signal: o.signal }, file, o.signal);
    const pattern = opts.pattern ? Buffer.from(opts.pattern, 'utf8') : undefined;
    const byDb = new Map<number, Indexed[]>();
    const now = Date.now();
    let listed = 0;
    const rdbVersion = await scanRdbFile(
      file,
      (e: RdbEntry) => {
        if (wantDb !== 'all' && e.db !== wantDb) return;
        if (pattern && !globMatch(pattern, e.key)) return;
        // Already expired in the snapshot (not yet evicted on the server): gone, as SCAN would find it.
        if (e.expireAt && e.expireAt <= now) {
          result.vanished++;
          return;
        }
        const key = e.key.toString('latin1');
        let list = byDb.get(e.db);
        if (!list) byDb.set(e.db, (list = []));
        list.push({ key, slot: keySlotLatin1(key), type: e.type, expireAt: e.expireAt, start: e.start, end: e.end });
        if ((++listed & 0xfff) === 0) o.onProgress?.({ bytes: 0, items: 0, totalItems: listed });
      },
      { signal: o.signal },
    );
    const dbs = wantDb === 'all' ? [...byDb.keys()].sort((a, b) => a - b) : [wantDb];
    Object.assign(result, {
      redisVersion: version,
      cluster: false,
      dbs,
      expirySource: 'pexpiretime',
      capture: 'sync',
      captureCommand: transfer.command,
    });
    const w = o.writer;
    const minExpireAt = o.minExpireAt ?? 0;
    w?.header({ cluster: false, redisVersion: version, pattern: opts.pattern ?? '', dbs });
    const fh = await open(file, 'r');
    try {
      let done = 0;
      for (const db of dbs) {
        const keys = byDb.get(db) ?? [];
        // The canonical order of docs/redis-format.md: hash slot, then key bytes (latin1 strings compare bytewise).
        keys.sort((a, b) => a.slot - b.slot || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        w?.dbStart(db);
        const digest = new DbDigest();
        for (let i = 0; i < keys.length;) {
          o.signal?.throwIfAborted();
          let j = i;
          let bytes = 0;
          while (j < keys.length && (j === i || bytes + keys[j].end - keys[j].start <= BATCH_BYTES)) {
            bytes += keys[j].end - keys[j].start;
            j++;
          }
          // The keys of a batch are scattered in the file, so each span is read on its own — synchronously: the file
          // was just written (page cache), and one async read per key costs ~80 µs of thread-pool round trip, 10× the
          // whole SCAN backup. The event loop is held for one batch (≤ 4 MiB of reads) at most.
          for (let k = i; k < j; k++) {
            const e = keys[k];
            const body = Buffer.allocUnsafe(e.end - e.start);
            let got = 0;
            while (got < body.length) got += readSync(fh.fd, body, got, body.length - got, e.start + got) || fail(e);
            const payload = dumpPayload(e.type, body, rdbVersion);
            if (e.type === 0) {
              // A plain string is recorded as its bytes, as the SCAN walk's MGET gives them.
              const v = decodeDump(payload);
              if (v.kind === 'string') {
                emitKey(w, digest, result, minExpireAt, true, e.key, e.expireAt, v.value);
                continue;
              }
            }
            emitKey(w, digest, result, minExpireAt, false, e.key, e.expireAt, payload);
          }
          done += j - i;
          i = j;
          yield w ? w.take() : [];
          o.onProgress?.({ bytes: w?.total ?? 0, items: done, totalItems: listed });
        }
        const hex = digest.digest();
        result.fingerprint.counts[dbLabel(db)] = digest.count;
        result.fingerprint.digests[dbLabel(db)] = hex;
        w?.dbEnd(db, digest.count, hex);
      }
      w?.end(dbs.length, result.keys);
      yield w ? w.take() : [];
    } finally {
      await fh.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
