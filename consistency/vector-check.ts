import type { StoreVectorReport } from '../lib/consistency';
import { FindingBuilder } from './finding';

/** Per-vector checks: length against the dimension, NaN/±Infinity, all zeros. */
export class VectorChecker {
  readonly nonFinite: FindingBuilder;
  readonly zero: FindingBuilder;
  readonly wrongDimension: FindingBuilder;
  checked = 0;

  constructor(
    /** The dimension every vector must have (the link's, else the store's declared one). */
    readonly dimension: number,
    examples: number,
  ) {
    this.nonFinite = new FindingBuilder(examples);
    this.zero = new FindingBuilder(examples);
    this.wrongDimension = new FindingBuilder(examples);
  }

  /** `v` may hold non-numbers (a JSON null from a store): they count as not finite. */
  check(id: string, v: ArrayLike<unknown>): void {
    this.checked++;
    if (v.length !== this.dimension) this.wrongDimension.add(id);
    let finite = true;
    let allZero = true;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) finite = false;
      else if (x !== 0) allZero = false;
    }
    if (!finite) this.nonFinite.add(id);
    else if (allZero) this.zero.add(id);
  }

  report(declared: number, expected: number | undefined, readable: boolean, note?: string): StoreVectorReport {
    return {
      dimension: declared,
      ...(expected !== undefined ? { expected } : {}),
      checked: this.checked,
      readable,
      ...(note ? { note } : {}),
      nonFinite: this.nonFinite.finding(),
      zero: this.zero.finding(),
      wrongDimension: this.wrongDimension.finding(),
    };
  }
}
