import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { checkRefMatches, loadArtifactIndex } from './artifact-index';
import type { RepoContext } from './context';
import { poolOpenChunk } from './crypto-pool';
import { ArtifactIntegrityError, CorruptObjectError, OperationAbortedError } from './errors';
import { chunkObject } from './format';
import type { ArtifactRef, ReadOptions } from './types';
import { validateRef } from './validate';

/**
 * The artifact's bytes as a stream. Chunks are fetched `readConcurrency`
 * ahead (bounded memory), each authenticated, decrypted, decompressed and
 * re-hashed against its id; the sha256 and size of the whole stream are
 * checked at the end. Any failure errors the stream with a typed error that
 * names the object.
 */
export function readArtifact(ctx: RepoContext, ref: ArtifactRef, opts: ReadOptions = {}): Readable {
  validateRef(ref);
  const { signal } = opts;
  async function* bytes(): AsyncGenerator<Buffer> {
    const doc = await loadArtifactIndex(ctx, ref.indexId);
    checkRefMatches(ref, doc);
    const fetchChunk = async (i: number): Promise<Buffer> => {
      const [id, len] = doc.chunks[i];
      const name = chunkObject(id);
      // Decrypt, decompress and id check on a crypto worker; the blob moves there.
      const plain = await poolOpenChunk(ctx.keys, name, id, await ctx.backend.get(name));
      if (plain.length !== len)
        throw new CorruptObjectError(name, `holds ${plain.length} bytes where the index says ${len}`);
      return plain;
    };
    const ahead: Promise<Buffer>[] = [];
    let next = 0;
    const fill = () => {
      while (next < doc.chunks.length && ahead.length < ctx.opts.readConcurrency) {
        const p = fetchChunk(next++);
        p.catch(() => undefined); // awaited in order below; avoids an unhandled rejection if we stop early
        ahead.push(p);
      }
    };
    const sha = createHash('sha256');
    let size = 0;
    fill();
    while (ahead.length) {
      if (signal?.aborted) throw new OperationAbortedError(`reading artifact ${ref.indexId}`, signal.reason);
      const chunk = await ahead.shift()!;
      fill();
      sha.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    const digest = sha.digest('hex');
    if (digest !== doc.sha256 || size !== doc.size)
      throw new ArtifactIntegrityError(ref.indexId, { size: doc.size, sha256: doc.sha256 }, { size, sha256: digest });
  }
  return Readable.from(bytes(), { objectMode: false, highWaterMark: 1024 * 1024 });
}
