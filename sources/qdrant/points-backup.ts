import { createHash } from 'node:crypto';
import { endsGroupBefore } from '../../lib/record-groups';
import { Readable } from 'node:stream';
import type { BackupStream } from '../types';
import { QdrantApi } from './api';
import { DigestSum, pointDigest } from './canonical';
import { readCollectionMeta } from './collection-meta';
import { headerLine, pointLine, trailerLine } from './points-format';
import { recordProbes } from './probes';
import { defaultPageSize, scrollPoints } from './scroll';
import type { QdrantBackupInfo, QdrantBackupOptions, QdrantConnection } from './types';

/**
 * Points mode: scrolls every point (all vectors, named ones too, and payload)
 * in id order and streams them as NDJSON (see points-format.ts). One scroll
 * page is in memory at a time; reading the stream drives the scroll. The
 * fingerprint in `done` is computed over exactly the streamed points.
 *
 * The stream's pieces are groups of about two points (stored one blob each
 * with the repository's `chunking: 'records'`), so a changed point costs its
 * group in the next backup, not a 680 KiB chunk of a hundred points.
 *
 * Rejects before any stream exists when Qdrant is unreachable or the
 * collection is missing.
 */
export async function backupQdrantPoints(
  conn: QdrantConnection,
  collection: string,
  opts: QdrantBackupOptions = {},
): Promise<BackupStream<QdrantBackupInfo>> {
  const api = new QdrantApi(conn);
  const serverVersion = await api.serverVersion();
  const meta = await readCollectionMeta(api, collection);
  const name = meta.collection;
  const probes = await recordProbes(api, name, meta.vectors, { count: opts.probeCount, topK: opts.probeTopK });

  let resolveDone!: (i: QdrantBackupInfo) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<QdrantBackupInfo>((res, rej) => ((resolveDone = res), (rejectDone = rej)));
  done.catch(() => undefined);

  const hash = createHash('sha256');
  const sum = new DigestSum();
  let bytes = 0;
  const emit = (text: string): Buffer => {
    const b = Buffer.from(text);
    hash.update(b);
    bytes += b.length;
    return b;
  };

  async function* generate(): AsyncGenerator<Buffer> {
    let finished = false;
    /** Point lines not yet emitted: groups run across scroll pages, so page size never moves a boundary. */
    let group = '';
    try {
      yield emit(headerLine(meta));
      for await (const page of scrollPoints(api, name, {
        pageSize: opts.pageSize ?? defaultPageSize(meta.vectors),
        signal: opts.signal,
      })) {
        const groups: Buffer[] = [];
        for (const p of page) {
          const payload = p.payload ?? {};
          sum.add(pointDigest(p.id, p.vector, payload));
          // Boundaries depend on point ids only (lib/record-groups.ts), never on vectors or payloads.
          if (endsGroupBefore(JSON.stringify(p.id), group.length)) {
            groups.push(emit(group));
            group = '';
          }
          group += pointLine({ id: p.id, vector: p.vector, payload });
        }
        opts.onProgress?.({ bytes, items: sum.count, totalItems: meta.pointsCount });
        yield* groups;
      }
      if (group) yield emit(group);
      yield emit(trailerLine({ count: sum.count, digest: sum.hex() }));
      finished = true;
      resolveDone({
        mode: 'points',
        meta,
        serverVersion,
        bytes,
        sha256: hash.digest('hex'),
        fingerprint: { counts: { [name]: sum.count }, digests: { [name]: sum.hex() } },
        quiescent: true,
        probes,
        warnings: [],
      });
    } catch (e) {
      rejectDone(e);
      throw e;
    } finally {
      // The reader destroyed the stream before the end.
      if (!finished)
        rejectDone(
          Object.assign(new Error(`points backup of ${name} was stopped before the end`), { name: 'AbortError' }),
        );
    }
  }
  // Object mode keeps the groups apart for the repository (a byte stream would join them on read).
  const stream = Readable.from(generate(), { objectMode: true, highWaterMark: 256 });
  // Destroyed before the first read, the generator never runs its finally: settle `done` here too.
  stream.once('close', () =>
    rejectDone(Object.assign(new Error(`points backup of ${name} was stopped before the end`), { name: 'AbortError' })),
  );
  return { stream, done };
}
