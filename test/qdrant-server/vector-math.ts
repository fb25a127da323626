/**
 * Qdrant stores dense vectors as float32 and prints them with the shortest
 * decimal that reads back to the same float32 (Rust's `f32` Display). We keep
 * each component as that shortest decimal so JSON output matches byte for byte.
 */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

export function toF32(x: number): number {
  const f = Math.fround(x);
  if (f === 0 || !Number.isFinite(f)) return f;
  // Shorten from nine significant digits (always enough for float32) until
  // the value no longer reads back as the same float32. Scaling the magnitude
  // by an exact power of ten and rounding half up gives what toPrecision
  // gives, much faster; fround checks every candidate.
  const a = Math.abs(f);
  const e = Math.floor(Math.log10(a));
  const candidate = (p: number): number => {
    const k = p - 1 - e;
    const m =
      k >= 0 && k <= 22
        ? Math.round(a * POW10[k]) / POW10[k]
        : k < 0 && k >= -22
          ? Math.round(a / POW10[-k]) * POW10[-k]
          : Math.abs(Number(f.toPrecision(p)));
    return f < 0 ? -m : m;
  };
  let best = candidate(9);
  if (Math.fround(best) !== f) best = Number(f.toPrecision(9));
  for (let p = 8; p >= 1; p--) {
    const s = candidate(p);
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
