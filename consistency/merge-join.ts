import type { ConsistencyStore, MissingFinding } from '../lib/consistency';
import { FindingBuilder } from './finding';
import { unescapeId } from './id-sorter';

/** One store's distinct ids, ascending (escaped, as IdSorter.sorted() yields them). */
export interface JoinSide {
  store: ConsistencyStore;
  ids: AsyncIterable<string[]>;
}

export interface JoinOptions {
  /** Examples kept per direction. */
  examples: number;
  /** Keep a uniform random sample of this many ids present in both of `between`. */
  sample?: { between: [ConsistencyStore, ConsistencyStore]; size: number; seed: number };
  signal?: AbortSignal;
  /** Called every 65536 ids. */
  onProgress?: (idsCompared: number) => void;
}

export interface JoinResult {
  /** One entry per ordered pair of stores (from → to), in the order of `sides`. */
  missing: MissingFinding[];
  /** Sampled ids (unescaped), ascending. */
  sample: string[];
  /** Distinct ids across all stores. */
  compared: number;
}

class Cursor {
  private batch: string[] = [];
  private i = 0;
  done = false;
  private readonly it: AsyncIterator<string[]>;

  constructor(src: AsyncIterable<string[]>) {
    this.it = src[Symbol.asyncIterator]();
  }

  get head(): string {
    return this.batch[this.i];
  }

  /** Ensures a head is there (or `done`). */
  async ready(): Promise<void> {
    while (!this.done && this.i >= this.batch.length) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        this.batch = r.value;
        this.i = 0;
      }
    }
  }

  next(): void {
    this.i++;
  }
}

/** mulberry32: a small seeded PRNG, so the same stores give the same sample. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Merge join of sorted id streams: walks all stores' ids together in order, so each id is seen once
 * with the set of stores holding it; an id missing from a store is counted for that direction with
 * the first few as examples. Memory: one batch per store, the examples and the sample.
 */
export async function joinIds(sides: JoinSide[], opts: JoinOptions): Promise<JoinResult> {
  const cursors = sides.map((s) => new Cursor(s.ids));
  const n = sides.length;
  const missing: FindingBuilder[][] = sides.map(() => sides.map(() => new FindingBuilder(opts.examples)));
  const sa = opts.sample ? sides.findIndex((s) => s.store === opts.sample!.between[0]) : -1;
  const sb = opts.sample ? sides.findIndex((s) => s.store === opts.sample!.between[1]) : -1;
  const sampling = sa >= 0 && sb >= 0 && (opts.sample?.size ?? 0) > 0;
  const reservoir: string[] = [];
  let common = 0;
  const random = rng(opts.sample?.seed ?? 1);
  let compared = 0;
  const has = new Array<boolean>(n).fill(false);
  for (;;) {
    let min: string | undefined;
    for (const c of cursors) {
      await c.ready();
      if (!c.done && (min === undefined || c.head < min)) min = c.head;
    }
    if (min === undefined) break;
    for (let i = 0; i < n; i++) {
      const c = cursors[i];
      has[i] = !c.done && c.head === min;
      if (has[i]) c.next();
    }
    for (let i = 0; i < n; i++) {
      if (!has[i]) continue;
      for (let j = 0; j < n; j++) if (!has[j]) missing[i][j].add(unescapeId(min));
    }
    if (sampling && has[sa] && has[sb]) {
      // Reservoir sampling (Algorithm R): a uniform sample without knowing the total up front.
      const size = opts.sample!.size;
      if (reservoir.length < size) reservoir.push(min);
      else {
        const k = Math.floor(random() * (common + 1));
        if (k < size) reservoir[k] = min;
      }
      common++;
    }
    if ((++compared & 0xffff) === 0) {
      opts.signal?.throwIfAborted();
      opts.onProgress?.(compared);
    }
  }
  const out: MissingFinding[] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      out.push({ from: sides[i].store, to: sides[j].store, ...missing[i][j].finding() });
    }
  return { missing: out, sample: reservoir.sort().map(unescapeId), compared };
}
