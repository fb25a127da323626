/**
 * Restore drills of the demo's data (npm start's stores and config): measured RTO per source.
 *
 *   node --import tsx bench/drill-demo.ts              # 3 drills
 *   node --import tsx bench/drill-demo.ts --runs 5 --out /tmp/drill-demo
 *
 * Starts the demo's servers (Temporal dev server, Redis, MinIO as the repository's S3, the Qdrant
 * stand-in) in a fresh folder, seeds the demo data (5,252 Redis keys, a FAISS HNSW index of 5,000
 * vectors, a Qdrant collection of 1,000 points), backs it up once, then runs drills of that point
 * one after another and prints each source's RTO (restore + verify + the drill's validation) and the
 * whole drill's. Ends with `lifeboat report` over the run, in markdown and html, in --out.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDevStack } from '../test/servers/stack';
import { installRuntime } from '../workers/worker';
import { runWorker } from '../workers/main';
import { parseConfig } from '../config';
import { createLifeboatClient } from '../client/api';
import { renderHtml, renderMarkdown } from '../client/report';
import { demoConfigDoc, seedQdrant, seedRedis, writeFaissIndex } from '../client/commands/demo-data';
import type { DrillRecord } from '../lib/drill';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const runs = Number(arg('runs', '3'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-drill-demo-'));
  const out = arg('out', dir);
  installRuntime('WARN');
  const stack = await startDevStack(dir);
  const stopWorker = new AbortController();
  let worker: Promise<void> | undefined;
  try {
    process.env.LIFEBOAT_DRILLDEMO_PASSWORD = randomBytes(18).toString('base64url');
    process.env.LIFEBOAT_DRILLDEMO_S3_KEY = stack.minio.accessKeyId;
    process.env.LIFEBOAT_DRILLDEMO_S3_SECRET = stack.minio.secretAccessKey;
    const faissFile = path.join(dir, 'faiss', 'docs.index');
    // The demo's config (client/commands/demo.ts), metrics off so it runs beside other workers.
    const config = parseConfig({
      ...demoConfigDoc({
        stack,
        dir,
        faissFile,
        qdrantUrl: stack.qdrant!.url,
        taskQueue: 'lifeboat-drill-demo',
        envPrefix: 'LIFEBOAT_DRILLDEMO',
      }),
      observability: { metrics: false },
    });
    const lb = createLifeboatClient(config);
    try {
      await lb.init();
      await seedRedis(stack.redis.url, 'original');
      writeFaissIndex(faissFile, 1);
      await seedQdrant(stack.qdrant!.url, 'demo-docs', 1);
      worker = runWorker(config, { signal: stopWorker.signal, preferBundle: false });
      const started = new Date();
      const b = await (await lb.backup({ trigger: 'bench' })).result();
      console.log(
        `backup ${b.recoveryPointId}: ${b.sources.map((s) => `${s.source} ${s.items} items`).join(', ')} in ${b.durationMs} ms`,
      );
      const drills: DrillRecord[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await (await lb.drill({ recoveryPointId: b.recoveryPointId, trigger: 'bench' })).result();
        drills.push(r);
        console.log(
          `drill ${i + 1}/${runs} ${r.drillId}: ${r.verdict}, RTO ${r.rtoMs} ms; ` +
            r.sources
              .map(
                (s) =>
                  `${s.source} ${s.rtoMs} ms (restore ${s.restoreMs}, validation ${s.validationMs}), ${s.items} items`,
              )
              .join('; '),
        );
        if (!r.ok) console.log(`  reasons: ${r.reasons.join('; ')}`);
      }
      console.log(`\nper-source RTO over ${runs} drills (median / max, ms):`);
      for (const s of config.sources) {
        const xs = drills.flatMap((d) =>
          d.sources.filter((x) => x.source === s.name && x.rtoMs !== undefined).map((x) => x.rtoMs!),
        );
        console.log(`  ${s.name.padEnd(12)} ${median(xs)} / ${Math.max(...xs)} (target ${s.targets.rto} ms)`);
      }
      const whole = drills.map((d) => d.rtoMs!).filter((x) => x !== undefined);
      console.log(`  ${'whole drill'.padEnd(12)} ${median(whole)} / ${Math.max(...whole)}`);
      const report = await lb.report({ since: new Date(started.getTime() - 60_000), until: new Date() });
      writeFileSync(path.join(out, 'report.md'), renderMarkdown(report));
      writeFileSync(path.join(out, 'report.html'), renderHtml(report));
      console.log(`\nreport: ${path.join(out, 'report.md')}, ${path.join(out, 'report.html')}`);
    } finally {
      await lb.close();
    }
  } finally {
    stopWorker.abort();
    await worker?.catch(() => {});
    await stack.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
