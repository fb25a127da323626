import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { collectionPath, QdrantApi } from './api';
import { ensureQdrantAliases, switchQdrantAlias } from './alias';
import { QdrantBackupFormatError, QdrantChecksumMismatchError } from './errors';
import { assertQdrantRestorable } from './preflight';
import { resolveCollection } from './collection-meta';
import type { QdrantConnection, QdrantRestoreOptions, QdrantRestoreResult } from './types';
import { multipartFileBody } from './multipart-body';

/**
 * Restores a snapshot-mode backup by streaming it to
 * POST /collections/{target}/snapshots/upload?priority=snapshot&checksum=…
 * (multipart, built as a stream). Qdrant checks the checksum before it
 * touches the collection, so damaged bytes change nothing. A missing target
 * is created from the snapshot; an existing one must have the backup's
 * vectors. With `alias`, the alias is switched to the target afterwards.
 * The input stream is always consumed or destroyed.
 */
export async function restoreQdrantSnapshot(
  conn: QdrantConnection,
  stream: Readable,
  opts: QdrantRestoreOptions,
): Promise<QdrantRestoreResult> {
  try {
    return await restore(conn, stream, opts);
  } finally {
    if (!stream.destroyed && !stream.readableEnded) stream.destroy();
  }
}

async function restore(
  conn: QdrantConnection,
  stream: Readable,
  opts: QdrantRestoreOptions,
): Promise<QdrantRestoreResult> {
  const { info } = opts;
  if (info.mode !== 'snapshot' || !info.snapshot)
    throw new QdrantBackupFormatError(`this is a ${info.mode}-mode backup; restore it with restoreQdrantPoints`);
  const api = new QdrantApi(conn);
  // Named through an alias: restore into the collection it points at.
  const { collection: target } = await resolveCollection(api, opts.collection ?? info.meta.collection);
  const pre = await assertQdrantRestorable(conn, { ...opts, collection: target });
  opts.signal?.throwIfAborted();

  const hash = createHash('sha256');
  let bytes = 0;
  const uploadName = `lifeboat-restore-${randomBytes(6).toString('hex')}.snapshot`;
  const { body, contentType } = multipartFileBody('snapshot', uploadName, stream, (chunk) => {
    hash.update(chunk);
    bytes += chunk.length;
    opts.onProgress?.({ bytes, totalBytes: info.bytes });
  });
  const checksum = info.snapshot.checksum || info.sha256;
  const query = new URLSearchParams({ wait: 'true', priority: 'snapshot', checksum });
  try {
    await api.fetch(
      'upload snapshot',
      `${collectionPath(target)}/snapshots/upload?${query}`,
      {
        method: 'POST',
        body: Readable.toWeb(body) as unknown as RequestInit['body'],
        duplex: 'half',
        headers: { 'content-type': contentType },
        signal: opts.signal,
      },
      target,
    );
  } catch (e) {
    // A failing repository stream surfaces as a fetch error: report the stream's own error.
    throw (stream as Readable & { errored?: Error | null }).errored ?? e;
  }
  const sha = hash.digest('hex');
  if (sha !== info.sha256) throw new QdrantChecksumMismatchError(`snapshot stream for ${target}`, info.sha256, sha);

  // Qdrant keeps an uploaded snapshot in the collection's snapshot folder: remove our copy.
  await api
    .call('list snapshots', (c) => c.listSnapshots(target), target)
    .then((list) =>
      list.some((s) => s.name === uploadName)
        ? api.call('delete snapshot', (c) => c.deleteSnapshot(target, uploadName), target)
        : undefined,
    )
    .catch(() => undefined);

  const points = (await api.call('count points', (c) => c.count(target, { exact: true }), target)).count;
  const restoreAliases = (opts.restoreAliases ?? true) && target === info.meta.collection;
  const result: QdrantRestoreResult = {
    collection: target,
    points,
    bytes,
    createdCollection: !pre.targetExists,
    aliasesRestored: restoreAliases ? await ensureQdrantAliases(conn, target, info.meta.aliases) : [],
  };
  if (opts.alias)
    result.alias = { name: opts.alias, previousCollection: await switchQdrantAlias(conn, opts.alias, target) };
  return result;
}
