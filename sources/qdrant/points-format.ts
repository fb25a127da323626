import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { canonicalJson } from './canonical';
import { QdrantBackupFormatError } from './errors';
import type { QdrantCollectionMeta } from './types';

/**
 * Points-mode stream: NDJSON, portable across Qdrant versions.
 *   line 1        header  {"format":"lifeboat.qdrant.points","version":1,"meta":{…}}
 *   lines 2..n+1  points  {"id":…,"payload":{…},"vector":[…] | {"name":[…]}}
 *   last line     trailer {"end":true,"count":n,"digest":"…"}
 * Keys are sorted and points come in id order, so unchanged points give
 * unchanged bytes (the repository deduplicates them), and the trailer makes a
 * cut-short stream detectable.
 */
export const POINTS_FORMAT = 'lifeboat.qdrant.points';
export const POINTS_FORMAT_VERSION = 1;

export interface PointsHeader {
  format: typeof POINTS_FORMAT;
  version: number;
  meta: QdrantCollectionMeta;
}

export interface PointsTrailer {
  end: true;
  count: number;
  digest: string;
}

export interface PointLine {
  id: string | number;
  vector?: unknown;
  payload?: Record<string, unknown>;
}

export const headerLine = (meta: QdrantCollectionMeta) =>
  `${canonicalJson({ format: POINTS_FORMAT, meta, version: POINTS_FORMAT_VERSION })}\n`;
export const pointLine = (p: PointLine) =>
  `${canonicalJson({ id: p.id, payload: p.payload ?? {}, vector: p.vector ?? {} })}\n`;
export const trailerLine = (t: Omit<PointsTrailer, 'end'>) =>
  `${canonicalJson({ count: t.count, digest: t.digest, end: true })}\n`;

export function parseHeader(line: string | undefined): PointsHeader {
  if (line === undefined) throw new QdrantBackupFormatError('the stream is empty', 1);
  let h: Partial<PointsHeader>;
  try {
    h = JSON.parse(line);
  } catch {
    throw new QdrantBackupFormatError('the first line is not JSON', 1);
  }
  if (h?.format !== POINTS_FORMAT)
    throw new QdrantBackupFormatError(`the first line is not a ${POINTS_FORMAT} header`, 1);
  if (h.version !== POINTS_FORMAT_VERSION)
    throw new QdrantBackupFormatError(
      `format version ${String(h.version)} is not supported (this Lifeboat reads version ${POINTS_FORMAT_VERSION})`,
      1,
    );
  if (!h.meta || typeof h.meta.createBody !== 'object' || typeof h.meta.vectors !== 'object')
    throw new QdrantBackupFormatError('the header has no collection config', 1);
  return h as PointsHeader;
}

/** Lines of a byte stream with their 1-based numbers; holds one chunk plus one partial line at most. */
export async function* ndjsonLines(stream: Readable): AsyncGenerator<{ line: string; n: number; bytes: number }> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  for await (const chunk of stream) {
    const parts = (rest + decoder.write(chunk as Buffer)).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) yield { line, n: ++n, bytes: Buffer.byteLength(line) + 1 };
  }
  rest += decoder.end();
  if (rest) yield { line: rest, n: ++n, bytes: Buffer.byteLength(rest) };
}
