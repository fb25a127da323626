/**
 * Packs (format version 2, docs/repository-format.md section 7a): record-sized
 * blobs gathered into objects of about PACKING.target plain bytes. A pack is
 * one sealed object (its blobs back to back, compressed and encrypted
 * together); its pack index, a separate small object, lists each blob's id,
 * offset and length. The index is written only after its pack is durable, and
 * prune deletes it before the pack: an index always names a complete pack.
 */
import { randomBytes } from 'node:crypto';
import { forEachLimit } from '../lib/async';
import type { RepoContext } from './context';
import { poolOpenPack, poolSealObject } from './crypto-pool';
import { openJson, sealJson } from './envelope';
import { CorruptObjectError, MissingObjectError } from './errors';
import {
  CHUNK_ID_RE,
  OBJECT_TYPES,
  PACKING,
  PACKS_PREFIX,
  V2,
  packIndexIdOf,
  packIndexObject,
  packObject,
  type PackIndexDoc,
} from './format';

/** Where a stored blob is: its pack and its place in it. */
export interface BlobLocation {
  pack: string;
  ordinal: number;
  length: number;
}

/** Reads and checks pack index `packId` (MissingObjectError if absent, CorruptObjectError if malformed). */
export async function loadPackIndex(ctx: RepoContext, packId: string): Promise<PackIndexDoc> {
  const name = packIndexObject(packId);
  const doc = await openJson<PackIndexDoc>(
    ctx.keys,
    OBJECT_TYPES.packIndex,
    name,
    await ctx.backend.get(name),
    'pack-index',
  );
  if (doc.id !== packId || !Array.isArray(doc.blobs) || !Number.isSafeInteger(doc.size))
    throw new CorruptObjectError(name, 'pack index does not describe this pack');
  let at = 0;
  for (const b of doc.blobs) {
    if (!Array.isArray(b) || typeof b[0] !== 'string' || !CHUNK_ID_RE.test(b[0]) || b[1] !== at || !(b[2] > 0))
      throw new CorruptObjectError(name, 'malformed blob entry (blobs must be back to back)');
    at += b[2];
  }
  if (at !== doc.size) throw new CorruptObjectError(name, `blob lengths add up to ${at}, not the pack's ${doc.size}`);
  return doc;
}

/**
 * The dedup set of record streams: every blob of every pack. Compact on
 * purpose (a Redis keyspace is millions of blobs): the 32-byte id as a
 * latin1 string key (~48 bytes, not 80 for hex) and a serial number into
 * typed arrays, about 90 bytes per blob instead of ~150 for a Map of objects.
 */
export class KnownBlobs {
  private readonly serial = new Map<string, number>();
  private readonly packIds: string[] = [];
  private readonly packOf = new Map<string, number>();
  private pack = new Int32Array(1024);
  private ordinal = new Int32Array(1024);
  private length = new Int32Array(1024);
  /** Plain size of each pack, by pack id. */
  readonly packSizes = new Map<string, number>();

  get size(): number {
    return this.serial.size;
  }

  add(idHex: string, pack: string, ordinal: number, length: number): void {
    let p = this.packOf.get(pack);
    if (p === undefined) {
      p = this.packIds.push(pack) - 1;
      this.packOf.set(pack, p);
    }
    const n = this.serial.size;
    if (n === this.pack.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.pack = grow(this.pack);
      this.ordinal = grow(this.ordinal);
      this.length = grow(this.length);
    }
    const key = Buffer.from(idHex, 'hex').toString('latin1');
    if (this.serial.has(key)) return;
    this.serial.set(key, n);
    this.pack[n] = p;
    this.ordinal[n] = ordinal;
    this.length[n] = length;
  }

  /** By the id's 32 bytes as a latin1 string. */
  get(key: string): BlobLocation | undefined {
    const n = this.serial.get(key);
    if (n === undefined) return undefined;
    return { pack: this.packIds[this.pack[n]], ordinal: this.ordinal[n], length: this.length[n] };
  }
}

/**
 * Every blob of every pack, from the pack indexes. A damaged pack index is
 * skipped: its blobs are then simply stored again.
 */
export async function loadKnownBlobs(ctx: RepoContext): Promise<KnownBlobs> {
  const known = new KnownBlobs();
  const ids: string[] = [];
  for await (const key of ctx.backend.listKeys(PACKS_PREFIX)) {
    const id = packIndexIdOf(key);
    if (id) ids.push(id);
  }
  await forEachLimit(ids, 8, async (pack) => {
    let doc: PackIndexDoc;
    try {
      doc = await loadPackIndex(ctx, pack);
    } catch (e) {
      if (e instanceof CorruptObjectError || e instanceof MissingObjectError) return;
      throw e;
    }
    doc.blobs.forEach(([id, , length], ordinal) => known.add(id, pack, ordinal, length));
    known.packSizes.set(pack, doc.size);
  });
  return known;
}

/** An opened pack: its plain bytes (every blob authenticated and re-hashed) and its index. */
export interface OpenedPack {
  plain: Buffer;
  index: PackIndexDoc;
}

/**
 * Fetches, authenticates and decrypts pack `packId` and checks it against its
 * index (on a crypto worker); `checkIds` re-hashes every blob (verify).
 */
export async function openPack(ctx: RepoContext, packId: string, checkIds = false): Promise<OpenedPack> {
  const index = await loadPackIndex(ctx, packId);
  const name = packObject(packId);
  const plain = await poolOpenPack(ctx.keys, name, await ctx.backend.get(name), index.blobs, checkIds);
  if (plain.length !== index.size)
    throw new CorruptObjectError(name, `holds ${plain.length} bytes where its index says ${index.size}`);
  return { plain, index };
}

/**
 * Gathers new blobs into packs. `add` places a blob at once (the caller
 * records where); a full pack is sealed and stored through `schedule` (the
 * writer's bounded task pool), pack first, then its index.
 */
export class PackBuilder {
  private id = randomBytes(16).toString('hex');
  private blobs: Buffer[] = [];
  private entries: [string, number, number][] = [];
  private bytes = 0;
  /** Objects stored (packs and indexes) and their stored bytes. */
  storedBytes = 0;
  packs = 0;

  constructor(
    private readonly ctx: RepoContext,
    private readonly level: number,
    private readonly schedule: (task: () => Promise<void>) => Promise<void>,
    /** Called with a pack's and its index's names before they are written (the writer lock's `used`). */
    private readonly onNames: (names: string[]) => void,
  ) {}

  /** The pack the next blob goes to. */
  get current(): string {
    return this.id;
  }

  /** Appends a blob (copied) to the current pack; returns its place. Seals the pack when it is full. */
  async add(id: string, data: Uint8Array): Promise<BlobLocation> {
    const at: BlobLocation = { pack: this.id, ordinal: this.entries.length, length: data.length };
    if (at.ordinal === 0) this.onNames([packObject(this.id), packIndexObject(this.id)]);
    this.blobs.push(Buffer.from(data));
    this.entries.push([id, this.bytes, data.length]);
    this.bytes += data.length;
    if (this.bytes >= PACKING.target) await this.seal();
    return at;
  }

  /** Seals and schedules the current pack, if it has blobs. */
  async seal(): Promise<void> {
    if (!this.entries.length) return;
    const id = this.id;
    const plain = Buffer.concat(this.blobs, this.bytes);
    const doc: PackIndexDoc = { v: V2, type: 'pack-index', id, size: this.bytes, blobs: this.entries };
    this.id = randomBytes(16).toString('hex');
    this.blobs = [];
    this.entries = [];
    this.bytes = 0;
    await this.schedule(async () => {
      const name = packObject(id);
      const parts = await poolSealObject(this.ctx.keys, OBJECT_TYPES.pack, name, plain, this.level, V2);
      // Durable before its index exists: an index never names a pack that is not all there.
      await this.ctx.backend.put(name, parts);
      const idxName = packIndexObject(id);
      const blob = await sealJson(this.ctx.keys, OBJECT_TYPES.packIndex, idxName, doc, V2);
      await this.ctx.backend.put(idxName, blob);
      this.packs++;
      for (const p of parts) this.storedBytes += p.length;
      this.storedBytes += blob.length;
    });
  }
}
