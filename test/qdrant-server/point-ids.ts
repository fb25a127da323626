import { ApiError, jsonFormatError } from './api-error';

/** Qdrant's ExtendedPointId: an unsigned integer or a UUID (stored hyphenated, lower case). */
export type PointId = number | string;

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function normalizeUuid(s: string): string | undefined {
  let t = s.trim();
  if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
  if (t.toLowerCase().startsWith('urn:uuid:')) t = t.slice(9);
  if (!UUID_RE.test(t)) return undefined;
  const hex = t.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Validates a JSON point id; the message is serde's for an untagged ExtendedPointId. */
export function parsePointId(v: unknown): PointId {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0) {
      // Above 2^53 JSON.parse already lost digits: refuse instead of storing a different id.
      if (!Number.isSafeInteger(v))
        throw new ApiError(
          400,
          `Bad request: point id ${v} exceeds 2^53, which the Lifeboat Qdrant stand-in cannot store exactly`,
        );
      return v;
    }
  } else if (typeof v === 'string') {
    const u = normalizeUuid(v);
    if (u) return u;
  }
  throw jsonFormatError(
    `value ${JSON.stringify(v)} is not a valid point ID, valid values are either an unsigned integer or a UUID`,
  );
}

/** Parses an id from a URL path segment (GET /points/{id}). */
export function parsePathPointId(s: string): PointId {
  if (/^\d+$/.test(s)) return parsePointId(Number(s));
  return parsePointId(s);
}

/** Map key: numbers and UUIDs never collide. */
export const idKey = (id: PointId): string => (typeof id === 'number' ? `n${id}` : `u${id}`);

/** Qdrant's id order: all integer ids ascending, then UUIDs by their 128-bit value. */
export function compareIds(a: PointId, b: PointId): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
