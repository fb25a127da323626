import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Chunker } from './chunker';
import type { RepoContext } from './context';
import { movable, poolChunkId, poolOpenChunk, poolSealChunk } from './crypto-pool';
import { sealJson } from './envelope';
import { isPackRun } from './artifact-index';
import { KnownBlobs, PackBuilder, loadKnownBlobs, openPack, type BlobLocation } from './packs';
import { OperationAbortedError } from './errors';
import {
  LOCK_KINDS,
  OBJECT_TYPES,
  PACKING,
  PATHS,
  V1,
  V2,
  artifactObject,
  chunkIdOf,
  chunkObject,
  packIndexObject,
  packObject,
  type ArtifactIndexDoc,
  type ChunkEntry,
  type PackRun,
} from './format';
import type { WriterLock } from './locks';
import type { ArtifactMeta, WriteOptions, WriteResult } from './types';
import { validateMeta } from './validate';
import { startSpan } from '../lib/spans';

/** Every chunk id in the repository, from a listing (the dedup set; ~100 bytes of memory per chunk). */
async function loadChunkIds(ctx: RepoContext): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const key of ctx.backend.listKeys(PATHS.data)) {
    const id = chunkIdOf(key);
    if (id) ids.add(id);
  }
  return ids;
}

/** Whether the stored chunk `name` authenticates and holds `size` plain bytes (false when damaged or gone). */
async function chunkIsSound(ctx: RepoContext, name: string, id: string, size: number): Promise<boolean> {
  try {
    const plain = await poolOpenChunk(ctx.keys, name, id, await ctx.backend.get(name));
    return plain.length === size;
  } catch {
    return false;
  }
}

/** Runs tasks with at most `limit` in flight; the first failure stops new work and is rethrown. */
class TaskPool {
  private readonly active = new Set<Promise<void>>();
  private error: unknown;
  private failed = false;

  constructor(private readonly limit: number) {}

  /** Resolves once the task has started (waiting for a free slot first). */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.active.size >= this.limit) await Promise.race(this.active);
    this.throwIfFailed();
    const p: Promise<void> = task()
      .catch((e) => {
        if (!this.failed) {
          this.failed = true;
          this.error = e;
        }
      })
      .finally(() => this.active.delete(p));
    this.active.add(p);
  }

  throwIfFailed(): void {
    if (this.failed) throw this.error;
  }

  /** Waits for tasks in flight, ignoring their outcome (so nothing writes after a failed write returns). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.active]);
  }

  async drain(): Promise<void> {
    while (this.active.size) await Promise.race(this.active);
    this.throwIfFailed();
  }
}

function toBytes(piece: unknown): Uint8Array {
  if (piece instanceof Uint8Array) return piece;
  if (typeof piece === 'string') return Buffer.from(piece, 'utf8');
  throw new TypeError(`writeArtifact input yielded ${typeof piece}; expected Buffer/Uint8Array chunks`);
}

/**
 * The write path: chunk (on this thread), hash, deduplicate; new chunks are
 * compressed (libuv threads), encrypted and stored by a bounded pool, so
 * chunking of the next bytes overlaps the storing of earlier chunks and
 * memory stays bounded (about writeConcurrency x 3 x maxSize).
 */
export async function writeArtifact(
  ctx: RepoContext,
  input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  meta: ArtifactMeta,
  opts: WriteOptions = {},
): Promise<WriteResult> {
  validateMeta(meta);
  const { signal, onProgress } = opts;
  const abortIfNeeded = () => {
    if (signal?.aborted) throw new OperationAbortedError(`writing artifact ${meta.source}/${meta.name}`, signal.reason);
  };
  abortIfNeeded();
  const lock: WriterLock = await ctx.locks.startWriter(LOCK_KINDS.write);
  const pool = new TaskPool(ctx.opts.writeConcurrency);
  try {
    const known = await loadChunkIds(ctx);
    const cfg = ctx.config;
    const chunker = new Chunker(cfg.chunker, ctx.gear);
    const level = cfg.compression.level;
    const sha = createHash('sha256');
    const entries: (ChunkEntry | PackRun)[] = [];
    const stored = new Set<string>();
    /** Chunks written but maybe not yet durable (local disk syncs in the background). */
    const durable: Promise<void>[] = [];
    const ready: Buffer[] = [];
    let bytes = 0;
    let newBytes = 0;
    let newChunks = 0;
    let storedBytes = 0;

    const store = async (name: string, chunk: Uint8Array, condemnedBy: string | undefined) => {
      // A running prune is deleting this chunk: write it again once that prune is done.
      if (condemnedBy) await lock.waitForPrune(condemnedBy, signal);
      const parts = await poolSealChunk(ctx.keys, name, chunk, level);
      const { done } = await ctx.backend.putLater(name, parts);
      durable.push(done);
      for (const p of parts) storedBytes += p.length;
    };

    // Per chunk, on the task pool: id (crypto worker), dedup decision, then
    // compress + encrypt (crypto worker) and store if new. While workers and
    // I/O are busy the JS thread goes on chunking; entries keep stream order
    // through their slot.
    const handle = (chunk: Buffer) => {
      const slot = entries.length;
      entries.push(['', chunk.length]);
      // Copied out of the slab now (the task does not hold the slab view), then moved between threads.
      const own = movable(chunk);
      return pool.run(async () => {
        const { id, data } = await poolChunkId(ctx.keys, own);
        (entries[slot] as ChunkEntry)[0] = id;
        const name = chunkObject(id);
        // Recorded in the same synchronous step as the dedup decision, so a
        // prune adopted later can never condemn something this write relies on.
        lock.used.add(name);
        if (stored.has(id)) return;
        const condemnedBy = lock.excluded.get(name);
        if (
          known.has(id) &&
          !condemnedBy &&
          !(opts.authenticateReused && !(await chunkIsSound(ctx, name, id, data.length)))
        )
          return;
        stored.add(id);
        newChunks++;
        newBytes += data.length;
        await store(name, data, condemnedBy);
      });
    };

    // Record streams: small pieces are blobs in packs (ids on this thread: a
    // worker round trip costs more than the HMAC of a few hundred bytes).
    const records = opts.chunking === 'records';
    const knownBlobs = records ? await loadKnownBlobs(ctx) : new KnownBlobs();
    const packSizes = knownBlobs.packSizes;
    let repackedBytes = 0;
    const writtenBlobs = new Map<string, BlobLocation>();
    const packTable = new Map<string, number>();
    const packs = new PackBuilder(
      ctx,
      level,
      (task) => pool.run(task),
      (names) => names.forEach((n) => lock.used.add(n)),
    );
    const soundPacks = new Map<string, Promise<boolean>>();
    const packIsSound = (pack: string) => {
      let p = soundPacks.get(pack);
      if (!p) {
        p = openPack(ctx, pack).then(
          () => true,
          () => false,
        );
        soundPacks.set(pack, p);
      }
      return p;
    };
    const place = (loc: BlobLocation) => {
      let pi = packTable.get(loc.pack);
      if (pi === undefined) packTable.set(loc.pack, (pi = packTable.size));
      const last = entries[entries.length - 1];
      if (last && isPackRun(last) && last[0] === pi && last[1] + last[2] === loc.ordinal) {
        last[2]++;
        last[3] += loc.length;
      } else entries.push([pi, loc.ordinal, 1, loc.length]);
    };
    const handleBlob = async (piece: Uint8Array) => {
      // The id's bytes as a latin1 string key: no hex string per record unless the blob is new.
      const key = createHmac('sha256', ctx.keys.idKey).update(piece).digest().toString('latin1');
      let loc = writtenBlobs.get(key);
      if (!loc) {
        const old = knownBlobs.get(key);
        // Same step as the dedup decision (no await in between): a prune adopted later cannot condemn it unseen.
        if (old && !lock.excluded.has(packObject(old.pack)) && !lock.excluded.has(packIndexObject(old.pack))) {
          lock.used.add(packObject(old.pack));
          lock.used.add(packIndexObject(old.pack));
          if (!opts.authenticateReused || (await packIsSound(old.pack))) loc = old;
        }
      }
      if (!loc) {
        loc = await packs.add(Buffer.from(key, 'latin1').toString('hex'), piece);
        writtenBlobs.set(key, loc);
        newChunks++;
        newBytes += piece.length;
      }
      place(loc);
    };

    /**
     * Repack on write (PACKING.minUse): runs into an older pack of which this
     * artifact reads less than half are replaced by copies of their blobs in
     * this write's packs. The artifact index is not written yet, so nothing
     * existing changes; the old pack stays for the points that use it.
     */
    const repackSparse = async (): Promise<number> => {
      const used = new Map<string, number>();
      const table = [...packTable.keys()];
      for (const e of entries) if (isPackRun(e)) used.set(table[e[0]], (used.get(table[e[0]]) ?? 0) + e[3]);
      const sparse = new Set<string>();
      for (const [pack, bytes] of used) {
        const size = packSizes.get(pack);
        if (size !== undefined && bytes < PACKING.minUse * size) sparse.add(pack);
      }
      if (!sparse.size) return 0;
      const lastUse = new Map<string, number>();
      entries.forEach((e, i) => {
        if (isPackRun(e) && sparse.has(table[e[0]])) lastUse.set(table[e[0]], i);
      });
      const old = entries.splice(0);
      packTable.clear();
      const opened = new Map<string, Promise<Awaited<ReturnType<typeof openPack>> | undefined>>();
      let copied = 0;
      for (let i = 0; i < old.length; i++) {
        const e = old[i];
        const pack = isPackRun(e) ? table[e[0]] : undefined;
        if (!isPackRun(e) || !sparse.has(pack!)) {
          if (isPackRun(e)) {
            let pi = packTable.get(pack!);
            if (pi === undefined) packTable.set(pack!, (pi = packTable.size));
            entries.push([pi, e[1], e[2], e[3]]);
          } else entries.push(e);
          continue;
        }
        abortIfNeeded();
        let o = opened.get(pack!);
        // A pack that does not open is left as it was: verification reports it, nothing is lost here.
        if (!o) opened.set(pack!, (o = openPack(ctx, pack!).catch(() => undefined)));
        if (lastUse.get(pack!) === i) opened.delete(pack!);
        const p = await o;
        if (!p) {
          let pi = packTable.get(pack!);
          if (pi === undefined) packTable.set(pack!, (pi = packTable.size));
          entries.push([pi, e[1], e[2], e[3]]);
          continue;
        }
        for (let b = e[1]; b < e[1] + e[2]; b++) {
          const [id, off, len] = p.index.blobs[b];
          const key = Buffer.from(id, 'hex').toString('latin1');
          let loc = writtenBlobs.get(key);
          if (!loc) {
            loc = await packs.add(id, p.plain.subarray(off, off + len));
            writtenBlobs.set(key, loc);
            copied += len;
          }
          place(loc);
        }
      }
      return copied;
    };

    // Reading the source and chunking interleave (one loop), then the tail of uploads drains.
    const chunkSpan = startSpan('chunk', { 'lifeboat.source': meta.source, 'lifeboat.artifact': meta.name });
    for await (const piece of input as AsyncIterable<unknown>) {
      abortIfNeeded();
      lock.check();
      pool.throwIfFailed();
      const buf = toBytes(piece);
      if (!buf.length) continue;
      sha.update(buf);
      bytes += buf.length;
      if (records && buf.length < PACKING.maxBlob) await handleBlob(buf);
      else {
        chunker.push(buf, ready);
        // A big piece of a record stream is chunked on its own, so its chunks do not depend on its neighbours.
        if (records) chunker.cutHere(ready);
        for (let i = 0; i < ready.length; i++) await handle(ready[i]);
        ready.length = 0;
      }
      onProgress?.({ bytes, newBytes, chunks: entries.length });
    }
    abortIfNeeded();
    chunker.finish(ready);
    for (const c of ready) await handle(c);
    chunkSpan.setAttributes({ 'lifeboat.bytes': bytes, 'lifeboat.chunks': entries.length });
    chunkSpan.end();
    const uploadSpan = startSpan('upload', { 'lifeboat.source': meta.source, 'lifeboat.artifact': meta.name });
    if (records) {
      // Loose chunks' ids land in their entries when their tasks finish: all of them before entries are rebuilt.
      await pool.drain();
      repackedBytes = await repackSparse();
    }
    await packs.seal();
    await pool.drain();
    storedBytes += packs.storedBytes;
    // Every chunk durable (and visible) before the index that names them.
    await Promise.all(durable);
    await ctx.backend.flush();
    uploadSpan.setAttributes({ 'lifeboat.new_chunks': newChunks, 'lifeboat.new_bytes': newBytes });
    uploadSpan.end();
    abortIfNeeded();
    lock.check();

    const indexId = randomBytes(16).toString('hex');
    const digest = sha.digest('hex');
    const packed = packTable.size > 0;
    const doc: ArtifactIndexDoc = {
      v: packed ? V2 : V1,
      type: 'artifact-index',
      id: indexId,
      created: new Date().toISOString(),
      source: meta.source,
      kind: meta.kind,
      name: meta.name,
      size: bytes,
      sha256: digest,
      chunks: entries,
      ...(packed ? { packs: [...packTable.keys()] } : {}),
    };
    const indexName = artifactObject(indexId);
    const blob = await sealJson(ctx.keys, OBJECT_TYPES.artifactIndex, indexName, doc, packed ? V2 : V1);
    await ctx.backend.put(indexName, blob);
    storedBytes += blob.length;
    await ctx.backend.flush();
    onProgress?.({ bytes, newBytes, chunks: entries.length });
    return {
      source: meta.source,
      kind: meta.kind,
      name: meta.name,
      size: bytes,
      sha256: digest,
      indexId,
      chunks: entries.length,
      written: { newChunks, newBytes, storedBytes, ...(repackedBytes ? { repackedBytes } : {}) },
    };
  } catch (e) {
    await pool.settle();
    await ctx.backend.flush().catch(() => undefined);
    throw e;
  } finally {
    await lock.release();
  }
}
