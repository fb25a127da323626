/**
 * Qdrant stores dense vectors as float32 and prints them with the shortest
 * decimal that reads back to the same float32 (Rust's `f32` Display). We keep
 * each component as that shortest decimal so JSON output matches byte for byte.
 */
export function toF32(x: number): number {
  const f = Math.fround(x);
  if (f === 0 || !Number.isFinite(f)) return f;
  // Nine digits always round-trip a float32; most values need eight or nine,
  // so search down from eight instead of up from one (toPrecision is slow).
  let best = Number(f.toPrecision(9));
  for (let p = 8; p >= 1; p--) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) !== f) break;
    best = s;
  }
  return best;
}

export const Distance = { Cosine: 'Cosine', Euclid: 'Euclid', Dot: 'Dot', Manhattan: 'Manhattan' } as const;
export type Distance = (typeof Distance)[keyof typeof Distance];
export const DISTANCES = Object.values(Distance) as string[];

/**
 * Cosine collections store unit vectors (Qdrant normalises on upsert and on
 * query); an already unit-length vector is kept as is, like Qdrant's
 * `is_length_zero_or_normalized` check, so re-upserting a read-back vector
 * does not drift.
 */
export function preprocess(distance: Distance, v: number[]): number[] {
  if (distance !== Distance.Cosine) return v.map(toF32);
  const f = v.map((x) => Math.fround(x));
  let sq = 0;
  for (const x of f) sq += x * x;
  const len = Math.sqrt(sq);
  if (len < 1.1920929e-7 || Math.abs(len - 1) <= 1e-6) return f.map(toF32);
  return f.map((x) => toF32(x / len));
}

/** Raw similarity/distance as Qdrant reports it in `score`. */
export function score(distance: Distance, q: number[], v: number[]): number {
  let s = 0;
  switch (distance) {
    case Distance.Cosine:
    case Distance.Dot:
      for (let i = 0; i < q.length; i++) s += q[i] * v[i];
      return s;
    case Distance.Euclid:
      for (let i = 0; i < q.length; i++) s += (q[i] - v[i]) ** 2;
      return Math.sqrt(s);
    case Distance.Manhattan:
      for (let i = 0; i < q.length; i++) s += Math.abs(q[i] - v[i]);
      return s;
  }
}

/** Similarities rank high-first; distances low-first. */
export const higherIsBetter = (d: Distance) => d === Distance.Cosine || d === Distance.Dot;
