import { writeFileSync } from 'node:fs';

/** faiss's index header (index_write.cpp write_index_header): fourcc, d, ntotal, 2 dummies, is_trained, metric (L2). */
function header(fourcc: string, d: number, n: number): Buffer {
  const b = Buffer.alloc(4 + 4 + 8 + 8 + 8 + 1 + 4);
  b.write(fourcc, 0, 'latin1');
  b.writeInt32LE(d, 4);
  b.writeBigUInt64LE(BigInt(n), 8);
  b.writeBigUInt64LE(1n << 20n, 16);
  b.writeBigUInt64LE(1n << 20n, 24);
  b.writeUInt8(1, 32);
  b.writeInt32LE(1, 33);
  return b;
}

/** An IndexFlatL2 file (IxF2), byte for byte as faiss writes it. */
export function flatIndex(vectors: number[][], d = vectors[0]?.length ?? 4): Buffer {
  const count = Buffer.alloc(8);
  count.writeBigUInt64LE(BigInt(vectors.length * d));
  const body = Buffer.alloc(vectors.length * d * 4);
  vectors.forEach((v, i) => v.forEach((x, j) => body.writeFloatLE(x, (i * d + j) * 4)));
  return Buffer.concat([header('IxF2', d, vectors.length), count, body]);
}

/** An IndexIDMap (IxMp) around an IndexFlatL2 with the given int64 ids. */
export function idMapIndex(vectors: number[][], ids: number[], d = vectors[0]?.length ?? 4): Buffer {
  const map = Buffer.alloc(8 + ids.length * 8);
  map.writeBigUInt64LE(BigInt(ids.length));
  ids.forEach((id, i) => map.writeBigInt64LE(BigInt(id), 8 + i * 8));
  return Buffer.concat([header('IxMp', d, vectors.length), flatIndex(vectors, d), map]);
}

export function writeIndex(file: string, bytes: Buffer): void {
  writeFileSync(file, bytes);
}

/** Deterministic vectors: vector i of dimension d (never all zeros). */
export function vectorFor(i: number, d: number): number[] {
  return Array.from({ length: d }, (_, j) => Math.fround(Math.sin(i * 13 + j) + 1.5));
}
