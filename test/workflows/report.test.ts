/**
 * Issue 10: `lifeboat report` against the real servers. The test makes backups, a passing
 * drill, a drill whose user check fails, an RPO breach (no backup for longer than the target)
 * and a legal hold; then the report (the real executable) must give the figures the test
 * computes itself from the recovery points and the drill and verification records it made.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { backupWorkflow, drillWorkflow } from '../../workflows';
import { DRILL_RECORD_KIND, VERIFICATION_RECORD_KIND, type DrillRecord } from '../../lib/drill';
import { POINT_TAGS } from '../../lib/domain';
import { initRepository, type RecoveryPoint } from '../../repository';
import { openConfiguredRepository } from '../../runtime/configured-repository';
import type { ComplianceReport } from '../../client/report';
import { createLifeboatClient } from '../../client/api';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { projectRoot } from '../servers/tools';
import { startRedis, type RedisServer } from '../servers/redis';
import { seedRedis, startWorkerFor } from './helpers';
import { assertNothingLeft, scratchRedisPorts, storedDrillRecord } from './drill-helpers';

const run = promisify(execFile);
const RPO_MS = 6000;
const RTO_MS = 10 * 60_000;
let dir: string;
let redis: RedisServer;
let cfg: TestConfig;
let w: Awaited<ReturnType<typeof startWorkerFor>>;
let marker: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = (kind: string) => `test-${kind}-${randomUUID().slice(0, 8)}`;

before(async () => {
  dir = scratchDir('report');
  redis = await startRedis(path.join(dir, 'redis'));
  marker = path.join(dir, 'app-is-broken');
  cfg = makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: redis.url, db: 0, targets: { rpo: `${RPO_MS / 1000}s`, rto: '10m' } },
    ],
    extra: {
      // Never due by itself (1 January, 04:00): the test triggers it.
      schedules: { drill: { cron: '0 4 1 1 *' } },
      drill: {
        checks: [
          {
            // The application test: fails, saying why, while the marker file exists.
            name: 'app-smoke',
            command: ['sh', '-c', `if [ -e ${marker} ]; then echo "app-smoke: orders table is empty" >&2; exit 3; fi`],
          },
        ],
      },
    },
  });
  await (await initRepository({ url: cfg.config.repository.url }, Object.values(cfg.env)[0])).close();
  await seedRedis(redis.url, 'r1');
  w = await startWorkerFor(cfg.config);
});

after(async () => {
  await w?.stop();
  await redis?.stop();
});

const backup = () =>
  w.client.workflow.execute(backupWorkflow, { taskQueue: cfg.taskQueue, workflowId: id('backup'), args: [{}] });

async function drill(): Promise<DrillRecord> {
  const h = await w.client.workflow.start(drillWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: id('drill'),
    args: [{ trigger: 'test' }],
  });
  try {
    return await h.result();
  } catch (e) {
    // A failed drill carries its record.
    if (e instanceof WorkflowFailedError) return (e.cause as { details?: unknown[] }).details?.[0] as DrillRecord;
    throw e;
  }
}

async function pointTime(pointId: string): Promise<number> {
  const repo = await openConfiguredRepository(cfg.config);
  try {
    return Date.parse((await repo.getRecoveryPoint(pointId)).time);
  } finally {
    await repo.close();
  }
}

async function lifeboat(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, ...cfg.env, LIFEBOAT_CONFIG: cfg.file };
  try {
    const { stdout, stderr } = await run(path.join(projectRoot, 'bin', 'lifeboat'), args, { env, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

test('the report gives the figures computed from the points and records the test made; a failing user check fails its drill with its output', async () => {
  const periodStart = new Date(Date.now() - 60_000);
  const b1 = await backup();
  const d1 = await drill();
  assert.equal(d1.verdict, 'passed', d1.reasons.join('; '));
  // No backup for longer than the RPO target: a breach the report must show.
  const p1Time = await pointTime(b1.recoveryPointId);
  await sleep(Math.max(0, p1Time + RPO_MS + 4000 - Date.now()));
  const b2 = await backup();

  // A failing user check fails the drill, with the check's output, and the drill still cleans up.
  writeFileSync(marker, '');
  const d2 = await drill();
  rmSync(marker);
  assert.equal(d2.verdict, 'failed');
  assert.equal(d2.recoveryPointId, b2.recoveryPointId);
  assert.deepEqual(
    d2.checks.map((c) => [c.name, c.ok, c.exitCode]),
    [['app-smoke', false, 3]],
  );
  assert.match(d2.checks[0].output, /app-smoke: orders table is empty/);
  assert.ok(
    d2.reasons.some((r) => /check app-smoke failed \(exit 3\): app-smoke: orders table is empty/.test(r)),
    d2.reasons.join('; '),
  );
  assert.equal(d2.sources[0].ok, true, 'the restore itself validated; the check failed the drill');
  assert.equal(d2.cleanup.ok, true, d2.cleanup.failures.join('; '));
  await assertNothingLeft(cfg.config, d2.drillId, { ports: scratchRedisPorts(d2) });
  assert.deepEqual(await storedDrillRecord(cfg.config, d2.drillId), d2);

  const hold = await lifeboat('hold', b1.recoveryPointId, '--reason', 'audit 2026-11 <legal>');
  assert.equal(hold.code, 0, hold.stderr);
  const until = new Date();

  // ---- What the report must say, computed here from the repository's contents.
  const repo = await openConfiguredRepository(cfg.config);
  let points: RecoveryPoint[];
  let drills: DrillRecord[];
  let verifications: { recoveryPointId: string; ok: boolean; time: string }[];
  try {
    points = (await repo.listRecoveryPoints()).filter(
      (p) => !p.tags.includes(POINT_TAGS.safety) && p.artifacts.some((a) => a.source === 'meta'),
    );
    drills = (await repo.records.list<DrillRecord>(DRILL_RECORD_KIND)).records.map((r) => r.body);
    verifications = (
      await repo.records.list<{ recoveryPointId: string; ok: boolean; time: string }>(VERIFICATION_RECORD_KIND)
    ).records.map((r) => r.body);
  } finally {
    await repo.close();
  }
  assert.deepEqual(points.map((p) => p.id).sort(), [b1.recoveryPointId, b2.recoveryPointId].sort());
  assert.equal(drills.length, 2);
  const good = points
    .filter(
      (p) =>
        verifications.some((v) => v.recoveryPointId === p.id && v.ok) ||
        drills.some((d) => d.recoveryPointId === p.id && d.sources.some((s) => s.source === 'meta' && s.ok)),
    )
    .map((p) => Date.parse(p.time))
    .sort((a, b) => a - b);
  assert.equal(good.length, 2, 'both points were verified by their backup and drilled');
  // The age of the newest good point exceeds the target for (gap − target) after each good point.
  const ends = [...good.slice(1), until.getTime()];
  const overs = good.map((g, i) => ends[i] - g - RPO_MS).filter((x) => x > 0);
  const breachMs = overs.reduce((a, b) => a + b, 0);
  const span = until.getTime() - good[0];
  const rtos = drills.map((d) => d.sources[0].rtoMs!).sort((a, b) => a - b);
  const expected = {
    compliancePct: ((span - breachMs) / span) * 100,
    breaches: overs.length,
    breachMs,
    drills: { run: 2, passed: 1, failed: 1, cancelled: 0 },
    rtoMedian: (rtos[0] + rtos[1]) / 2,
    rtoMax: rtos[1],
    verify: verifications.filter((v) => points.some((p) => p.id === v.recoveryPointId)),
  };
  assert.ok(overs.length >= 1, 'the wait made a breach');

  const since = periodStart.toISOString();
  const r = await lifeboat('report', '--since', since, '--until', until.toISOString(), '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; report: ComplianceReport };
  const rep = doc.report;
  assert.equal(doc.ok, false, 'a source in breach');
  assert.equal(rep.since, since);
  assert.equal(rep.until, until.toISOString());
  const m = rep.sources[0];
  assert.equal(m.source, 'meta');
  assert.equal(m.rpo.from, new Date(good[0]).toISOString());
  assert.equal(m.rpo.breaches.length, expected.breaches);
  assert.equal(m.rpo.breachMs, expected.breachMs);
  assert.ok(
    Math.abs(m.rpo.compliancePct! - expected.compliancePct) < 1e-9,
    `${m.rpo.compliancePct} vs ${expected.compliancePct}`,
  );
  assert.equal(m.rpo.targetMs, RPO_MS);
  assert.deepEqual(
    { run: m.drills.run, passed: m.drills.passed, failed: m.drills.failed, cancelled: m.drills.cancelled },
    expected.drills,
  );
  assert.equal(m.rto.targetMs, RTO_MS);
  assert.equal(m.rto.medianMs, expected.rtoMedian);
  assert.equal(m.rto.maxMs, expected.rtoMax);
  assert.equal(m.verify.passed, expected.verify.filter((v) => v.ok).length);
  assert.equal(m.verify.failed, expected.verify.filter((v) => !v.ok).length);
  assert.ok(m.verify.passed >= 2, 'each backup verified its point');
  assert.deepEqual(
    m.holds.map((h) => [h.recoveryPointId, h.reason]),
    [[b1.recoveryPointId, 'audit 2026-11 <legal>']],
  );
  assert.deepEqual(
    m.failures.map((f) => [f.kind, f.id]),
    [['drill', d2.drillId]],
  );
  assert.deepEqual(m.failures[0].reasons, d2.reasons);
  assert.equal(m.verdict, 'breach');

  // Markdown (the default) on stdout: the summary row says the same.
  const md = await lifeboat('report', '--since', since, '--until', until.toISOString());
  assert.equal(md.code, 0, md.stderr);
  const pct = `${Math.floor(expected.compliancePct * 100) / 100} %`;
  assert.ok(md.stdout.includes(`| meta | BREACH | ${pct} | 6.00 s | 1/2 |`), md.stdout.slice(0, 1500));
  assert.ok(md.stdout.includes(d2.drillId) && md.stdout.includes('orders table is empty'));

  // HTML into a file: one shaded band per breach, one bar per measured RTO, the failed drill as a cross.
  const out = path.join(dir, 'report.html');
  const html = await lifeboat(
    'report',
    '--since',
    since,
    '--until',
    until.toISOString(),
    '--format',
    'html',
    '--out',
    out,
  );
  assert.equal(html.code, 0, html.stderr);
  assert.match(html.stdout, new RegExp(`report written to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(html.stdout, /BREACH\s+meta: RPO breached/);
  assert.ok(existsSync(out));
  const page = readFileSync(out, 'utf8');
  assert.equal((page.match(/<svg /g) ?? []).length, 2);
  assert.equal((page.match(/<rect class="breach"/g) ?? []).length, expected.breaches);
  assert.equal((page.match(/<rect class="rto-(ok|over)"/g) ?? []).length, 2, 'both drills measured an RTO');
  assert.ok(page.includes('audit 2026-11 &lt;legal&gt;'));

  // Bad input: a clear usage error, nothing written.
  const bad = await lifeboat('report', '--since', 'last month', '--out', path.join(dir, 'never.html'));
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--since "last month" is neither a duration/);
  assert.equal(existsSync(path.join(dir, 'never.html')), false);
});

test('the drill schedule starts drillWorkflow for real: the scheduled drill restores, validates, cleans up, records; the UI sees its summary and search attributes', async () => {
  const prefix = `lbtest-${randomUUID().slice(0, 6)}-`;
  const lb = createLifeboatClient(cfg.config, { scheduleIdPrefix: prefix, temporalClient: w.client });
  const schedule = w.client.schedule.getHandle(`${prefix}drill`);
  try {
    const applied = await lb.schedules.apply();
    assert.deepEqual(applied.created, [`${prefix}drill`]);
    await schedule.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 600 && !workflowId; i++) {
      workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!workflowId) await sleep(100);
    }
    assert.ok(workflowId, 'the schedule started a workflow');
    const h = w.client.workflow.getHandle(workflowId);
    const r = (await h.result()) as DrillRecord;
    assert.equal(r.verdict, 'passed', r.reasons.join('; '));
    assert.equal(r.trigger, 'schedule');
    assert.deepEqual(
      r.sources.map((x) => [x.source, x.ok, x.restoreStatus]),
      [['meta', true, 'verified']],
    );
    assert.ok(r.sources[0].rtoMs! > 0);
    assert.equal(r.cleanup.ok, true, r.cleanup.failures.join('; '));
    await assertNothingLeft(cfg.config, r.drillId, { ports: scratchRedisPorts(r) });
    assert.deepEqual(await storedDrillRecord(cfg.config, r.drillId), r);
    const d = await h.describe();
    assert.equal(d.type, 'drillWorkflow');
    assert.match((await d.staticSummary()) ?? '', /^Scheduled restore drill of meta/);
    assert.deepEqual(d.searchAttributes.LifeboatKind, ['drill']);
    assert.deepEqual(d.searchAttributes.LifeboatSource, ['meta']);
    assert.deepEqual(d.searchAttributes.LifeboatRecoveryPoint, [r.recoveryPointId]);
    assert.deepEqual(d.searchAttributes.LifeboatPhase, ['passed'], 'the verdict is filterable in the UI');
  } finally {
    await schedule.delete().catch(() => undefined);
    await lb.close();
  }
});
