/**
 * zstd through the native binding of @mongodb-js/zstd. Its JS wrapper
 * (index.js, 1.2.2) is `compress(data)`: it drops the level, so every level
 * compressed as 3. The binding itself takes the level; errors are re-wrapped
 * because napi errors carry no JS stack.
 */
const native = require('@mongodb-js/zstd/bindings.js') as {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
};

/** zstd frame of `data` at `level` (1-22; negative levels are zstd's fast modes). Runs on a libuv thread. */
export async function zstdCompress(data: Buffer, level: number): Promise<Buffer> {
  try {
    return await native.compress(data, level);
  } catch (e) {
    throw new Error(`zstd: ${(e as Error).message}`);
  }
}

export async function zstdDecompress(data: Buffer): Promise<Buffer> {
  try {
    return await native.decompress(data);
  } catch (e) {
    throw new Error(`zstd: ${(e as Error).message}`);
  }
}
