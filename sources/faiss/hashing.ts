import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FaissCancelledError } from './errors';

/** Read size for index files: large enough for disk throughput, small enough to keep memory flat. */
export const READ_CHUNK = 1024 * 1024;

/** Pass-through that hashes (sha256) and counts what flows through it. */
export class HashingTransform extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  constructor(
    private readonly onChunk?: (bytes: number) => void,
    /** Fails the stream as soon as more than this many bytes arrive. */
    private readonly limit?: { bytes: number; error: () => Error },
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.limit && this.bytes > this.limit.bytes) return cb(this.limit.error());
    this.hash.update(chunk);
    this.onChunk?.(this.bytes);
    cb(null, chunk);
  }

  /** Only valid once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Streams a file through sha256 (bounded memory). */
export async function hashFile(file: string, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  const h = new HashingTransform();
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: READ_CHUNK }),
      h,
      async (src: AsyncIterable<Buffer>) => {
        for await (const _ of src) void _;
      },
      { signal },
    );
  } catch (e) {
    if (signal?.aborted) throw new FaissCancelledError(file, { cause: signal.reason });
    throw e;
  }
  return { size: h.bytes, sha256: h.digest() };
}
