/**
 * Binary FAISS index files crafted from faiss's write_index_binary layout
 * (faiss-node can neither build nor load them): fourcc, d (bits) int32,
 * code_size int32, ntotal int64, is_trained uint8, metric_type int32, then
 * for IBxF the codes as a size_t-prefixed byte vector. Plus a file of a
 * type code no faiss writes.
 */
/** A binary index header as write_index_binary_header lays it out, optionally followed by the IBxF codes. */
export function binaryIndex(
  fourcc: string,
  dBits: number,
  ntotal: number,
  codes?: Buffer,
  codeSize = dBits / 8,
): Buffer {
  const h = Buffer.alloc(4 + 4 + 4 + 8 + 1 + 4);
  h.write(fourcc, 0, 'latin1');
  h.writeInt32LE(dBits, 4);
  h.writeInt32LE(codeSize, 8);
  h.writeBigInt64LE(BigInt(ntotal), 12);
  h.writeUInt8(1, 20);
  h.writeInt32LE(1, 21);
  if (!codes) return h;
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(codes.length));
  return Buffer.concat([h, len, codes]);
}

/** IndexBinaryFlat of `n` pseudo-random `dBits`-bit codes. */
export function binaryFlat(n: number, dBits = 64, seed = 3): Buffer {
  const codes = Buffer.alloc((n * dBits) / 8);
  let x = seed;
  for (let i = 0; i < codes.length; i++) codes[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return binaryIndex('IBxF', dBits, n, codes);
}

/** A file with a type code no faiss writes, then arbitrary bytes. */
export function unknownTypeFile(size = 4096): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 0xff;
  b.write('Zz9!', 0, 'latin1');
  return b;
}
