import { InvalidArgumentError } from './errors';
import { CHUNK_ID_RE, RANDOM_ID_RE } from './format';
import type { ArtifactMeta, ArtifactRef } from './types';

const MAX_TEXT = 1024;

export function validateText(
  value: unknown,
  what: string,
  { allowEmpty = false, max = MAX_TEXT } = {},
): asserts value is string {
  if (typeof value !== 'string')
    throw new InvalidArgumentError(what, `must be a string, got ${value === null ? 'null' : typeof value}`);
  if (!allowEmpty && value.length === 0) throw new InvalidArgumentError(what, 'must not be empty');
  if (value.length > max)
    throw new InvalidArgumentError(what, `must be at most ${max} characters, got ${value.length}`);

  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidArgumentError(what, 'must not contain control characters');
}

export function validateMeta(meta: ArtifactMeta): void {
  if (!meta || typeof meta !== 'object')
    throw new InvalidArgumentError('artifact meta', 'must be an object { source, kind, name }');
  validateText(meta.source, 'artifact meta.source');
  validateText(meta.kind, 'artifact meta.kind');
  validateText(meta.name, 'artifact meta.name', { allowEmpty: true });
}

/** Shape checks of an ArtifactRef (its content is checked against the stored index where it matters). */
export function validateRef(ref: ArtifactRef, what = 'artifact reference'): void {
  if (!ref || typeof ref !== 'object')
    throw new InvalidArgumentError(what, 'must be an object as returned by writeArtifact');
  validateMeta(ref);
  if (typeof ref.indexId !== 'string' || !RANDOM_ID_RE.test(ref.indexId))
    throw new InvalidArgumentError(
      `${what}.indexId`,
      `must be 32 lowercase hex digits, got ${JSON.stringify(ref.indexId)}`,
    );
  if (typeof ref.sha256 !== 'string' || !CHUNK_ID_RE.test(ref.sha256))
    throw new InvalidArgumentError(`${what}.sha256`, 'must be 64 lowercase hex digits');
  if (!Number.isSafeInteger(ref.size) || ref.size < 0)
    throw new InvalidArgumentError(`${what}.size`, `must be a non-negative integer, got ${JSON.stringify(ref.size)}`);
  if (!Number.isSafeInteger(ref.chunks) || ref.chunks < 0)
    throw new InvalidArgumentError(
      `${what}.chunks`,
      `must be a non-negative integer, got ${JSON.stringify(ref.chunks)}`,
    );
  if (ref.metadata !== undefined) {
    if (!ref.metadata || typeof ref.metadata !== 'object' || Array.isArray(ref.metadata))
      throw new InvalidArgumentError(`${what}.metadata`, 'must be a plain object');
    try {
      JSON.stringify(ref.metadata);
    } catch (e) {
      throw new InvalidArgumentError(`${what}.metadata`, `must be JSON-serializable (${(e as Error).message})`);
    }
  }
}

export function validateTags(tags: unknown): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw new InvalidArgumentError('tags', 'must be an array of strings');
  tags.forEach((t, i) => validateText(t, `tags[${i}]`, { max: 256 }));
  return [...new Set(tags as string[])];
}

export function validateLabels(labels: unknown): Record<string, string> {
  if (labels === undefined) return {};
  if (!labels || typeof labels !== 'object' || Array.isArray(labels))
    throw new InvalidArgumentError('labels', 'must be an object of string values');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    validateText(k, 'label name', { max: 256 });
    validateText(v, `labels.${k}`, { allowEmpty: true });
    out[k] = v as string;
  }
  return out;
}
