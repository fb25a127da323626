import { QdrantApi } from '../../sources/qdrant/api';
import { readCollectionMeta } from '../../sources/qdrant/collection-meta';
import { checkPointId, defaultPageSize } from '../../sources/qdrant/scroll';
import type { QdrantConnection, QdrantVectorSpec } from '../../sources/qdrant/types';
import type { FindingBuilder } from '../finding';

export interface QdrantSide {
  conn: QdrantConnection;
  collection: string;
  id: { from: 'point-id' } | { from: 'payload-field'; field: string };
  vector?: string;
}

/** The vector a link checks: its name ("" = unnamed) and declared size and distance. */
export async function qdrantVectorSpec(
  api: QdrantApi,
  side: QdrantSide,
): Promise<{ name: string; spec?: QdrantVectorSpec; problem?: string; points: number }> {
  const meta = await readCollectionMeta(api, side.collection);
  const names = Object.keys(meta.vectors);
  const name = side.vector ?? (names.includes('') ? '' : names.length === 1 ? names[0] : undefined);
  if (name === undefined || !meta.vectors[name])
    return {
      name: name ?? '',
      points: meta.pointsCount,
      problem: `collection ${side.collection} has ${side.vector !== undefined ? `no vector named "${side.vector}"` : 'several named vectors'} (${names.map((n) => n || '(unnamed)').join(', ') || 'none'}); set qdrant.vector in the link`,
    };
  return { name, spec: meta.vectors[name], points: meta.pointsCount };
}

function payloadId(payload: Record<string, unknown> | null | undefined, field: string): string | undefined {
  let cur: unknown = payload;
  for (const part of field.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (typeof cur === 'string' && cur !== '') return cur;
  if (typeof cur === 'number' && Number.isFinite(cur)) return String(cur);
  return undefined;
}

/** A point's vector of `name` from a scroll answer (unnamed: a plain array). */
function vectorOf(v: unknown, name: string): unknown[] | undefined {
  if (name === '') return Array.isArray(v) ? (v as unknown[]) : undefined;
  const named = (v as Record<string, unknown> | undefined)?.[name];
  return Array.isArray(named) ? (named as unknown[]) : undefined;
}

/**
 * Scrolls the collection once, a page at a time: ids (point ids, or a payload field: a point
 * without it is counted in `withoutId`) and, when `onVector` is given, each point's vector.
 */
export async function readQdrantIds(
  side: QdrantSide,
  vectorName: string,
  dims: number,
  onIds: (ids: string[]) => Promise<void>,
  withoutId: FindingBuilder,
  onVector?: (id: string, v: unknown[] | undefined) => void,
  signal?: AbortSignal,
): Promise<void> {
  const api = new QdrantApi(side.conn);
  const limit = defaultPageSize({ v: { size: Math.max(1, dims) } });
  const field = side.id.from === 'payload-field' ? side.id.field : undefined;
  let offset: string | number | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const page = await api.call(
      'scroll points',
      (c) =>
        c.scroll(side.collection, {
          limit,
          offset,
          with_payload: field ? [field.split('.')[0]] : false,
          with_vector: onVector ? (vectorName === '' ? true : [vectorName]) : false,
        }),
      side.collection,
    );
    const ids: string[] = [];
    for (const p of page.points) {
      const pid = String(checkPointId(p.id, side.collection));
      const id = field ? payloadId(p.payload, field) : pid;
      if (id === undefined) {
        withoutId.add(`point ${pid}`);
        continue;
      }
      ids.push(id);
      onVector?.(id, vectorOf(p.vector, vectorName));
    }
    if (ids.length) await onIds(ids);
    const next = page.next_page_offset as unknown;
    if (next === null || next === undefined) return;
    offset = checkPointId(next, side.collection);
  }
}

/** Vectors of the given ids (as the link names them), for the sampled FAISS comparison. */
export async function qdrantVectorsOf(
  side: QdrantSide,
  vectorName: string,
  ids: readonly string[],
): Promise<Map<string, unknown[] | undefined>> {
  const api = new QdrantApi(side.conn);
  const out = new Map<string, unknown[] | undefined>();
  const asPointId = (s: string) => (/^\d+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : s);
  const withVector = vectorName === '' ? true : [vectorName];
  if (side.id.from === 'point-id') {
    for (let i = 0; i < ids.length; i += 100) {
      const points = await api.call(
        'retrieve points',
        (c) =>
          c.retrieve(side.collection, {
            ids: ids.slice(i, i + 100).map(asPointId),
            with_vector: withVector,
            with_payload: false,
          }),
        side.collection,
      );
      for (const p of points) out.set(String(p.id), vectorOf(p.vector, vectorName));
    }
    return out;
  }
  const field = side.id.field;
  for (const id of ids) {
    const page = await api.call(
      'scroll points',
      (c) =>
        c.scroll(side.collection, {
          limit: 1,
          filter: { must: [{ key: field, match: { value: asPointId(id) } }] },
          with_vector: withVector,
          with_payload: false,
        }),
      side.collection,
    );
    if (page.points[0]) out.set(id, vectorOf(page.points[0].vector, vectorName));
  }
  return out;
}
