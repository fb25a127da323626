/**
 * Issue 10: `lifeboat status` as a monitoring probe and `lifeboat drill --wait`,
 * through the real executable against the real servers. With an RPO target
 * and no new backup, status reports the breach and exits 5; after a fresh
 * backup it is ok; a drill passes and status then shows it with its RTO.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { initRepository } from '../../repository';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { projectRoot } from '../servers/tools';
import { startRedis, type RedisServer } from '../servers/redis';
import { seedRedis, startWorkerFor } from './helpers';
import type { StatusReport } from '../../client/status';
import type { DrillRecord } from '../../lib/drill';

const run = promisify(execFile);
/** Long enough that a status run right after a backup is well within it on a loaded machine. */
const RPO_MS = 30_000;
let redis: RedisServer;
let cfg: TestConfig;
let w: Awaited<ReturnType<typeof startWorkerFor>>;

before(async () => {
  redis = await startRedis(path.join(scratchDir('status'), 'redis'));
  cfg = makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: redis.url, db: 0, targets: { rpo: `${RPO_MS / 1000}s`, rto: '10m' } },
    ],
  });
  await (await initRepository({ url: cfg.config.repository.url }, cfg.env[Object.keys(cfg.env)[0]])).close();
  await seedRedis(redis.url, 's1');
  w = await startWorkerFor(cfg.config);
});

after(async () => {
  await w?.stop();
  await redis?.stop();
});

async function lifeboat(...args: string[]): Promise<{ code: number; doc: Record<string, unknown>; stderr: string }> {
  const env = { ...process.env, ...cfg.env, LIFEBOAT_CONFIG: cfg.file };
  try {
    const { stdout, stderr } = await run(path.join(projectRoot, 'bin', 'lifeboat'), [...args, '--json'], {
      env,
      maxBuffer: 16 << 20,
    });
    return { code: 0, doc: JSON.parse(stdout), stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, doc: JSON.parse(x.stdout), stderr: x.stderr };
  }
}

const meta = (doc: Record<string, unknown>) =>
  (doc as unknown as StatusReport).sources.find((s) => s.source === 'meta')!;

test('status reports an RPO breach (exit 5), is ok after a fresh backup, and shows a passed drill with its RTO', async () => {
  const b1 = await lifeboat('backup', '--wait');
  assert.equal(b1.code, 0, b1.stderr);
  const first = (await lifeboat('list')).doc.recoveryPoints as { id: string; time: string }[];
  assert.equal(first.length, 1);

  // No new backup: wait until the point is past the target (derived from the target, with a margin).
  const breachAt = Date.parse(first[0].time) + RPO_MS + 2000;
  await new Promise((r) => setTimeout(r, Math.max(0, breachAt - Date.now())));
  const s1 = await lifeboat('status');
  assert.equal(s1.code, 5, `status exits 5 on an RPO breach: ${s1.stderr}`);
  assert.equal(s1.doc.ok, false);
  const m1 = meta(s1.doc);
  assert.equal(m1.rpoState, 'breach');
  assert.equal(m1.rpoTargetMs, RPO_MS);
  assert.equal(m1.newestPoint?.id, first[0].id);
  assert.ok(m1.rpoMs! > RPO_MS, `measured RPO ${m1.rpoMs} exceeds the target`);
  assert.ok(
    m1.problems.some((p) => /RPO breached/.test(p)),
    m1.problems.join('; '),
  );

  // A fresh backup: ok again.
  const b2 = await lifeboat('backup', '--wait');
  assert.equal(b2.code, 0, b2.stderr);
  const second = ((await lifeboat('list')).doc.recoveryPoints as { id: string }[])[0];
  const s2 = await lifeboat('status');
  const m2 = meta(s2.doc);
  assert.equal(m2.newestPoint?.id, second.id);
  assert.equal(m2.rpoState, 'ok', `RPO ${m2.rpoMs} ms within ${RPO_MS} ms right after a backup`);
  assert.equal(s2.code, 0, s2.stderr);
  assert.equal(m2.lastDrill, undefined);

  // A drill through the CLI passes; status then shows it.
  const d = await lifeboat('drill', '--wait');
  assert.equal(d.code, 0, d.stderr);
  const rec = d.doc.result as DrillRecord;
  assert.equal(rec.verdict, 'passed', rec.reasons.join('; '));
  assert.equal(rec.recoveryPointId, second.id);
  assert.match((d.doc.operation as { workflowId: string }).workflowId, /^lifeboat-drill-\d{8}T\d{6}Z-/);
  const s3 = await lifeboat('status');
  const m3 = meta(s3.doc);
  assert.equal(m3.lastDrill?.drillId, rec.drillId);
  assert.equal(m3.lastDrill?.verdict, 'passed');
  assert.equal(m3.lastDrill?.rtoMs, rec.sources[0].rtoMs);
  assert.equal(m3.lastDrill?.rtoState, 'ok');
  // The drilled point is now a good point for the RPO (a drill or a verification proved it).
  assert.equal(m3.rpoPoint?.id, second.id);
  assert.notEqual(m3.rpoPoint?.basis, 'newest (not verified)');
  // Exit code follows the RPO alone now (the drill passed), however long the drill took.
  assert.equal(s3.code, m3.rpoState === 'ok' ? 0 : 5, s3.stderr);
});
