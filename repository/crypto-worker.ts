/**
 * Worker thread of the crypto pool (repository/crypto-pool.ts): chunk ids
 * (HMAC-SHA256), sealing (zstd + AES-256-GCM) and opening (decrypt,
 * decompress, id check) off the JS thread. Same code as the main thread
 * (envelope.ts), so the format cannot drift between the two.
 */
import { parentPort } from 'node:worker_threads';
import { chunkId, openChunk, openPackBlobs, sealObjectParts } from './envelope';
import { CorruptObjectError, UnsupportedVersionError } from './errors';
import { OBJECT_TYPES } from './format';
import type { PoolReply, PoolRequest } from './crypto-pool';

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** A buffer whose bytes can be moved (not copied) to the other thread. */
function owned(b: Buffer): { buf: Buffer; transfer: ArrayBuffer[] } {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer)
    return { buf: b, transfer: [b.buffer] };
  const c = new Uint8Array(new ArrayBuffer(b.length));
  c.set(b);
  return { buf: Buffer.from(c.buffer), transfer: [c.buffer] };
}

async function handle(req: PoolRequest): Promise<{ reply: PoolReply; transfer: ArrayBuffer[] }> {
  const keys = { dataKey: asBuffer(req.dataKey), idKey: asBuffer(req.idKey) };
  if (req.op === 'id')
    return {
      reply: { seq: req.seq, id: chunkId(keys.idKey, req.data), data: req.data },
      transfer: [req.data.buffer as ArrayBuffer],
    };
  if (req.op === 'seal') {
    const type = req.type ?? OBJECT_TYPES.chunk;
    const parts = await sealObjectParts(keys, type, req.name, asBuffer(req.data), req.level, req.version);
    // Moved back, copied only where a part is a view of a bigger buffer.
    const moved = parts.map(owned);
    return { reply: { seq: req.seq, parts: moved.map((m) => m.buf) }, transfer: moved.flatMap((m) => m.transfer) };
  }
  const plain =
    req.op === 'openPack'
      ? await openPackBlobs(keys, req.name, asBuffer(req.data), req.blobs, req.checkIds)
      : await openChunk(keys, req.name, req.id, asBuffer(req.data));
  const m = owned(plain);
  return { reply: { seq: req.seq, plain: m.buf }, transfer: m.transfer };
}

parentPort!.on('message', (req: PoolRequest) => {
  handle(req).then(
    ({ reply, transfer }) => parentPort!.postMessage(reply, transfer),
    (e: unknown) => {
      const error =
        e instanceof CorruptObjectError
          ? { kind: 'corrupt' as const, object: e.object, reason: e.reason }
          : e instanceof UnsupportedVersionError
            ? { kind: 'version' as const, object: e.object, version: e.version, supported: e.supported }
            : { kind: 'other' as const, message: e instanceof Error ? e.message : String(e) };
      parentPort!.postMessage({ seq: req.seq, error } satisfies PoolReply);
    },
  );
});
