import { SLOTS } from './slot';

const SLAB = 8 * 1024 * 1024;
/** Values this big keep their own Buffer instead of being copied into a slab. */
const OWN = 1024 * 1024;
/** Bookkeeping bytes counted per entry on top of key and value. */
export const ENTRY_OVERHEAD = 48;

/**
 * Keys read while scanning, packed: values copied into 8 MiB slabs, the rest
 * in flat arrays, so a million small keys cost about their bytes plus ~50
 * bytes each rather than a Buffer object per value. `bytes` is what the
 * memory budget is checked against.
 */
export class ValueStore {
  private readonly slabs: Buffer[] = [];
  private cur: Buffer = Buffer.alloc(0);
  private curLen = 0;
  readonly keys: string[] = [];
  readonly slots: number[] = [];
  readonly kinds: number[] = [];
  readonly expireAt: number[] = [];
  private readonly slab: number[] = [];
  private readonly off: number[] = [];
  private readonly len: number[] = [];
  bytes = 0;
  /** False once values were dropped (budget exceeded): only key names are kept from then on. */
  holdsValues = true;

  get size(): number {
    return this.keys.length;
  }

  /** Frees the values; the store keeps collecting key names only. */
  dropValues(): void {
    this.holdsValues = false;
    this.slabs.length = 0;
    this.cur = Buffer.alloc(0);
    this.kinds.length = this.expireAt.length = this.slab.length = this.off.length = this.len.length = 0;
  }

  /** A key whose value is not read (yet). */
  addKey(key: string, slot: number): void {
    this.keys.push(key);
    this.slots.push(slot);
    this.bytes += key.length + ENTRY_OVERHEAD;
  }

  add(key: string, slot: number, kind: number, expireAt: number, value: Buffer | null): void {
    this.keys.push(key);
    this.slots.push(slot);
    this.kinds.push(kind);
    this.expireAt.push(expireAt);
    const n = value ? value.length : 0;
    this.bytes += key.length + n + ENTRY_OVERHEAD;
    if (!value) {
      this.slab.push(-1);
      this.off.push(0);
      this.len.push(0);
    } else if (n >= OWN) {
      this.slabs.push(value);
      this.slab.push(this.slabs.length - 1);
      this.off.push(0);
      this.len.push(n);
    } else {
      if (this.curLen + n > this.cur.length) {
        this.cur = Buffer.allocUnsafe(SLAB);
        this.curLen = 0;
        this.slabs.push(this.cur);
      }
      value.copy(this.cur, this.curLen);
      this.slab.push(this.slabs.length - 1);
      this.off.push(this.curLen);
      this.len.push(n);
      this.curLen += n;
    }
  }

  value(i: number): Buffer | null {
    const s = this.slab[i];
    if (s < 0) return null;
    return this.slabs[s].subarray(this.off[i], this.off[i] + this.len[i]);
  }

  /**
   * Entry indexes in canonical order (slot, then key bytes); a key SCAN
   * returned twice appears once. Counting sort by slot, then a sort of each
   * slot's few keys.
   */
  order(): Int32Array {
    const n = this.keys.length;
    const start = new Int32Array(SLOTS + 1);
    for (let i = 0; i < n; i++) start[this.slots[i] + 1]++;
    for (let s = 0; s < SLOTS; s++) start[s + 1] += start[s];
    const fill = start.slice(0, SLOTS);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[fill[this.slots[i]]++] = i;
    const keys = this.keys;
    const byKey = (a: number, b: number) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b);
    let out = 0;
    for (let s = 0; s < SLOTS; s++) {
      const a = start[s];
      const b = start[s + 1];
      if (b - a > 1) idx.subarray(a, b).sort(byKey);
      let prev: string | undefined;
      for (let j = a; j < b; j++) {
        const k = keys[idx[j]];
        if (k === prev) continue;
        prev = k;
        idx[out++] = idx[j];
      }
    }
    return idx.subarray(0, out);
  }
}
