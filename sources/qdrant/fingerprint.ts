import type { SourceFingerprint, StreamOptions } from '../types';
import { QdrantApi } from './api';
import { DigestSum, pointDigest } from './canonical';
import { resolveCollection, vectorSpecs } from './collection-meta';
import { defaultPageSize, scrollPoints } from './scroll';
import type { QdrantConnection } from './types';

export interface FingerprintOptions extends StreamOptions {
  /**
   * Name the counts and digests are keyed by, so a restored copy under
   * another name compares equal to the original's fingerprint.
   * @default the collection name
   */
  key?: string;
  /** Points per scroll page. @default about 2 MB of vectors per page (see defaultPageSize) */
  pageSize?: number;
}

/** Count and order-independent digest of one collection's points, read by a full scroll. */
export async function digestCollection(
  api: QdrantApi,
  collection: string,
  opts: FingerprintOptions = {},
): Promise<{ count: number; digest: string }> {
  const sum = new DigestSum();
  for await (const page of scrollPoints(api, collection, opts)) {
    for (const p of page) sum.add(pointDigest(p.id, p.vector, p.payload));
    opts.onProgress?.({ bytes: 0, items: sum.count });
  }
  return { count: sum.count, digest: sum.hex() };
}

/**
 * Fingerprint of a collection (or alias): exact point count and a digest over
 * every (id, vectors, payload), independent of order and of how Qdrant
 * prints floats. Equal fingerprints mean equal points.
 */
export async function fingerprintQdrant(
  conn: QdrantConnection,
  collection: string,
  opts: FingerprintOptions = {},
): Promise<SourceFingerprint> {
  const api = new QdrantApi(conn);
  const { collection: real } = await resolveCollection(api, collection);
  const info = await api.call('collection info', (c) => c.getCollection(real), real);
  const pageSize =
    opts.pageSize ??
    defaultPageSize(vectorSpecs((info.config as unknown as { params?: { vectors?: unknown } }).params?.vectors).specs);
  const { count, digest } = await digestCollection(api, real, { ...opts, pageSize });
  const key = opts.key ?? collection;
  return { counts: { [key]: count }, digests: { [key]: digest } };
}
