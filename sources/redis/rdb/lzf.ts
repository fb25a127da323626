/** LZF decompression (liblzf's lzf_d.c), as used by RDB for compressed strings. */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 0;
  const inLen = input.length;
  while (ip < inLen) {
    let ctrl = input[ip++];
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLen || ip + ctrl > inLen) throw new Error('LZF literal run out of bounds');
      for (let i = 0; i < ctrl; i++) out[op++] = input[ip++];
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (len === 7) len += input[ip++];
      ref -= input[ip++];
      len += 2;
      if (op + len > outLen || ref < 0) throw new Error('LZF back reference out of bounds');
      for (let i = 0; i < len; i++) out[op++] = out[ref++];
    }
  }
  if (op !== outLen) throw new Error(`LZF output is ${op} bytes, expected ${outLen}`);
  return out;
}
