import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { checkRefMatches, isPackRun, loadArtifactIndex } from './artifact-index';
import type { RepoContext } from './context';
import { poolOpenChunk } from './crypto-pool';
import { ArtifactIntegrityError, CorruptObjectError, OperationAbortedError } from './errors';
import { PACKING, chunkObject, packIndexObject, type ArtifactIndexDoc } from './format';
import { openPack, type OpenedPack } from './packs';
import type { ArtifactRef, ReadOptions } from './types';
import { validateRef } from './validate';

/**
 * Opened packs of one read, each kept until the last part that needs it has
 * been fetched (a record stream's parts come from a few packs at a time: the
 * full backup's, read in order, and the later backups' small change packs).
 */
class PackCache {
  private readonly open = new Map<number, Promise<OpenedPack>>();
  private readonly lastUse = new Map<number, number>();

  constructor(
    private readonly ctx: RepoContext,
    private readonly doc: ArtifactIndexDoc,
  ) {
    doc.chunks.forEach((e, i) => {
      if (isPackRun(e)) this.lastUse.set(e[0], i);
    });
  }

  /** The plain bytes of part `i`, a run of pack blobs. */
  async run(i: number): Promise<Buffer> {
    const [p, first, count, bytes] = this.doc.chunks[i] as [number, number, number, number];
    let opened = this.open.get(p);
    if (!opened) {
      opened = openPack(this.ctx, this.doc.packs![p]);
      this.open.set(p, opened);
    }
    if (this.lastUse.get(p) === i) this.open.delete(p);
    const { plain, index } = await opened;
    const blobs = index.blobs;
    if (first + count > blobs.length)
      throw new CorruptObjectError(
        packIndexObject(index.id),
        `lists ${blobs.length} blobs where the artifact needs blobs ${first}-${first + count - 1}`,
      );
    // Blobs lie back to back: a run is one slice of the pack.
    const start = blobs[first][1];
    const end = blobs[first + count - 1][1] + blobs[first + count - 1][2];
    if (end - start !== bytes)
      throw new CorruptObjectError(
        packIndexObject(index.id),
        `blobs ${first}-${first + count - 1} hold ${end - start} bytes where the artifact index says ${bytes}`,
      );
    return plain.subarray(start, end);
  }
}

/**
 * The artifact's bytes as a stream. Parts (loose chunks, runs of pack blobs)
 * are fetched `readConcurrency` ahead (bounded memory), each authenticated,
 * decrypted, decompressed and re-hashed against its id; the sha256 and size
 * of the whole stream are checked at the end. Any failure errors the stream
 * with a typed error that names the object.
 */
export function readArtifact(ctx: RepoContext, ref: ArtifactRef, opts: ReadOptions = {}): Readable {
  validateRef(ref);
  const { signal } = opts;
  async function* bytes(): AsyncGenerator<Buffer> {
    const doc = await loadArtifactIndex(ctx, ref.indexId);
    checkRefMatches(ref, doc);
    const packs = new PackCache(ctx, doc);
    const fetchPart = async (i: number): Promise<Buffer> => {
      const e = doc.chunks[i];
      if (isPackRun(e)) return packs.run(i);
      const [id, len] = e;
      const name = chunkObject(id);
      // Decrypt, decompress and id check on a crypto worker; the blob moves there.
      const plain = await poolOpenChunk(ctx.keys, name, id, await ctx.backend.get(name));
      if (plain.length !== len)
        throw new CorruptObjectError(name, `holds ${plain.length} bytes where the index says ${len}`);
      return plain;
    };
    const ahead: Promise<Buffer>[] = [];
    const aheadSizes: number[] = [];
    let aheadBytes = 0;
    let next = 0;
    // Runs of pack blobs can be a few hundred bytes each: they are read ahead
    // by bytes (so the next packs are fetching while this one is consumed),
    // loose chunks by count.
    const runBudget = ctx.opts.readConcurrency * PACKING.target;
    const sizeOf = (i: number) => {
      const e = doc.chunks[i];
      return isPackRun(e) ? e[3] : e[1];
    };
    const fill = () => {
      while (
        next < doc.chunks.length &&
        (ahead.length < ctx.opts.readConcurrency ||
          (isPackRun(doc.chunks[next]) && aheadBytes < runBudget && ahead.length < 65536))
      ) {
        const n = sizeOf(next);
        const p = fetchPart(next++);
        p.catch(() => undefined); // awaited in order below; avoids an unhandled rejection if we stop early
        ahead.push(p);
        aheadSizes.push(n);
        aheadBytes += n;
      }
    };
    const sha = createHash('sha256');
    let size = 0;
    fill();
    while (ahead.length) {
      if (signal?.aborted) throw new OperationAbortedError(`reading artifact ${ref.indexId}`, signal.reason);
      const chunk = await ahead.shift()!;
      aheadBytes -= aheadSizes.shift()!;
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
