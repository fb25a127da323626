import type { RepoContext } from './context';
import { openJson } from './envelope';
import { ArtifactNotFoundError, ArtifactRefMismatchError, CorruptObjectError, MissingObjectError } from './errors';
import { CHUNK_ID_RE, OBJECT_TYPES, artifactObject, type ArtifactIndexDoc } from './format';
import type { ArtifactRef } from './types';

/** Reads and authenticates artifact index `indexId`; ArtifactNotFoundError if it does not exist. */
export async function loadArtifactIndex(ctx: RepoContext, indexId: string): Promise<ArtifactIndexDoc> {
  const name = artifactObject(indexId);
  let blob: Buffer;
  try {
    blob = await ctx.backend.get(name);
  } catch (e) {
    if (e instanceof MissingObjectError) throw new ArtifactNotFoundError(indexId);
    throw e;
  }
  const doc = await openJson<ArtifactIndexDoc>(ctx.keys, OBJECT_TYPES.artifactIndex, name, blob, 'artifact-index');
  if (doc.id !== indexId || !Array.isArray(doc.chunks))
    throw new CorruptObjectError(name, 'index document does not describe this artifact');
  let total = 0;
  for (const c of doc.chunks) {
    if (
      !Array.isArray(c) ||
      typeof c[0] !== 'string' ||
      !CHUNK_ID_RE.test(c[0]) ||
      !Number.isSafeInteger(c[1]) ||
      c[1] <= 0
    )
      throw new CorruptObjectError(name, 'malformed chunk entry');
    total += c[1];
  }
  if (total !== doc.size)
    throw new CorruptObjectError(name, `chunk sizes add up to ${total}, not the recorded ${doc.size}`);
  return doc;
}

/** Throws ArtifactRefMismatchError if `ref` does not describe `doc`. */
export function checkRefMatches(ref: ArtifactRef, doc: ArtifactIndexDoc): void {
  const pairs: [string, unknown, unknown][] = [
    ['source', doc.source, ref.source],
    ['kind', doc.kind, ref.kind],
    ['name', doc.name, ref.name],
    ['size', doc.size, ref.size],
    ['sha256', doc.sha256, ref.sha256],
    ['chunks', doc.chunks.length, ref.chunks],
  ];
  for (const [field, expected, actual] of pairs)
    if (expected !== actual) throw new ArtifactRefMismatchError(ref.indexId, field, expected, actual);
}
