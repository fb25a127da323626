/**
 * Real FAISS index files for the adapter tests, built with faiss-node in the
 * test process (trusted inputs), plus hand-made files faiss-node cannot
 * build: IDMap/IDMap2 (faiss-node has no add_with_ids, so the bytes are laid
 * out as faiss's write_index does: fourcc, header, wrapped index, id vector)
 * and files crafted to crash faiss.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Index, IndexFlatIP, IndexFlatL2, MetricType } from 'faiss-node';
import { probeQueryVectors } from '../../sources/faiss/probe-queries';

export interface Fixture {
  name: string;
  file: string;
  fourcc: string;
  chain: string[];
  d: number;
  ntotal: number;
  metric: 'L2' | 'INNER_PRODUCT' | 'Lp';
  metricArg?: number;
  /** Labels the index uses (custom ids for IDMap). */
  ids?: number[];
}

export const D = 16;
export const N = 1000;
export const IDMAP_IDS = Array.from({ length: N }, (_, i) => 1_000_000 + i * 7);

function data(n = N, d = D, seed = 7): number[] {
  return Array.from(probeQueryVectors(seed, n, d));
}

function build(index: Index, file: string, n = N, d = D, seed = 7): void {
  const xs = data(n, d, seed);
  if (!index.isTrained()) index.train(xs);
  index.add(xs);
  index.write(file);
}

/** Flat L2, Flat IP, Flat Lp (metric_arg), IVF16 flat, HNSW32, IDMap and IDMap2 over Flat. */
export function buildFixtures(dir: string): Fixture[] {
  const f = (n: string) => path.join(dir, n);
  build(new IndexFlatL2(D), f('flat-l2.index'));
  build(new IndexFlatIP(D), f('flat-ip.index'));
  build(Index.fromFactory(D, 'Flat', MetricType.METRIC_Lp), f('flat-lp.index'));
  build(Index.fromFactory(D, 'IVF16,Flat', MetricType.METRIC_L2), f('ivf.index'));
  build(Index.fromFactory(D, 'HNSW32', MetricType.METRIC_L2), f('hnsw.index'));
  const flat = readFileSync(f('flat-l2.index'));
  writeFileSync(f('idmap.index'), wrapInIdMap(flat, IDMAP_IDS, 'IxMp'));
  writeFileSync(f('idmap2.index'), wrapInIdMap(flat, IDMAP_IDS, 'IxM2'));
  return [
    { name: 'Flat L2', file: f('flat-l2.index'), fourcc: 'IxF2', chain: ['IxF2'], d: D, ntotal: N, metric: 'L2' },
    {
      name: 'Flat IP',
      file: f('flat-ip.index'),
      fourcc: 'IxFI',
      chain: ['IxFI'],
      d: D,
      ntotal: N,
      metric: 'INNER_PRODUCT',
    },
    {
      name: 'Flat Lp',
      file: f('flat-lp.index'),
      fourcc: 'IxFl',
      chain: ['IxFl'],
      d: D,
      ntotal: N,
      metric: 'Lp',
      metricArg: 0,
    },
    {
      name: 'IVF16,Flat',
      file: f('ivf.index'),
      fourcc: 'IwFl',
      chain: ['IwFl', 'IxF2'],
      d: D,
      ntotal: N,
      metric: 'L2',
    },
    { name: 'HNSW32', file: f('hnsw.index'), fourcc: 'IHNf', chain: ['IHNf', 'IxF2'], d: D, ntotal: N, metric: 'L2' },
    {
      name: 'IDMap,Flat',
      file: f('idmap.index'),
      fourcc: 'IxMp',
      chain: ['IxMp', 'IxF2'],
      d: D,
      ntotal: N,
      metric: 'L2',
      ids: IDMAP_IDS,
    },
    {
      name: 'IDMap2,Flat',
      file: f('idmap2.index'),
      fourcc: 'IxM2',
      chain: ['IxM2', 'IxF2'],
      d: D,
      ntotal: N,
      metric: 'L2',
      ids: IDMAP_IDS,
    },
  ];
}

/** Another flat L2 index (other vectors) of dimension d, e.g. the "current" file a restore replaces. */
export function buildFlat(file: string, d = D, n = 200, seed = 99): void {
  build(new IndexFlatL2(d), file, n, d, seed);
}

/** IndexIDMap as faiss writes it: fourcc, the wrapped index's header fields, the wrapped index, then ntotal int64 ids. */
export function wrapInIdMap(inner: Buffer, ids: number[], fourcc: 'IxMp' | 'IxM2'): Buffer {
  const header = inner.subarray(4, 37); // d, ntotal, 2 dummies, is_trained, metric_type (metric ≤ 1: no metric_arg)
  const idVec = Buffer.alloc(8 + ids.length * 8);
  idVec.writeBigUInt64LE(BigInt(ids.length), 0);
  ids.forEach((id, i) => idVec.writeBigInt64LE(BigInt(id), 8 + i * 8));
  return Buffer.concat([Buffer.from(fourcc, 'latin1'), header, inner, idVec]);
}

/**
 * An IndexLSH file whose thresholds vector claims 2^39 floats: faiss's
 * READVECTOR tries to allocate 2 TiB, std::bad_alloc escapes and the process
 * aborts (SIGABRT). Its header is valid and Lifeboat does not walk the LSH
 * layout, so only the sandboxed load can catch it.
 */
export function lshBomb(flat: Buffer): Buffer {
  const tail = Buffer.alloc(4 + 1 + 1 + 8);
  tail.writeInt32LE(16, 0);
  tail.writeBigUInt64LE(1n << 39n, 6);
  return Buffer.concat([Buffer.from('IxHe', 'latin1'), flat.subarray(4, 37), tail]);
}

/** A flat index whose vector count says 2^39: faiss aborts on it the same way (Lifeboat's walker rejects it first). */
export function flatBomb(flat: Buffer): Buffer {
  const b = Buffer.from(flat);
  b.writeBigUInt64LE(1n << 39n, 37);
  return b;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export function sha256File(file: string): string {
  return sha256(readFileSync(file));
}

/** Lifeboat's own files (temp, kept previous, journal) left in a folder. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.includes('.lifeboat-'));
}

export async function drainTo(stream: Readable, file: string): Promise<void> {
  await pipeline(stream, createWriteStream(file));
}
