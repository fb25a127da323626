import { createHash } from 'node:crypto';
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
    try {
      yield emit(headerLine(meta));
      for await (const page of scrollPoints(api, name, {
        pageSize: opts.pageSize ?? defaultPageSize(meta.vectors),
        signal: opts.signal,
      })) {
        let text = '';
        for (const p of page) {
          const payload = p.payload ?? {};
          sum.add(pointDigest(p.id, p.vector, payload));
          text += pointLine({ id: p.id, vector: p.vector, payload });
        }
        const chunk = emit(text);
        opts.onProgress?.({ bytes, items: sum.count, totalItems: meta.pointsCount });
        yield chunk;
      }
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
  const stream = Readable.from(generate(), { objectMode: false });
  // Destroyed before the first read, the generator never runs its finally: settle `done` here too.
  stream.once('close', () =>
    rejectDone(Object.assign(new Error(`points backup of ${name} was stopped before the end`), { name: 'AbortError' })),
  );
  return { stream, done };
}
