/**
 * A small pool of worker threads for the per-chunk CPU work: HMAC ids,
 * zstd + AES-GCM sealing, and opening (decrypt, decompress, re-hash) on
 * restore and verify. The JS thread keeps the sequential parts (gear scan,
 * the whole-stream SHA-256, I/O), so on a 2-core machine both cores work.
 *
 * Data moves (is transferred, not cloned) between threads: a chunk is copied
 * once out of the chunker's slab, goes to a worker for its id and comes back,
 * and goes again to be sealed if it is new. (SharedArrayBuffer slabs would save
 * that copy but a slab then lives until a worker's GC runs: unbounded memory.)
 * Workers are unref'd: an idle pool never keeps the process alive.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { MasterKeys } from './envelope';
import type { ObjectType } from './format';
import { CorruptObjectError, UnsupportedVersionError } from './errors';

export type PoolRequest =
  | { seq: number; op: 'id'; dataKey: Uint8Array; idKey: Uint8Array; data: Uint8Array }
  | {
      seq: number;
      op: 'seal';
      dataKey: Uint8Array;
      idKey: Uint8Array;
      data: Uint8Array;
      name: string;
      level?: number;
      /** @default OBJECT_TYPES.chunk */
      type?: ObjectType;
      /** @default V1 */
      version?: number;
    }
  | { seq: number; op: 'open'; dataKey: Uint8Array; idKey: Uint8Array; data: Uint8Array; name: string; id: string }
  | {
      seq: number;
      op: 'openPack';
      dataKey: Uint8Array;
      idKey: Uint8Array;
      data: Uint8Array;
      name: string;
      blobs: [string, number, number][];
      checkIds: boolean;
    };

export type PoolReply =
  | { seq: number; id: string; data: Uint8Array }
  | { seq: number; parts: Uint8Array[] }
  | { seq: number; plain: Uint8Array }
  | {
      seq: number;
      error:
        | { kind: 'corrupt'; object: string; reason: string }
        | { kind: 'version'; object: string; version: number; supported: number }
        | { kind: 'other'; message: string };
    };

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;

type Pending = { resolve: (r: PoolReply) => void; reject: (e: unknown) => void; worker: number };

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

class CryptoPool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;

  constructor(size: number) {
    const ext = path.extname(__filename);
    const file = path.join(__dirname, `crypto-worker${ext}`);
    for (let i = 0; i < size; i++) {
      // Source checkouts (tests, benches, the dev CLI) run TypeScript through tsx: register it in the worker first.
      // A small young generation: the workers' data lives outside the heap, and
      // the default semi-spaces cost every worker ~30 MB of RSS for nothing.
      const resourceLimits = { maxYoungGenerationSizeMb: 4 };
      const w =
        ext === '.ts'
          ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(file)});`, {
              eval: true,
              resourceLimits,
            })
          : new Worker(file, { resourceLimits });
      w.unref();
      w.on('message', (r: PoolReply) => this.settle(r));
      w.on('error', (e) => this.fail(i, e));
      w.on('exit', (code) => this.fail(i, new Error(`crypto worker exited with code ${code}`)));
      this.workers.push(w);
      this.load.push(0);
    }
  }

  private settle(r: PoolReply): void {
    const p = this.pending.get(r.seq);
    if (!p) return;
    this.pending.delete(r.seq);
    this.load[p.worker]--;
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    p.resolve(r);
  }

  private fail(worker: number, e: unknown): void {
    for (const [seq, p] of this.pending)
      if (p.worker === worker) {
        this.pending.delete(seq);
        p.reject(e);
      }
    pool = undefined; // the next call starts a fresh pool
  }

  call(req: WithoutSeq<PoolRequest>, transfer: ArrayBuffer[] = []): Promise<PoolReply> {
    const seq = ++this.seq;
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[w]) w = i;
    this.load[w]++;
    // Ref'd while work is in flight, so a pending call keeps the process alive.
    this.workers[w].ref();
    return new Promise<PoolReply>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, worker: w });
      this.workers[w].postMessage({ ...req, seq }, transfer);
    });
  }
}

let pool: CryptoPool | undefined;

/**
 * Worker count: cores - 1, at least 1, at most 3. The JS thread keeps one core
 * busy (gear scan, stream hash, I/O) and zstd itself runs on libuv threads;
 * every extra worker costs ~40 MB of RSS (its own V8 heap).
 */
function get(): CryptoPool {
  pool ??= new CryptoPool(Math.max(1, Math.min(3, (os.availableParallelism?.() ?? os.cpus().length) - 1)));
  return pool;
}

function unwrap(r: PoolReply): PoolReply {
  if (!('error' in r)) return r;
  const e = r.error;
  if (e.kind === 'corrupt') throw new CorruptObjectError(e.object, e.reason);
  if (e.kind === 'version') throw new UnsupportedVersionError(e.object, e.version, e.supported);
  throw new Error(e.message);
}

// Own 32-byte copies: a key that is a view of a bigger buffer would otherwise clone all of it with every message.
const keyCopies = new WeakMap<MasterKeys, { dataKey: Uint8Array; idKey: Uint8Array }>();
function keyFields(k: MasterKeys): { dataKey: Uint8Array; idKey: Uint8Array } {
  let c = keyCopies.get(k);
  if (!c) keyCopies.set(k, (c = { dataKey: new Uint8Array(k.dataKey), idKey: new Uint8Array(k.idKey) }));
  return c;
}

/** An own copy of `b` that can be moved to a worker (a slab view would clone, or pin, the whole slab). */
export function movable(b: Uint8Array): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b;
  const c = new Uint8Array(b.length);
  c.set(b);
  return c;
}

/** Chunk id of `data`, which moves to the worker and back: use the returned `data` afterwards. */
export async function poolChunkId(keys: MasterKeys, data: Uint8Array): Promise<{ id: string; data: Buffer }> {
  const r = unwrap(await get().call({ op: 'id', ...keyFields(keys), data }, [data.buffer as ArrayBuffer])) as {
    id: string;
    data: Uint8Array;
  };
  return { id: r.id, data: asBuffer(r.data) };
}

/** sealObjectParts of a chunk on a worker; `data` moves there (do not use it afterwards). */
export async function poolSealChunk(
  keys: MasterKeys,
  name: string,
  data: Uint8Array,
  level?: number,
): Promise<Buffer[]> {
  const r = unwrap(
    await get().call({ op: 'seal', ...keyFields(keys), data, name, level }, [data.buffer as ArrayBuffer]),
  ) as { parts: Uint8Array[] };
  return r.parts.map(asBuffer);
}

/** sealObjectParts of any object on a worker; `data` moves there (do not use it afterwards). */
export async function poolSealObject(
  keys: MasterKeys,
  type: ObjectType,
  name: string,
  data: Uint8Array,
  level: number | undefined,
  version: number,
): Promise<Buffer[]> {
  const own = movable(data);
  const r = unwrap(
    await get().call({ op: 'seal', ...keyFields(keys), data: own, name, level, type, version }, [
      own.buffer as ArrayBuffer,
    ]),
  ) as { parts: Uint8Array[] };
  return r.parts.map(asBuffer);
}

/** openPackBlobs on a worker: the pack's plain bytes, every blob checked against `blobs`; `blob` is moved there. */
export async function poolOpenPack(
  keys: MasterKeys,
  name: string,
  blob: Buffer,
  blobs: [string, number, number][],
  checkIds: boolean,
): Promise<Buffer> {
  const data = movable(blob);
  const r = unwrap(
    await get().call({ op: 'openPack', ...keyFields(keys), data, name, blobs, checkIds }, [data.buffer as ArrayBuffer]),
  ) as { plain: Uint8Array };
  return asBuffer(r.plain);
}

/** openChunk on a worker; `blob` is moved there (do not use it afterwards). */
export async function poolOpenChunk(keys: MasterKeys, name: string, id: string, blob: Buffer): Promise<Buffer> {
  const data = movable(blob);
  const r = unwrap(
    await get().call({ op: 'open', ...keyFields(keys), data, name, id }, [data.buffer as ArrayBuffer]),
  ) as {
    plain: Uint8Array;
  };
  return asBuffer(r.plain);
}
