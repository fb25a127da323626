import type {
  ConsistencyStore,
  Finding,
  LinkReport,
  StoreReport,
  StoreVectorReport,
  VectorComparison,
} from '../lib/consistency';
import { QdrantApi } from '../sources/qdrant/api';
import { exampleList, FindingBuilder } from './finding';
import { IdSorter } from './id-sorter';
import { joinIds, type JoinSide } from './merge-join';
import { faissEntries, faissLayout, FaissIdMappingError, type FaissLayout } from './readers/faiss';
import { qdrantVectorSpec, qdrantVectorsOf, readQdrantIds } from './readers/qdrant';
import { readRedisIds } from './readers/redis';
import type { CheckOptions, LinkSpec } from './types';
import { VectorChecker } from './vector-check';

const label = (r: StoreReport) => `${r.source} (${r.store})`;
const eg = (f: Finding) => (f.examples.length ? `, e.g. ${exampleList(f.examples)}` : '');

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

function l2normalize(v: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s) || 1;
  return Array.from(v, (x) => x / n);
}

interface Side {
  report: StoreReport;
  sorter: IdSorter;
}

/**
 * Checks one link: reads each store's ids (and vectors) once into a bounded-memory sorter, joins
 * the sorted ids to find what each store lacks, and, when asked, compares a sample of FAISS and
 * Qdrant vectors. Every disagreement becomes one line of `problems`, with examples.
 */
export async function checkLink(link: LinkSpec, opts: CheckOptions): Promise<LinkReport> {
  const started = Date.now();
  const problems: string[] = [];
  const sides: Side[] = [];
  const newSorter = () => new IdSorter({ scratchDir: opts.scratchDir, runSize: opts.runSize, examples: link.examples });
  let read = 0;
  const progress = (n: number) => {
    read += n;
    opts.onProgress?.({ bytes: 0, items: read });
  };
  let faissLayoutOf: FaissLayout | undefined;
  let qdrantVector: { name: string; distance: string; size: number } | undefined;
  try {
    if (link.redis) {
      const r = link.redis;
      const sorter = newSorter();
      const withoutId = new FindingBuilder(link.examples);
      await readRedisIds(
        r.conn,
        r.spec,
        async (ids) => {
          await sorter.add(ids);
          progress(ids.length);
        },
        withoutId,
        opts.signal,
      );
      sides.push({
        sorter,
        report: {
          store: 'redis',
          source: r.source,
          where: r.where,
          count: 0,
          unique: 0,
          duplicates: { count: 0, examples: [] },
          withoutId: withoutId.finding(),
        },
      });
    }
    if (link.faiss) {
      const f = link.faiss;
      try {
        const layout = await faissLayout(f.file, f.ids);
        faissLayoutOf = layout;
        const sorter = newSorter();
        const checker = new VectorChecker(link.dimension ?? layout.d, link.examples);
        for await (const b of faissEntries(layout, { vectors: true, signal: opts.signal })) {
          await sorter.add(b.ids);
          if (b.vectors) {
            const d = layout.d;
            for (let i = 0; i < b.ids.length; i++) checker.check(b.ids[i], b.vectors.subarray(i * d, (i + 1) * d));
          }
          progress(b.ids.length);
        }
        const vectors = checker.report(layout.d, link.dimension, layout.vectors !== undefined, layout.note);
        sides.push({
          sorter,
          report: {
            store: 'faiss',
            source: f.source,
            where: `${f.file} (${layout.chain.join(' > ')})`,
            count: 0,
            unique: 0,
            duplicates: { count: 0, examples: [] },
            vectors,
          },
        });
      } catch (e) {
        if (!(e instanceof FaissIdMappingError)) throw e;
        problems.push(`${f.source} (faiss): ${e.message}`);
      }
    }
    if (link.qdrant) {
      const q = link.qdrant;
      const api = new QdrantApi(q.conn);
      const v = await qdrantVectorSpec(api, q);
      if (v.problem) problems.push(`${q.source} (qdrant): ${v.problem}`);
      else {
        const size = v.spec!.size;
        qdrantVector = { name: v.name, distance: v.spec!.distance, size };
        const sorter = newSorter();
        const withoutId = new FindingBuilder(link.examples);
        const checker = new VectorChecker(link.dimension ?? size, link.examples);
        await readQdrantIds(
          q,
          v.name,
          size,
          async (ids) => {
            await sorter.add(ids);
            progress(ids.length);
          },
          withoutId,
          (id, vec) => checker.check(id, vec ?? []),
          opts.signal,
        );
        sides.push({
          sorter,
          report: {
            store: 'qdrant',
            source: q.source,
            where: q.where,
            count: 0,
            unique: 0,
            duplicates: { count: 0, examples: [] },
            withoutId: withoutId.finding(),
            vectors: checker.report(size, link.dimension, true),
          },
        });
      }
    }

    const byStore = (s: ConsistencyStore) => sides.find((x) => x.report.store === s);
    const fs = byStore('faiss');
    const qs = byStore('qdrant');
    const sampling = link.compare && fs && qs && faissLayoutOf?.vectors !== undefined;
    const joinSides: JoinSide[] = sides.map((s) => ({ store: s.report.store, ids: s.sorter.sorted() }));
    const joined = await joinIds(joinSides, {
      examples: link.examples,
      ...(sampling
        ? { sample: { between: ['faiss', 'qdrant'], size: link.compare!.sample, seed: seedOf(link.name) } }
        : {}),
      signal: opts.signal,
    });
    for (const s of sides) {
      s.report.count = s.sorter.count;
      s.report.unique = s.sorter.unique;
      s.report.duplicates = s.sorter.duplicatesFinding();
    }

    // ---- findings → problems
    for (const { report: r } of sides) {
      if (r.duplicates.count)
        problems.push(`${label(r)}: ${r.duplicates.count} ids occur more than once${eg(r.duplicates)}`);
      if (r.withoutId?.count)
        problems.push(
          `${label(r)}: ${r.withoutId.count} ${r.store === 'redis' ? 'records' : 'points'} have no readable id${eg(r.withoutId)}`,
        );
      const v: StoreVectorReport | undefined = r.vectors;
      if (!v) continue;
      if (link.dimension !== undefined && v.dimension !== link.dimension)
        problems.push(`${label(r)}: vectors have dimension ${v.dimension}, the link expects ${link.dimension}`);
      else if (v.wrongDimension.count)
        problems.push(
          `${label(r)}: ${v.wrongDimension.count} vectors are not of dimension ${link.dimension ?? v.dimension}${eg(v.wrongDimension)}`,
        );
      if (v.nonFinite.count)
        problems.push(`${label(r)}: ${v.nonFinite.count} vectors hold NaN or Infinity${eg(v.nonFinite)}`);
      if (v.zero.count) problems.push(`${label(r)}: ${v.zero.count} vectors are all zeros${eg(v.zero)}`);
    }
    if (link.dimension === undefined && fs?.report.vectors && qs?.report.vectors) {
      const a = fs.report.vectors.dimension;
      const b = qs.report.vectors.dimension;
      if (a !== b) problems.push(`${label(fs.report)} has dimension ${a} but ${label(qs.report)} has ${b}`);
    }
    const names = new Map(sides.map((s) => [s.report.store, label(s.report)]));
    for (const m of joined.missing) {
      if (!m.count) continue;
      const what = m.from === 'redis' ? 'records' : m.from === 'faiss' ? 'vectors' : 'points';
      const lacks = m.to === 'redis' ? 'no record' : m.to === 'faiss' ? 'no FAISS vector' : 'no Qdrant point';
      problems.push(`${m.count} ${what} of ${names.get(m.from)} have ${lacks} in ${names.get(m.to)}${eg(m)}`);
    }

    // ---- sampled FAISS-vs-Qdrant comparison
    let comparison: VectorComparison | undefined;
    if (link.compare && fs && qs && qdrantVector) {
      const normalized = qdrantVector.distance.toLowerCase() === 'cosine';
      const base = { tolerance: link.compare.tolerance, normalized };
      if (!faissLayoutOf?.vectors)
        comparison = {
          ...base,
          sampled: 0,
          differing: { count: 0, examples: [] },
          skipped: `the FAISS index (${faissLayoutOf?.chain.join(' > ')}) keeps no raw vectors to compare`,
        };
      else {
        const wanted = new Set(joined.sample);
        const fv = new Map<string, Float32Array>();
        const d = faissLayoutOf.d;
        for await (const b of faissEntries(faissLayoutOf, { vectors: true, signal: opts.signal }))
          b.ids.forEach((id, i) => {
            if (wanted.has(id)) fv.set(id, b.vectors!.slice(i * d, (i + 1) * d));
          });
        const qv = await qdrantVectorsOf(link.qdrant!, qdrantVector.name, joined.sample);
        const differing: { id: string; maxDiff: number }[] = [];
        let count = 0;
        for (const id of joined.sample) {
          const a = fv.get(id);
          const raw = qv.get(id);
          let maxDiff = Infinity;
          if (a && raw && raw.length === a.length && raw.every((x) => typeof x === 'number')) {
            const x = normalized ? l2normalize(a) : Array.from(a);
            const y = normalized ? l2normalize(raw as number[]) : (raw as number[]);
            maxDiff = 0;
            for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
          }
          if (!(maxDiff <= link.compare.tolerance)) {
            count++;
            if (differing.length < link.examples) differing.push({ id, maxDiff });
          }
        }
        comparison = { ...base, sampled: joined.sample.length, differing: { count, examples: differing } };
        if (count)
          problems.push(
            `${count} of ${joined.sample.length} sampled ids have different vectors in ${label(fs.report)} and ${label(qs.report)} (tolerance ${link.compare.tolerance}${normalized ? ', both L2-normalised' : ''}), e.g. ${differing
              .map(
                (x) =>
                  `${x.id} (max difference ${Number.isFinite(x.maxDiff) ? x.maxDiff.toPrecision(3) : 'shape differs'})`,
              )
              .join(', ')}`,
          );
      }
    }
    return {
      link: link.name,
      ok: problems.length === 0,
      stores: sides.map((s) => s.report),
      missing: joined.missing,
      ...(comparison ? { comparison } : {}),
      problems,
      durationMs: Date.now() - started,
    };
  } finally {
    for (const s of sides) s.sorter.close();
  }
}
