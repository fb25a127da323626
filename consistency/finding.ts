import type { Finding } from '../lib/consistency';

/** Counts occurrences and keeps the first `max` examples (a report stays small however bad the data). */
export class FindingBuilder {
  count = 0;
  readonly examples: string[] = [];

  constructor(private readonly max: number) {}

  add(example: string): void {
    this.count++;
    if (this.examples.length < this.max) this.examples.push(example);
  }

  finding(): Finding {
    return { count: this.count, examples: [...this.examples] };
  }
}

/** "e.g. a, b, c" with ids quoted only when they need it. */
export function exampleList(examples: readonly string[]): string {
  return examples.map((e) => (/^[\w.:@/-]+$/.test(e) ? e : JSON.stringify(e))).join(', ');
}
