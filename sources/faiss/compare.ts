import type { FaissProbeComparison, FaissProbes } from './types';

/** Distances are float32 values; a byte-identical index gives them exactly, this only absorbs float noise across builds. */
export const DEFAULT_PROBE_EPSILON = 1e-6;
const MAX_DIFFERENCES = 10;

/**
 * Compares two probe runs: same queries (seed, count, query digest, k),
 * same d and ntotal, identical labels, distances equal within `epsilon`
 * (relative to the distance, absolute below 1). Either side skipped gives
 * undefined: nothing to compare, which the caller should report as such.
 */
export function compareProbes(
  a: FaissProbes,
  b: FaissProbes,
  epsilon = DEFAULT_PROBE_EPSILON,
): FaissProbeComparison | undefined {
  if (a.status !== 'ok' || b.status !== 'ok') return undefined;
  const diffs: string[] = [];
  const add = (s: string) => {
    if (diffs.length < MAX_DIFFERENCES) diffs.push(s);
  };
  for (const k of ['seed', 'queries', 'queryDigest', 'k', 'd', 'ntotal'] as const) {
    if (a[k] !== b[k]) add(`${k} ${JSON.stringify(b[k])} instead of ${JSON.stringify(a[k])}`);
  }
  if (diffs.length === 0) {
    for (let q = 0; q < a.labels.length; q++) {
      const la = a.labels[q] ?? [];
      const lb = b.labels[q] ?? [];
      const da = a.distances[q] ?? [];
      const db = b.distances[q] ?? [];
      if (la.length !== lb.length || la.some((l, i) => l !== lb[i])) {
        add(`query ${q}: neighbours [${lb.join(',')}] instead of [${la.join(',')}]`);
        continue;
      }
      for (let i = 0; i < da.length; i++) {
        const x = da[i];
        const y = db[i];
        if (x !== y && !(Math.abs(x - y) <= epsilon * Math.max(1, Math.abs(x))) && !(notANumber(x) && notANumber(y))) {
          add(`query ${q}, neighbour ${i}: distance ${y} instead of ${x}`);
          break;
        }
      }
    }
  }
  return { equal: diffs.length === 0, differences: diffs };
}

/** NaN distances come back as null once probes went through JSON (journal, Temporal payloads). */
function notANumber(v: number): boolean {
  return (v as number | null) === null || Number.isNaN(v);
}
