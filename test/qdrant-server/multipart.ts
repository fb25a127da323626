import type { IncomingMessage } from 'node:http';
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { ApiError } from './api-error';
import { closeStream, writeChunk } from './collection-files';

export interface SavedUpload {
  file: string;
  filename?: string;
  size: number;
  sha256: string;
}

/**
 * Streams the multipart/form-data field `field` of a request into `dest`,
 * hashing it on the way; memory stays at about one chunk whatever the size.
 */
export async function saveMultipartField(req: IncomingMessage, field: string, dest: string): Promise<SavedUpload> {
  const ct = req.headers['content-type'] ?? '';
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
  if (!/^multipart\/form-data/i.test(ct) || !m)
    throw new ApiError(400, 'Content type error: expected multipart/form-data with a boundary');
  const boundary = m[1] ?? m[2];
  const first = Buffer.from(`--${boundary}`);
  const delim = Buffer.from(`\r\n--${boundary}`);

  type State = 'preamble' | 'headers' | 'body' | 'after' | 'done';
  let state: State = 'preamble';
  let buf: Buffer = Buffer.alloc(0);
  let current: { name?: string; filename?: string } = {};
  let ws: ReturnType<typeof createWriteStream> | undefined;
  let saved: SavedUpload | undefined;
  const hash = createHash('sha256');
  let size = 0;

  const emit = async (data: Buffer) => {
    if (!ws || !data.length) return;
    hash.update(data);
    size += data.length;
    await writeChunk(ws, data);
  };

  try {
    const step = async (final: boolean): Promise<boolean> => {
      switch (state) {
        case 'preamble': {
          const i = buf.indexOf(first);
          if (i < 0) return false;
          buf = buf.subarray(i + first.length);
          state = 'after';
          return true;
        }
        case 'after': {
          if (buf.length < 2) return false;
          if (buf[0] === 0x2d && buf[1] === 0x2d) {
            state = 'done';
            return false;
          }
          buf = buf.subarray(buf[0] === 0x0d && buf[1] === 0x0a ? 2 : 0);
          state = 'headers';
          return true;
        }
        case 'headers': {
          const i = buf.indexOf('\r\n\r\n');
          if (i < 0) return false;
          const headers = buf.subarray(0, i).toString('utf8');
          buf = buf.subarray(i + 4);
          const disp = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
          current = { name: /\bname="([^"]*)"/i.exec(disp)?.[1], filename: /\bfilename="([^"]*)"/i.exec(disp)?.[1] };
          if (current.name === field && !saved) ws = createWriteStream(dest);
          state = 'body';
          return true;
        }
        case 'body': {
          const i = buf.indexOf(delim);
          if (i >= 0) {
            await emit(buf.subarray(0, i));
            buf = buf.subarray(i + delim.length);
            if (ws) {
              await closeStream(ws);
              ws = undefined;
              saved = { file: dest, filename: current.filename, size, sha256: hash.digest('hex') };
            }
            state = 'after';
            return true;
          }
          // Keep a tail that might be the start of the delimiter.
          const keep = final ? 0 : delim.length - 1;
          if (buf.length > keep) {
            await emit(buf.subarray(0, buf.length - keep));
            buf = buf.subarray(buf.length - keep);
          }
          return false;
        }
        case 'done':
          return false;
      }
    };
    for await (const chunk of req) {
      buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer);
      while (await step(false));
    }
    while (await step(true));
  } catch (e) {
    ws?.destroy();
    throw e;
  }
  if (ws) {
    ws.destroy();
    throw new ApiError(400, 'Multipart stream is incomplete: the request ended inside a part');
  }
  if (!saved) throw new ApiError(400, `Multipart form field \`${field}\` is missing`);
  return saved;
}
