import { mkdtempSync, rmSync } from 'node:fs';
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Finding } from '../lib/consistency';
import { FindingBuilder } from './finding';

/**
 * Ids are kept as text: a backslash and a newline are escaped, so one id is one line of a run file
 * whatever bytes it holds, and every store's ids sort the same way (UTF-16 code unit order of the
 * escaped text, which is the order the merge join compares in).
 */
export function escapeId(id: string): string {
  return id.includes('\\') || id.includes('\n') ? id.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : id;
}
export function unescapeId(s: string): string {
  return s.includes('\\') ? s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\')) : s;
}

/** Sorted ids leave a sorter in batches of this many. */
const BATCH = 16_384;
/** Bytes read per run file at a time while merging (many runs are open at once). */
const READ_CHUNK = 64 * 1024;

export interface IdSorterOptions {
  /** Where run files go (a folder of its own is made inside and removed by close()). */
  scratchDir: string;
  /** Ids held in memory before a sorted run is written out. @default 250_000 */
  runSize?: number;
  /** Examples kept for duplicates. @default 10 */
  examples?: number;
}

/**
 * External sort of one store's ids in bounded memory: ids are buffered up to `runSize`, each full
 * buffer is sorted and written to the scratch dir as a run, and `sorted()` merges the runs back
 * (k-way), yielding each distinct id once and counting those seen more than once. Memory is one run
 * while reading and one read chunk per run while merging — never a set of every id.
 */
export class IdSorter {
  private buf: string[] = [];
  private runs: string[] = [];
  private dir: string | undefined;
  /** Ids added, duplicates included. */
  count = 0;
  /** Distinct ids (known once `sorted()` has been read to the end). */
  unique = 0;
  readonly duplicates: FindingBuilder;
  private readonly runSize: number;

  constructor(private readonly opts: IdSorterOptions) {
    this.runSize = opts.runSize ?? 250_000;
    this.duplicates = new FindingBuilder(opts.examples ?? 10);
  }

  /** Runs written so far (for tests and the bench). */
  get spilledRuns(): number {
    return this.runs.length;
  }

  async add(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.buf.push(escapeId(id));
      if (this.buf.length >= this.runSize) await this.spill();
    }
    this.count += ids.length;
  }

  private async spill(): Promise<void> {
    if (!this.buf.length) return;
    this.dir ??= mkdtempSync(path.join(this.opts.scratchDir, 'ids-'));
    const file = path.join(this.dir, `run-${this.runs.length}`);
    this.buf.sort();
    await writeFile(file, `${this.buf.join('\n')}\n`, { mode: 0o600 });
    this.runs.push(file);
    this.buf = [];
  }

  /** Every distinct id once, ascending, in batches (escaped; see unescapeId). Call once. */
  async *sorted(): AsyncGenerator<string[]> {
    const dup = this.duplicates;
    let out: string[] = [];
    let prev: string | undefined;
    let prevCounted = false;
    const push = (id: string) => {
      if (id === prev) {
        if (!prevCounted) dup.add(unescapeId(id));
        prevCounted = true;
        return;
      }
      prev = id;
      prevCounted = false;
      out.push(id);
      this.unique++;
    };
    if (!this.runs.length) {
      this.buf.sort();
      for (const id of this.buf) {
        push(id);
        if (out.length >= BATCH) {
          yield out;
          out = [];
        }
      }
      this.buf = [];
      if (out.length) yield out;
      return;
    }
    await this.spill();
    const readers = await Promise.all(this.runs.map((f) => RunReader.open(f)));
    try {
      for (const r of readers) await r.fill();
      let live = readers.filter((r) => !r.done);
      while (live.length) {
        // k is small (ids / runSize): a linear scan for the least head beats a heap's bookkeeping.
        let min = live[0];
        for (let i = 1; i < live.length; i++) if (live[i].head < min.head) min = live[i];
        push(min.head);
        if (!min.advance()) {
          await min.fill();
          if (min.done) live = live.filter((r) => r !== min);
        }
        if (out.length >= BATCH) {
          yield out;
          out = [];
        }
      }
      if (out.length) yield out;
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  }

  close(): void {
    this.buf = [];
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  duplicatesFinding(): Finding {
    return this.duplicates.finding();
  }
}

/** Reads one sorted run file line by line, a chunk at a time. */
class RunReader {
  private lines: string[] = [];
  private i = 0;
  private pos = 0;
  private rest = '';
  private eof = false;
  done = false;

  private constructor(private readonly fh: FileHandle) {}

  static async open(file: string): Promise<RunReader> {
    return new RunReader(await open(file, 'r'));
  }

  get head(): string {
    return this.lines[this.i];
  }

  /** Moves to the next line; false when this chunk is used up (call fill()). */
  advance(): boolean {
    return ++this.i < this.lines.length;
  }

  /** Loads the next chunk's lines; sets `done` at the end of the file. */
  async fill(): Promise<void> {
    this.lines = [];
    this.i = 0;
    while (!this.lines.length) {
      if (this.eof) {
        this.done = true;
        return;
      }
      const b = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await this.fh.read(b, 0, READ_CHUNK, this.pos);
      this.pos += bytesRead;
      if (bytesRead === 0) this.eof = true;
      const text = this.rest + b.toString('utf8', 0, bytesRead);
      // A chunk may end inside a UTF-8 sequence or a line: keep the tail for the next one.
      const cut = this.eof ? text.length : text.lastIndexOf('\n') + 1;
      this.rest = text.slice(cut);
      const body = text.slice(0, cut);
      if (body) {
        this.lines = body.split('\n');
        if (this.lines[this.lines.length - 1] === '') this.lines.pop();
      }
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
