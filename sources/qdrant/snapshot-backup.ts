import { createHash } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { BackupStream } from '../types';
import { collectionPath, QdrantApi } from './api';
import { readCollectionMeta } from './collection-meta';
import { QdrantChecksumMismatchError, QdrantRequestError } from './errors';
import { digestCollection } from './fingerprint';
import { recordProbes } from './probes';
import { defaultPageSize } from './scroll';
import type { QdrantBackupInfo, QdrantBackupOptions, QdrantConnection } from './types';

/**
 * Snapshot mode: asks Qdrant for a native collection snapshot and streams its
 * download; the snapshot is deleted from the server once streamed (or on
 * failure). Before the stream starts, the collection's config, aliases, a
 * fingerprint and probe results are recorded; `done` adds the stream's
 * sha256, checked against the checksum Qdrant reported.
 *
 * Rejects before any stream exists when Qdrant is unreachable
 * (QdrantUnreachableError) or the collection is missing
 * (QdrantCollectionNotFoundError).
 */
export async function backupQdrantSnapshot(
  conn: QdrantConnection,
  collection: string,
  opts: QdrantBackupOptions = {},
): Promise<BackupStream<QdrantBackupInfo>> {
  const api = new QdrantApi(conn);
  const serverVersion = await api.serverVersion();
  const meta = await readCollectionMeta(api, collection);
  const name = meta.collection;
  opts.signal?.throwIfAborted();
  const snap = await api.call('create snapshot', (c) => c.createSnapshot(name, { wait: true }), name);
  if (!snap)
    throw new QdrantRequestError(
      'create snapshot',
      202,
      'Qdrant accepted the snapshot but returned no description',
      api.url,
    );
  const removeSnapshot = () => api.call('delete snapshot', (c) => c.deleteSnapshot(name, snap.name), name);

  let info: Omit<QdrantBackupInfo, 'bytes' | 'sha256' | 'warnings'>;
  let source: Readable;
  try {
    // Taken right after the snapshot; equal counts before and after say no writes raced it.
    const { count, digest } = await digestCollection(api, name, {
      pageSize: opts.pageSize ?? defaultPageSize(meta.vectors),
      signal: opts.signal,
    });
    const after = (await api.call('count points', (c) => c.count(name, { exact: true }), name)).count;
    const probes = await recordProbes(api, name, meta.vectors, { count: opts.probeCount, topK: opts.probeTopK });
    info = {
      mode: 'snapshot',
      meta,
      serverVersion,
      snapshot: { name: snap.name, checksum: snap.checksum ?? '', size: snap.size },
      fingerprint: { counts: { [name]: count }, digests: { [name]: digest } },
      quiescent: count === meta.pointsCount && count === after,
      probes,
    };
    const res = await api.fetch(
      'download snapshot',
      `${collectionPath(name)}/snapshots/${encodeURIComponent(snap.name)}`,
      { signal: opts.signal },
      name,
    );
    if (!res.body) throw new QdrantRequestError('download snapshot', res.status, 'empty body', api.url);
    source = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
  } catch (e) {
    await removeSnapshot().catch(() => undefined);
    throw e;
  }

  const hash = createHash('sha256');
  let bytes = 0;
  let sha = '';
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      opts.onProgress?.({
        bytes,
        totalBytes: snap.size,
        items: info.meta.pointsCount,
        totalItems: info.meta.pointsCount,
      });
      cb(null, chunk);
    },
    flush(cb) {
      sha = hash.digest('hex');
      const what = `snapshot ${snap.name} downloaded from ${api.url}`;
      if (snap.checksum && sha !== snap.checksum) return cb(new QdrantChecksumMismatchError(what, snap.checksum, sha));
      if (bytes !== snap.size)
        return cb(
          new QdrantChecksumMismatchError(`${what} (${bytes} bytes, expected ${snap.size})`, snap.checksum ?? '', sha),
        );
      cb();
    },
  });
  const done = new Promise<QdrantBackupInfo>((resolve, reject) => {
    pipeline(source, hasher, (err) => {
      void removeSnapshot().then(
        () =>
          err
            ? reject(err)
            : resolve({ ...info, snapshot: { ...info.snapshot!, checksum: sha }, bytes, sha256: sha, warnings: [] }),
        (cleanupErr: Error) =>
          err
            ? reject(err)
            : // The backup itself is complete; a leftover snapshot only costs disk space on the server.
              resolve({
                ...info,
                snapshot: { ...info.snapshot!, checksum: sha },
                bytes,
                sha256: sha,
                warnings: [
                  `could not delete snapshot ${snap.name} from ${api.url}: ${cleanupErr.message}; delete it by hand`,
                ],
              }),
      );
    });
  });
  // Readers that only watch the stream must not crash the process with an unhandled rejection.
  done.catch(() => undefined);
  return { stream: hasher, done };
}
