/**
 * Consistency benchmark (npm run bench:consistency): time and peak RSS of the cross-store id
 * comparison for 1M and 10M ids per store, three stores.
 *
 *   npm run bench:consistency                    # 1M and 10M ids per store
 *   npm run bench:consistency -- --ids 2000000   # one size
 *   npm run bench:consistency -- --json
 *
 * The ids are synthetic streams, not read from live servers: each store yields its ids in a
 * scrambled order (i × a prime mod n, as SCAN and scroll give no useful order) in batches, through
 * exactly the code a real check runs after its readers — IdSorter (sorted runs of 250 000 ids spilled to
 * the scratch dir, k-way merged) and joinIds (the merge join counting each direction's missing ids
 * and duplicates). Store B lacks every 100 000th id, store C has 10 extra ids and one duplicate, so
 * the join has findings to report. Each size runs in a child process of its own, so its peak RSS
 * (getrusage maxrss) is its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IdSorter, joinIds } from '../consistency';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

async function one(n: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-bench-consistency-'));
  const started = Date.now();
  try {
    const prime = 1_000_003;
    const gen = (keep: (i: number) => boolean, extra: string[]) => {
      const s = new IdSorter({ scratchDir: dir });
      return {
        s,
        async fill() {
          let batch: string[] = [];
          for (let k = 0; k < n; k++) {
            const i = (k * prime) % n;
            if (keep(i)) batch.push(`doc-${i}`);
            if (batch.length >= 8192) {
              await s.add(batch);
              batch = [];
            }
          }
          await s.add([...batch, ...extra]);
        },
      };
    };
    const a = gen(() => true, []);
    const b = gen((i) => i % 100_000 !== 0, []);
    const c = gen(() => true, [...Array.from({ length: 10 }, (_, j) => `extra-${j}`), 'doc-7']);
    for (const x of [a, b, c]) await x.fill();
    const readMs = Date.now() - started;
    const r = await joinIds(
      [
        { store: 'redis', ids: a.s.sorted() },
        { store: 'faiss', ids: b.s.sorted() },
        { store: 'qdrant', ids: c.s.sorted() },
      ],
      { examples: 10, sample: { between: ['faiss', 'qdrant'], size: 100, seed: 1 } },
    );
    const missing = Object.fromEntries(r.missing.map((m) => [`${m.from}>${m.to}`, m.count]));
    const expectMissing = Math.ceil(n / 100_000);
    if (
      missing['redis>faiss'] !== expectMissing ||
      missing['qdrant>redis'] !== 10 ||
      c.s.duplicatesFinding().count !== 1
    )
      throw new Error(`wrong findings: ${JSON.stringify(missing)} duplicates ${c.s.duplicatesFinding().count}`);
    const runs = a.s.spilledRuns + b.s.spilledRuns + c.s.spilledRuns;
    for (const x of [a, b, c]) x.s.close();
    return {
      idsPerStore: n,
      totalIds: a.s.count + b.s.count + c.s.count,
      runsSpilled: runs,
      sortMs: readMs,
      totalMs: Date.now() - started,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const child = opt('--child');
  if (child) {
    process.stdout.write(`${JSON.stringify(await one(Number(child)))}\n`);
    return;
  }
  const sizes = opt('--ids') ? [Number(opt('--ids'))] : [1_000_000, 10_000_000];
  const results: Record<string, number>[] = [];
  for (const n of sizes) {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', String(n)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`bench of ${n} ids failed (exit ${r.status})`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    results.push(res);
    if (!args.includes('--json'))
      console.log(
        `${String(n).padStart(10)} ids/store × 3 stores: ${(res.totalMs / 1000).toFixed(1)} s (sort+spill ${(res.sortMs / 1000).toFixed(1)} s, ${res.runsSpilled} runs), peak RSS ${res.peakRssMiB} MiB`,
      );
  }
  if (args.includes('--json')) console.log(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
