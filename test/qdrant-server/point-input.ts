import { badInput, dimensionError, jsonFormatError, unsupported, vectorNameError } from './api-error';
import type { StoredConfig } from './collection-config';
import { parsePointId, type PointId } from './point-ids';
import { preprocess } from './vector-math';

/** A validated point ready to store: vectors already float32-rounded (and normalised for Cosine). */
export interface PreparedPoint {
  id: PointId;
  vectors: Record<string, number[]>;
  payload: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function numberArray(v: unknown, where: string): number[] {
  if (!Array.isArray(v)) throw jsonFormatError(`invalid type at \`${where}\`: expected a sequence of floats`);
  for (const x of v) {
    if (Array.isArray(x)) throw unsupported('multivectors');
    if (typeof x !== 'number')
      throw jsonFormatError(`invalid type at \`${where}\`: expected f32, found ${JSON.stringify(x)}`);
  }
  return v as number[];
}

/** Checks one named vector against the config; dimension errors carry Qdrant's exact wording. */
export function checkVector(config: StoredConfig, name: string, raw: unknown, where: string): number[] {
  if (isObject(raw)) {
    if ('indices' in raw || 'values' in raw) throw unsupported('sparse vectors');
    throw unsupported('inference objects (Document/Image) as vectors');
  }
  if (typeof raw === 'string') throw unsupported('inference objects (Document/Image) as vectors');
  const v = numberArray(raw, where);
  const params = config.vectors[name];
  if (!params) throw vectorNameError(name);
  if (v.length !== params.size) throw dimensionError(params.size, v.length);
  return preprocess(params.distance, v);
}

function parseVectorStruct(config: StoredConfig, raw: unknown, where: string): Record<string, number[]> {
  if (raw === undefined) throw jsonFormatError(`missing field \`vector\` at \`${where}\``);
  if (Array.isArray(raw)) return { '': checkVector(config, '', raw, where) };
  if (!isObject(raw))
    throw jsonFormatError(`data did not match any variant of untagged enum VectorStruct at \`${where}\``);
  // serde tries named vectors before Document/Image/InferenceObject, which carry a `model` string.
  if (typeof raw.model === 'string' && !Array.isArray(raw.text ?? raw.image ?? raw.object))
    throw unsupported('inference objects (Document/Image) as vectors');
  const out: Record<string, number[]> = {};
  for (const [name, v] of Object.entries(raw)) out[name] = checkVector(config, name, v, `${where}.${name}`);
  return out;
}

function parsePayload(raw: unknown, where: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw jsonFormatError(`invalid type at \`${where}\`: expected a JSON object as payload`);
  return raw;
}

/**
 * Parses an upsert body (PointsList or PointsBatch). Everything is validated
 * before anything is stored, so a bad point leaves the collection unchanged.
 */
export function parseUpsertBody(config: StoredConfig, body: Record<string, unknown>): PreparedPoint[] {
  if (body.shard_key != null) throw unsupported('shard_key');
  if (body.update_filter != null) throw unsupported('update_filter');
  if (body.update_mode != null && body.update_mode !== 'upsert')
    throw unsupported(`update_mode ${JSON.stringify(body.update_mode)}`);
  if (Array.isArray(body.points)) {
    return body.points.map((p: unknown, i: number) => {
      if (!isObject(p)) throw jsonFormatError(`invalid type at \`points[${i}]\`: expected a point`);
      if (p.id === undefined) throw jsonFormatError(`missing field \`id\` at \`points[${i}]\``);
      return {
        id: parsePointId(p.id),
        vectors: parseVectorStruct(config, p.vector, `points[${i}].vector`),
        payload: parsePayload(p.payload, `points[${i}].payload`),
      };
    });
  }
  if (isObject(body.batch)) {
    const b = body.batch;
    if (!Array.isArray(b.ids)) throw jsonFormatError('missing field `ids` at `batch`');
    const ids = b.ids.map(parsePointId);
    const perPoint: Record<string, number[]>[] = ids.map(() => ({}));
    if (Array.isArray(b.vectors)) {
      if (b.vectors.length !== ids.length)
        throw badInput(`Number of ids and vectors must be equal: ${ids.length} ids, ${b.vectors.length} vectors`);
      b.vectors.forEach(
        (v: unknown, i: number) => (perPoint[i][''] = checkVector(config, '', v, `batch.vectors[${i}]`)),
      );
    } else if (isObject(b.vectors)) {
      for (const [name, list] of Object.entries(b.vectors)) {
        if (!Array.isArray(list) || list.length !== ids.length)
          throw badInput(`Number of ids and vectors must be equal for vector \`${name}\``);
        list.forEach(
          (v: unknown, i: number) => (perPoint[i][name] = checkVector(config, name, v, `batch.vectors.${name}[${i}]`)),
        );
      }
    } else {
      throw jsonFormatError('missing field `vectors` at `batch`');
    }
    const payloads = b.payloads;
    if (payloads != null && (!Array.isArray(payloads) || payloads.length !== ids.length))
      throw badInput('Number of ids and payloads must be equal');
    return ids.map((id, i) => ({
      id,
      vectors: perPoint[i],
      payload: parsePayload(Array.isArray(payloads) ? payloads[i] : undefined, `batch.payloads[${i}]`),
    }));
  }
  throw jsonFormatError('data did not match any variant of untagged enum PointInsertOperations');
}

/** WithPayloadInterface → a selector over one payload. */
export function payloadSelector(
  raw: unknown,
  dflt: boolean,
): ((p: Record<string, unknown>) => Record<string, unknown>) | null {
  if (raw === undefined || raw === null) raw = dflt;
  if (raw === false) return null;
  if (raw === true) return (p) => p;
  const pick = (keys: string[], keep: boolean) => (p: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(p).filter(([k]) => keys.includes(k) === keep));
  if (Array.isArray(raw)) return pick(raw.map(String), true);
  if (isObject(raw) && Array.isArray(raw.include)) return pick(raw.include.map(String), true);
  if (isObject(raw) && Array.isArray(raw.exclude)) return pick(raw.exclude.map(String), false);
  throw jsonFormatError('data did not match any variant of untagged enum WithPayloadInterface');
}

/** WithVector → which vector names to return, or null for none. */
export function vectorSelector(raw: unknown, dflt: boolean): ((name: string) => boolean) | null {
  if (raw === undefined || raw === null) raw = dflt;
  if (raw === false) return null;
  if (raw === true) return () => true;
  if (Array.isArray(raw)) {
    const names = raw.map(String);
    return (n) => names.includes(n);
  }
  throw jsonFormatError('data did not match any variant of untagged enum WithVector');
}
