import type { Readable } from 'node:stream';
import type { Schemas } from '@qdrant/js-client-rest';
import { QdrantApi } from './api';
import { ensureQdrantAliases, switchQdrantAlias } from './alias';
import { DigestSum, pointDigest } from './canonical';
import { QdrantBackupFormatError } from './errors';
import { ndjsonLines, parseHeader, type PointLine, type PointsTrailer } from './points-format';
import { assertQdrantRestorable, compareVectors } from './preflight';
import { resolveCollection } from './collection-meta';
import type { QdrantConnection, QdrantRestoreOptions, QdrantRestoreResult } from './types';

/** Keeps one upsert request well under Qdrant's default 32 MB request limit. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Restores a points-mode backup: creates the collection from the saved
 * config (under `collection`, default the original name) and upserts the
 * points in batches with wait=true, reading the stream as it goes. The
 * trailer's count and digest must match what was read, so a cut-short or
 * altered stream fails; a collection this call created is then dropped
 * again. With `alias`, the alias is switched to the collection at the end.
 */
export async function restoreQdrantPoints(
  conn: QdrantConnection,
  stream: Readable,
  opts: QdrantRestoreOptions,
): Promise<QdrantRestoreResult> {
  const { info } = opts;
  if (info.mode !== 'points')
    throw new QdrantBackupFormatError(`this is a ${info.mode}-mode backup; restore it with restoreQdrantSnapshot`);
  const ifExists = opts.ifExists ?? 'replace';
  const api = new QdrantApi(conn);
  const lines = ndjsonLines(stream);
  try {
    // Named through an alias: restore into the collection it points at.
    const { collection: target } = await resolveCollection(api, opts.collection ?? info.meta.collection);
    const first = await lines.next();
    const header = parseHeader(first.done ? undefined : first.value.line);
    if (compareVectors(target, info.meta.vectors, header.meta.vectors))
      throw new QdrantBackupFormatError(
        'the stream header does not describe the same vectors as the backup info; wrong artifact?',
        1,
      );
    let bytes = first.done ? 0 : first.value.bytes;

    const pre = await assertQdrantRestorable(conn, { ...opts, collection: target, ifExists });
    opts.signal?.throwIfAborted();
    let created = false;
    let keptAliases: string[] = [];
    if (pre.targetExists && ifExists === 'replace') {
      // Dropping a collection drops its aliases: note them to put them back on the new one.
      const { aliases } = await api.call('list aliases', (c) => c.getAliases());
      keptAliases = aliases.filter((a) => a.collection_name === target).map((a) => a.alias_name);
      await api.call('delete collection', (c) => c.deleteCollection(target), target);
    }
    if (!pre.targetExists || ifExists === 'replace') {
      await api.call(
        'create collection',
        (c) => c.createCollection(target, header.meta.createBody as Schemas['CreateCollection']),
        target,
      );
      created = !pre.targetExists;
      await ensureQdrantAliases(conn, target, keptAliases);
    }

    const sum = new DigestSum();
    let trailer: PointsTrailer | undefined;
    let batch: PointLine[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (!batch.length) return;
      // Vectors and payloads go back exactly as Qdrant gave them at backup.
      const points = batch as Schemas['PointStruct'][];
      await api.call('upsert points', (c) => c.upsert(target, { wait: true, points }), target);
      batch = [];
      batchBytes = 0;
      opts.onProgress?.({ bytes, items: sum.count, totalItems: info.meta.pointsCount, totalBytes: info.bytes });
      opts.signal?.throwIfAborted();
    };
    try {
      for await (const { line, n, bytes: b } of lines) {
        bytes += b;
        if (trailer) throw new QdrantBackupFormatError('data after the end marker', n);
        if (!line) continue;
        let rec: PointLine & Partial<PointsTrailer>;
        try {
          rec = JSON.parse(line);
        } catch {
          throw new QdrantBackupFormatError('a line is not JSON (damaged data?)', n);
        }
        if (rec.end === true) {
          trailer = rec as PointsTrailer;
          continue;
        }
        if (rec.id === undefined) throw new QdrantBackupFormatError('a point line has no id', n);
        sum.add(pointDigest(rec.id, rec.vector, rec.payload));
        batch.push({ id: rec.id, vector: rec.vector, payload: rec.payload });
        batchBytes += b;
        if (batch.length >= (opts.batchSize ?? 256) || batchBytes >= MAX_BATCH_BYTES) await flush();
      }
      await flush();
      if (!trailer)
        throw new QdrantBackupFormatError(
          `the stream ends without its end marker after ${sum.count} points: it was cut short`,
        );
      if (trailer.count !== sum.count || trailer.digest !== sum.hex()) {
        throw new QdrantBackupFormatError(
          `read ${sum.count} points with digest ${sum.hex()}, the end marker says ${trailer.count} points with digest ${trailer.digest}`,
        );
      }
    } catch (e) {
      // Leave no half-restored collection behind when it did not exist before.
      if (created)
        await api.call('delete collection', (c) => c.deleteCollection(target), target).catch(() => undefined);
      throw e;
    }
    const restoreAliases = (opts.restoreAliases ?? true) && target === info.meta.collection;
    const result: QdrantRestoreResult = {
      collection: target,
      points: sum.count,
      bytes,
      createdCollection: !pre.targetExists,
      aliasesRestored: restoreAliases ? await ensureQdrantAliases(conn, target, header.meta.aliases) : [],
    };
    if (opts.alias)
      result.alias = { name: opts.alias, previousCollection: await switchQdrantAlias(conn, opts.alias, target) };
    return result;
  } finally {
    await lines.return(undefined);
    if (!stream.destroyed) stream.destroy();
  }
}
