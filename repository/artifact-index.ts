import type { RepoContext } from './context';
import { openJson } from './envelope';
import { ArtifactNotFoundError, ArtifactRefMismatchError, CorruptObjectError, MissingObjectError } from './errors';
import {
  CHUNK_ID_RE,
  OBJECT_TYPES,
  RANDOM_ID_RE,
  artifactObject,
  chunkObject,
  packIndexObject,
  packObject,
  type ArtifactIndexDoc,
  type ChunkEntry,
  type PackRun,
} from './format';

/** Whether an index entry is a run of pack blobs (v2) rather than a loose chunk. */
export const isPackRun = (e: ChunkEntry | PackRun): e is PackRun => typeof e[0] === 'number';

/** The loose chunk ids of an artifact, and the ids of the packs it reads from. */
export function partsOf(doc: ArtifactIndexDoc): { chunks: string[]; packs: string[] } {
  const chunks: string[] = [];
  const used = new Set<number>();
  for (const e of doc.chunks) {
    if (isPackRun(e)) used.add(e[0]);
    else chunks.push(e[0]);
  }
  return { chunks, packs: [...used].map((i) => doc.packs![i]) };
}

/** Every data object an artifact needs: its loose chunks, its packs and their indexes. */
export function dataObjectsOf(doc: ArtifactIndexDoc): string[] {
  const { chunks, packs } = partsOf(doc);
  return [...chunks.map(chunkObject), ...packs.flatMap((p) => [packObject(p), packIndexObject(p)])];
}
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
  const packs = doc.packs ?? [];
  if (!Array.isArray(packs) || !packs.every((p) => typeof p === 'string' && RANDOM_ID_RE.test(p)))
    throw new CorruptObjectError(name, 'malformed pack table');
  let total = 0;
  for (const c of doc.chunks) {
    if (!Array.isArray(c)) throw new CorruptObjectError(name, 'malformed chunk entry');
    if (typeof c[0] === 'number') {
      const [p, first, count, bytes] = c as PackRun;
      if (
        c.length !== 4 ||
        doc.v < 2 ||
        !(Number.isSafeInteger(p) && p >= 0 && p < packs.length) ||
        !(Number.isSafeInteger(first) && first >= 0) ||
        !(Number.isSafeInteger(count) && count > 0) ||
        !(Number.isSafeInteger(bytes) && bytes > 0)
      )
        throw new CorruptObjectError(name, 'malformed pack run entry');
      total += bytes;
      continue;
    }
    if (typeof c[0] !== 'string' || !CHUNK_ID_RE.test(c[0]) || !Number.isSafeInteger(c[1]) || c[1] <= 0)
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
