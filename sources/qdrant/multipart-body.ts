import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * A multipart/form-data body with one file field, streamed: the file bytes
 * pass through as they are read (with backpressure), never buffered whole.
 */
export function multipartFileBody(
  field: string,
  filename: string,
  file: AsyncIterable<Buffer | Uint8Array | string>,
  onChunk?: (chunk: Buffer) => void,
): { body: Readable; contentType: string } {
  const boundary = `lifeboat-${randomBytes(16).toString('hex')}`;
  async function* parts(): AsyncGenerator<Buffer> {
    yield Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename.replace(/"/g, '')}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    for await (const chunk of file) {
      const b =
        typeof chunk === 'string'
          ? Buffer.from(chunk)
          : Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      onChunk?.(b);
      yield b;
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return {
    body: Readable.from(parts(), { objectMode: false }),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
