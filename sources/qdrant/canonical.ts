import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: equal data gives equal text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'bigint') return v.toString();
    return JSON.stringify(v) ?? 'null';
  }
  if (Array.isArray(v)) {
    // Vectors: plain number arrays are already canonical, and native stringify is much faster.
    if (v.every((x) => typeof x === 'number')) return JSON.stringify(v);
    return `[${v.map(canonicalJson).join(',')}]`;
  }
  const keys = Object.keys(v as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/**
 * Vectors as Qdrant holds them: float32 values, named (the unnamed vector is
 * ""). "0.1" and 0.10000000149011612 are the same stored float, so they
 * canonicalise the same.
 */
export function canonicalVectors(vector: unknown): Record<string, number[]> {
  if (vector === null || vector === undefined) return {};
  if (Array.isArray(vector)) return { '': (vector as number[]).map((x) => Math.fround(x)) };
  const out: Record<string, number[]> = {};
  for (const [name, v] of Object.entries(vector as Record<string, unknown>)) {
    out[name] = Array.isArray(v)
      ? (v as unknown[]).map((x) => (typeof x === 'number' ? Math.fround(x) : (x as number)))
      : (v as number[]);
  }
  return out;
}

/** sha256 over one point's (id, vectors, payload) in canonical form. */
export function pointDigest(id: unknown, vector: unknown, payload: unknown): Buffer {
  const text = canonicalJson({ id, payload: payload ?? {}, vectors: canonicalVectors(vector) });
  return createHash('sha256').update(text).digest();
}

/**
 * Order-independent digest of a set: the sum of the members' sha256 values
 * modulo 2^256. Unlike XOR, a duplicated member does not cancel out.
 */
export class DigestSum {
  private readonly lanes = new Uint32Array(8);
  count = 0;

  add(digest: Buffer): void {
    let carry = 0;
    for (let i = 7; i >= 0; i--) {
      const s = this.lanes[i] + digest.readUInt32BE(i * 4) + carry;
      this.lanes[i] = s >>> 0;
      carry = s > 0xffffffff ? 1 : 0;
    }
    this.count++;
  }

  hex(): string {
    return Array.from(this.lanes, (x) => x.toString(16).padStart(8, '0')).join('');
  }
}
