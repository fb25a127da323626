import { dimensionError, jsonFormatError, unsupported, vectorNameError } from './api-error';
import { configOutput, type StoredConfig } from './collection-config';
import { compareIds, idKey, parsePointId, type PointId } from './point-ids';
import { payloadSelector, vectorSelector, type PreparedPoint } from './point-input';
import { higherIsBetter, preprocess, score, toF32 } from './vector-math';

/** A stored point; objects are replaced, never mutated, so a snapshot can hold references. */
export interface StoredPoint extends PreparedPoint {
  version: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One collection's data in memory; persistence lives in collection-files.ts. */
export class Collection {
  readonly points = new Map<string, StoredPoint>();
  private sortedCache: StoredPoint[] | null = null;
  /** Sequential operation number, reported as `operation_id` and point `version`. */
  opId = 0;

  constructor(
    readonly name: string,
    public config: StoredConfig,
  ) {}

  /** Points in Qdrant's id order (cached until the next write). */
  sorted(): StoredPoint[] {
    if (!this.sortedCache) this.sortedCache = [...this.points.values()].sort((a, b) => compareIds(a.id, b.id));
    return this.sortedCache;
  }

  /** Applies validated points; returns the operation id. */
  upsert(points: PreparedPoint[], opId = this.opId + 1): number {
    this.opId = Math.max(this.opId, opId);
    for (const p of points) this.points.set(idKey(p.id), { ...p, version: opId });
    this.sortedCache = null;
    return opId;
  }

  /** Loads an already-stored point (from disk or a snapshot) without re-validating. */
  load(p: StoredPoint): void {
    this.points.set(idKey(p.id), p);
    this.opId = Math.max(this.opId, p.version);
    this.sortedCache = null;
  }

  info(): Record<string, unknown> {
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: this.points.size,
      segments_count: 1,
      config: configOutput(this.config),
      payload_schema: {},
    };
  }

  /** Renders a Record / ScoredPoint body, omitting payload and vector when not requested (as Qdrant does). */
  private render(
    p: StoredPoint,
    withPayload: ReturnType<typeof payloadSelector>,
    withVector: ReturnType<typeof vectorSelector>,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = { id: p.id };
    if (withPayload) out.payload = withPayload(p.payload);
    if (withVector) {
      if (this.config.unnamed) out.vector = withVector('') ? (p.vectors[''] ?? null) : null;
      else out.vector = Object.fromEntries(Object.entries(p.vectors).filter(([n]) => withVector(n)));
    }
    return out;
  }

  scroll(body: Record<string, unknown>): { points: Record<string, unknown>[]; next_page_offset: PointId | null } {
    if (body.filter != null) throw unsupported('filter');
    if (body.order_by != null) throw unsupported('order_by');
    if (body.shard_key != null) throw unsupported('shard_key');
    const limit = body.limit == null ? 10 : body.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
      throw jsonFormatError('`limit` must be an integer of at least 1');
    const withPayload = payloadSelector(body.with_payload, true);
    const withVector = vectorSelector(body.with_vector, false);
    const all = this.sorted();
    let start = 0;
    if (body.offset != null) {
      const offset = parsePointId(body.offset);
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareIds(all[mid].id, offset) < 0) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const page = all.slice(start, start + limit);
    const next = all[start + limit];
    return {
      points: page.map((p) => this.render(p, withPayload, withVector)),
      next_page_offset: next ? next.id : null,
    };
  }

  count(body: Record<string, unknown>): { count: number } {
    if (body.filter != null) throw unsupported('filter');
    return { count: this.points.size };
  }

  retrieve(body: Record<string, unknown>): Record<string, unknown>[] {
    if (!Array.isArray(body.ids)) throw jsonFormatError('missing field `ids`');
    const withPayload = payloadSelector(body.with_payload, true);
    const withVector = vectorSelector(body.with_vector, false);
    const out: Record<string, unknown>[] = [];
    for (const raw of body.ids) {
      const p = this.points.get(idKey(parsePointId(raw)));
      if (p) out.push(this.render(p, withPayload, withVector));
    }
    return out;
  }

  getPoint(id: PointId): Record<string, unknown> | undefined {
    const p = this.points.get(idKey(id));
    return p && this.render(p, payloadSelector(true, true), vectorSelector(true, true));
  }

  /** Exact (brute force) nearest-neighbour query: POST /points/query with a dense vector. */
  query(body: Record<string, unknown>): { points: Record<string, unknown>[] } {
    for (const k of ['prefetch', 'filter', 'lookup_from', 'shard_key']) if (body[k] != null) throw unsupported(k);
    const limit = body.limit == null ? 10 : body.limit;
    const offset = body.offset == null ? 0 : body.offset;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
      throw jsonFormatError('`limit` must be an integer of at least 1');
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0)
      throw jsonFormatError('`offset` must be an unsigned integer');
    const withPayload = payloadSelector(body.with_payload, false);
    const withVector = vectorSelector(body.with_vector, false);
    let q: unknown = body.query;
    if (q == null) {
      // "If missing without prefetches, returns points ordered by their IDs."
      const page = this.sorted().slice(offset, offset + limit);
      return {
        points: page.map((p) => ({ ...this.render(p, withPayload, withVector), version: p.version, score: 0 })),
      };
    }
    if (isObject(q) && 'nearest' in q) {
      if (q.mmr != null) throw unsupported('mmr');
      q = q.nearest;
    }
    if (!Array.isArray(q) || q.some((x) => typeof x !== 'number'))
      throw unsupported('query kinds other than a dense vector or {"nearest": dense vector}');
    const using = body.using == null ? '' : String(body.using);
    const params = this.config.vectors[using];
    if (!params) throw vectorNameError(using);
    if (q.length !== params.size) throw dimensionError(params.size, q.length);
    const qv = preprocess(params.distance, q as number[]);
    const threshold = typeof body.score_threshold === 'number' ? body.score_threshold : undefined;
    const better = higherIsBetter(params.distance);
    const scored: { p: StoredPoint; s: number }[] = [];
    for (const p of this.points.values()) {
      const v = p.vectors[using];
      if (!v) continue;
      const s = toF32(score(params.distance, qv, v));
      if (threshold !== undefined && (better ? s < threshold : s > threshold)) continue;
      scored.push({ p, s });
    }
    scored.sort((a, b) => (better ? b.s - a.s : a.s - b.s) || compareIds(a.p.id, b.p.id));
    return {
      points: scored
        .slice(offset, offset + limit)
        .map(({ p, s }) => ({ ...this.render(p, withPayload, withVector), version: p.version, score: s })),
    };
  }
}
