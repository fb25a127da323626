/**
 * Child-process entry of the FAISS probe sandbox: loads one index file with
 * faiss-node and runs the probe queries. faiss aborts the process on some
 * damaged files (std::bad_alloc, failed asserts), so this runs apart from the
 * worker; the parent (probe-runner.ts) turns a crash into FaissLoadError.
 *
 * Input: argv[2] = JSON ProbeRequest. Output: one ProbeReply over IPC (or
 * stdout when started without IPC), then exit 0.
 */
import { probeQueryVectors, queryDigest } from './probe-queries';
import type { ProbeReply, ProbeRequest } from './probe-protocol';

function reply(msg: ProbeReply): void {
  if (process.send) process.send(msg, () => process.exit(0));
  else {
    process.stdout.write(`${JSON.stringify(msg)}\n`);
    process.exit(0);
  }
}

function main(): void {
  const started = Date.now();
  // Loaded only here, so the parent never links faiss into its own process.

  const faiss = require('faiss-node') as typeof import('faiss-node');
  // Wait until "ready" is written: an abort while loading must not swallow it.
  if (process.send) process.send({ ready: true } satisfies ProbeReply, () => probe(faiss, started));
  else probe(faiss, started);
}

function probe(faiss: typeof import('faiss-node'), started: number): void {
  const req = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
  let index: import('faiss-node').Index;
  try {
    index = faiss.Index.read(req.path);
  } catch (e) {
    reply({ ok: false, message: (e as Error).message });
    return;
  }
  const d = index.getDimension();
  const ntotal = index.ntotal();
  const vectors = probeQueryVectors(req.seed, req.queries, d);
  const k = Math.min(req.k, ntotal);
  const labels: number[][] = [];
  const distances: number[][] = [];
  if (k > 0) {
    const res = index.search(Array.from(vectors), k);
    for (let q = 0; q < req.queries; q++) {
      labels.push(res.labels.slice(q * k, (q + 1) * k));
      distances.push(res.distances.slice(q * k, (q + 1) * k));
    }
  } else {
    for (let q = 0; q < req.queries; q++) (labels.push([]), distances.push([]));
  }
  reply({
    ok: true,
    probes: {
      status: 'ok',
      seed: req.seed,
      queries: req.queries,
      k,
      queryDigest: queryDigest(vectors),
      d,
      ntotal,
      labels,
      distances,
      elapsedMs: Date.now() - started,
    },
  });
}

main();
