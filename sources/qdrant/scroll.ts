import type { QdrantApi } from './api';
import { QdrantUnsupportedError } from './errors';

export interface ScrolledPoint {
  id: string | number;
  vector?: unknown;
  payload?: Record<string, unknown> | null;
}

/** Point ids must survive JSON.parse exactly; integers above 2^53 would silently change. */
export function checkPointId(id: unknown, collection: string): string | number {
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  if (typeof id === 'bigint') {
    throw new QdrantUnsupportedError(
      `collection "${collection}" has point id ${id.toString()} above 2^53; Lifeboat's points mode cannot carry it exactly yet: use snapshot mode`,
    );
  }
  throw new QdrantUnsupportedError(
    `collection "${collection}" returned point id ${String(id)}, which is not an exact unsigned integer (above 2^53?) or a UUID; use snapshot mode`,
  );
}

/**
 * Scroll page size aiming at about 2 MB of JSON per page: large pages for
 * small vectors (fewer round trips), small ones for 1536-dim embeddings.
 */
export function defaultPageSize(vectors: Record<string, { size: number }>): number {
  const dims = Object.values(vectors).reduce((a, v) => a + v.size, 0);
  return Math.max(32, Math.min(1024, Math.round(2_000_000 / (12 * dims + 400))));
}

/**
 * Every point with vectors and payload, in id order, one page at a time; the
 * caller pulls, so only one page is in memory however big the collection.
 */
export async function* scrollPoints(
  api: QdrantApi,
  collection: string,
  opts: { pageSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<ScrolledPoint[]> {
  let offset: string | number | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    const page = await api.call(
      'scroll points',
      (c) => c.scroll(collection, { limit: opts.pageSize ?? 256, offset, with_payload: true, with_vector: true }),
      collection,
    );
    const points = page.points.map((p) => ({
      id: checkPointId(p.id, collection),
      vector: p.vector,
      payload: p.payload,
    }));
    if (points.length) yield points;
    const next = page.next_page_offset as unknown;
    if (next === null || next === undefined) return;
    offset = checkPointId(next, collection);
  }
}
