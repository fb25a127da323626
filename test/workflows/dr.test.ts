import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { backupWorkflow } from '../../workflows';
import type { DrReport } from '../../lib/dr';
import { createDrClient, type DrClient } from '../../client/dr';
import { startWebhookServer, type WebhookServer } from '../../client/webhook';
import { runCli } from '../../client/program';
import { openRepository } from '../../repository';
import {
  makeStores,
  qdrantSnapshot,
  redisSnapshot,
  seedQdrant,
  seedRedis,
  snapshotDiff,
  startWorkerFor,
  writeFaissIndex,
  type Stores,
} from './helpers';

/**
 * Disaster recovery end to end on the real servers: Redis, FAISS file and Qdrant wiped, DR declared
 * through the webhook with an Alertmanager payload (sent three times), approved through the CLI,
 * every store restored exactly, the report consistent with the workflow history; then "recover to
 * before", abort after the first group, and a failure in the last group — each leaving the stores
 * exactly as they were before the DR.
 */

const TOKEN = `tok-${randomUUID()}`;
const TOKEN_ENV = `LIFEBOAT_TEST_WEBHOOK_${randomUUID().slice(0, 6).toUpperCase()}`;
process.env[TOKEN_ENV] = TOKEN;

let stores: Stores;
let w: Awaited<ReturnType<typeof startWorkerFor>>;
let dr: DrClient;
let hook: WebhookServer;

before(async () => {
  stores = await makeStores('dr', [], {
    dr: { webhook: { token: { env: TOKEN_ENV }, uiUrl: 'http://127.0.0.1:8233' } },
  });
  w = await startWorkerFor(stores.cfg.config);
  dr = createDrClient(stores.cfg.config, { temporalClient: w.client });
  hook = await startWebhookServer(stores.cfg.config, { listen: '127.0.0.1:0', dr, log: () => {} });
});

after(async () => {
  await hook?.close();
  await w?.stop();
  await stores?.stop();
});

interface State {
  redis: Map<string, string>;
  faiss: Buffer | null;
  qdrant: string | null;
}

async function state(): Promise<State> {
  const exists = (await stores.qdrant.collectionExists(stores.collection)).exists;
  return {
    redis: await redisSnapshot(stores.redis.url),
    faiss: existsSync(stores.faissFile) ? readFileSync(stores.faissFile) : null,
    qdrant: exists ? await qdrantSnapshot(stores.qdrant, stores.collection) : null,
  };
}

function assertSameState(got: State, want: State, what: string) {
  assert.deepEqual(snapshotDiff(got.redis, want.redis), [], `${what}: Redis differs`);
  assert.equal(got.redis.size, want.redis.size, `${what}: Redis key count`);
  assert.ok(
    got.faiss === null ? want.faiss === null : want.faiss !== null && got.faiss.equals(want.faiss),
    `${what}: FAISS file differs (${got.faiss?.length ?? 'absent'} vs ${want.faiss?.length ?? 'absent'} bytes)`,
  );
  assert.equal(got.qdrant, want.qdrant, `${what}: Qdrant points differ`);
}

async function seedAll(seed: number) {
  await seedRedis(stores.redis.url, `s${seed}`);
  mkdirSync(stores.faissDir, { recursive: true });
  writeFaissIndex(stores.faissFile, seed);
  await seedQdrant(stores.qdrant, stores.collection, seed);
}

async function wipeAll() {
  const r = new Redis(stores.redis.url);
  await r.flushall();
  r.disconnect();
  rmSync(stores.faissFile, { force: true });
  if ((await stores.qdrant.collectionExists(stores.collection)).exists)
    await stores.qdrant.deleteCollection(stores.collection);
}

async function backup(sources?: string[]): Promise<string> {
  const h = await w.client.workflow.start(backupWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: `test-dr-backup-${randomUUID().slice(0, 8)}`,
    args: [sources ? { sources } : {}],
  });
  return (await h.result()).recoveryPointId;
}

/** Polls until `f` returns a value, for at most `ms` (generous: the machine is shared). */
async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 180_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const awaitingApproval = (incident: string) =>
  waitFor(`${incident} to wait for approval`, async () => {
    const s = await dr.status(incident);
    return s.phase === 'awaiting-approval' ? s : undefined;
  });

function cliIo() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: {} },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${hook.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

function alertmanagerPayload(incident: string, fingerprint: string) {
  return {
    version: '4',
    groupKey: `{}:{alertname="LifeboatStoresDown"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'lifeboat',
    groupLabels: { alertname: 'LifeboatStoresDown' },
    commonLabels: { alertname: 'LifeboatStoresDown', severity: 'critical' },
    commonAnnotations: { summary: 'Redis, FAISS and Qdrant lost their data' },
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: {
          alertname: 'LifeboatStoresDown',
          severity: 'critical',
          lifeboat_incident: incident,
          lifeboat_sources: 'meta,vectors,docs',
        },
        annotations: { summary: 'all stores empty' },
        startsAt: '2026-12-01T10:42:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint,
      },
    ],
  };
}

test('wiped stores: declared by an Alertmanager webhook (sent 3×), approved via the CLI, restored exactly, report matches history', async () => {
  await seedAll(1);
  const original = await state();
  const rp = await backup();
  await wipeAll();
  const incident = `INC-${randomUUID().slice(0, 6)}`;

  const responses = [];
  for (let i = 0; i < 3; i++) {
    const res = await post('/v1/alertmanager', alertmanagerPayload(incident, 'f00dfeed01'));
    assert.equal(res.status, 202, await res.clone().text());
    responses.push((await res.json()) as { incidents: { workflowId: string; runId: string; uiUrl: string }[] });
  }
  const ids = responses.map((r) => r.incidents[0].workflowId);
  assert.deepEqual(ids, Array(3).fill(`lifeboat-dr-${incident}`));
  assert.equal(new Set(responses.map((r) => r.incidents[0].runId)).size, 1, 'the three resends hit one run');
  assert.match(responses[0].incidents[0].uiUrl, /^http:\/\/127\.0\.0\.1:8233\/namespaces\/.+\/workflows\/lifeboat-dr-/);
  const runs = [];
  for await (const x of w.client.workflow.list({ query: `LifeboatIncident = '${incident}'` })) runs.push(x);
  // Visibility is eventually consistent: at most one run, never three.
  assert.ok(runs.length <= 1, `${runs.length} workflows for one incident`);

  const s = await awaitingApproval(incident);
  assert.equal(s.severity, 'sev1');
  assert.equal(s.declarations.length, 1, 'resends of the same alert count once');
  assert.deepEqual(s.assessment.map((a) => [a.source, a.health]).sort(), [
    ['docs', 'lost'],
    ['meta', 'lost'],
    ['vectors', 'lost'],
  ]);
  const plan = s.plan!;
  assert.equal(plan.version, 1);
  assert.ok(plan.sharedPoint);
  assert.deepEqual(
    plan.groups.map((g) => [g.sources, g.recoveryPointId]),
    [
      [['meta'], rp],
      [['docs', 'vectors'], rp],
    ],
    'Redis metadata first, then the vector stores',
  );

  // A stale version is refused by the validator (exit 5, nothing changes); the current one is accepted.
  const stale = cliIo();
  const code = await runCli(['dr', 'approve', incident, '--as', 'alice', '--plan-version', '7', '--json'], stale.io, {
    config: stores.cfg.config,
  });
  assert.equal(code, 5, stale.err());
  assert.match(stale.out(), /stale/);
  assert.equal((await dr.status(incident)).phase, 'awaiting-approval');
  const ok = cliIo();
  assert.equal(
    await runCli(['dr', 'approve', incident, '--as', 'alice', '--plan-version', '1', '--json'], ok.io, {
      config: stores.cfg.config,
    }),
    0,
    ok.err(),
  );

  const report = await dr.result(incident);
  assert.equal(report.outcome, 'recovered');
  assert.equal(report.approvedBy, 'alice');
  assertSameState(await state(), original, 'after DR');
  assert.ok(
    report.validation.every((v) => v.ok),
    JSON.stringify(report.validation),
  );

  // The report's times are the workflow's: declared = start, validated after the validation activity completed.
  const h = w.client.workflow.getHandle(`lifeboat-dr-${incident}`);
  const events = (await h.fetchHistory()).events!;
  const ts = (e: (typeof events)[number]) =>
    Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
  assert.equal(Date.parse(report.declaredAt), ts(events[0]));
  const scheduledAs = new Map(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name]),
  );
  const validateDone = events
    .filter(
      (e) =>
        e.activityTaskCompletedEventAttributes &&
        scheduledAs.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId)) === 'validateRecovery',
    )
    .map(ts);
  assert.equal(validateDone.length, 1, 'one validation');
  const close = ts(events[events.length - 1]);
  assert.ok(Date.parse(report.validatedAt!) >= validateDone[0], 'validated after the validation');
  assert.ok(Date.parse(report.validatedAt!) <= close);
  assert.equal(report.rtoMs, Date.parse(report.validatedAt!) - Date.parse(report.declaredAt));
  assert.ok(report.restoreMs! > 0 && report.restoreMs! <= report.rtoMs!);
  const children = events.filter((e) => e.childWorkflowExecutionStartedEventAttributes).length;
  assert.equal(children, 2, 'one restore child per group');
  const point = await (
    await openRepository({ url: stores.cfg.config.repository.url }, process.env[Object.keys(stores.cfg.env)[0]]!)
  ).getRecoveryPoint(rp);
  for (const d of report.dataLoss) assert.equal(d.windowMs, Date.parse(report.declaredAt) - Date.parse(point.time));

  // Stored, encrypted, as the incident record.
  const stored = await dr.report(incident);
  assert.deepEqual(stored, report);
  const desc = await h.describe();
  assert.deepEqual(desc.searchAttributes.LifeboatPhase, ['completed']);
  assert.deepEqual(desc.searchAttributes.LifeboatIncident, [incident]);

  // A resend after the incident closed starts nothing.
  const late = await post('/v1/alertmanager', alertmanagerPayload(incident, 'f00dfeed01'));
  const lateDoc = (await late.json()) as { incidents: { alreadyHandled?: boolean }[] };
  assert.equal(lateDoc.incidents[0].alreadyHandled, true);
});

test('recover to before: the point made after the damage is not chosen; abort after group 1 puts every store back', async () => {
  await seedAll(2);
  const good = await backup();
  await new Promise((r) => setTimeout(r, 1100)); // point ids have second resolution
  const damagedAt = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 1100));
  await seedAll(3); // the "corruption"
  const afterDamage = await backup();
  await seedRedis(stores.redis.url, 'later-writes');
  const beforeDr = await state();

  const incident = `INC-${randomUUID().slice(0, 6)}`;
  await dr.declare({
    incidentId: incident,
    severity: 'sev2',
    sources: ['meta', 'vectors', 'docs'],
    before: damagedAt,
    declaredBy: 'bob',
    reason: 'corrupted at ' + damagedAt,
    holdAfterGroup: 1,
  });
  const s = await awaitingApproval(incident);
  assert.deepEqual(
    s.plan!.recoveries.map((r) => r.recoveryPointId),
    [good, good, good],
    `chose ${JSON.stringify(s.plan!.recoveries.map((r) => r.recoveryPointId))}; ${afterDamage} was made after the damage`,
  );
  await dr.approve(incident, { as: 'bob', planVersion: s.plan!.version });
  await waitFor('group 1 restored', async () =>
    (await dr.status(incident)).groups[0]?.status === 'restored' ? true : undefined,
  );
  assert.notDeepEqual((await state()).redis, beforeDr.redis, 'group 1 did restore Redis');
  await dr.abort(incident, { as: 'bob', reason: 'wrong point' });
  const report = await dr.result(incident);
  assert.equal(report.outcome, 'aborted');
  assert.deepEqual(report.rolledBack, ['meta']);
  assertSameState(await state(), beforeDr, 'after abort');
});

test('a failure in the last group rolls the earlier group back: every store as before the DR', async () => {
  await seedAll(4);
  await backup();
  await seedAll(5);
  // FAISS absent and Qdrant gone before the DR: the rollback must remove what the DR created.
  rmSync(stores.faissFile, { force: true });
  await stores.qdrant.deleteCollection(stores.collection);
  const beforeDr = await state();
  const incident = `INC-${randomUUID().slice(0, 6)}`;
  await dr.declare({
    incidentId: incident,
    severity: 'sev1',
    sources: ['meta', 'vectors', 'docs'],
    declaredBy: 'carol',
    reason: 'drill of a failing recovery',
    injectVerifyFailure: 'docs',
  });
  const s = await awaitingApproval(incident);
  await dr.approve(incident, { as: 'carol', planVersion: s.plan!.version });
  await assert.rejects(dr.result(incident), (e: Error) => {
    assert.match(String((e as { cause?: Error }).cause?.message ?? e.message), /group 2 failed.*rolled back: .*meta/s);
    return true;
  });
  assertSameState(await state(), beforeDr, 'after the failed DR');
  const report = (await dr.report(incident)) as DrReport;
  assert.equal(report.outcome, 'failed');
  assert.deepEqual(
    report.groups.map((g) => g.status),
    ['rolled-back', 'rolled-back'],
  );
});

/** Runs the CLI in-process against this file's worker: exit code and the parsed --json document. */
async function cli(args: string[]): Promise<{ code: number; doc: Record<string, unknown>; err: string }> {
  const c = cliIo();
  const code = await runCli([...args, '--json'], c.io, { config: stores.cfg.config });
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(c.out()) as Record<string, unknown>;
  } catch {
    // not JSON: left empty, the assertions below say what was expected
  }
  return { code, doc, err: c.err() + c.out() };
}

test('CLI end to end: dr declare/status/plan/approve/reject/abort/list/report with --json and exit codes', async () => {
  await seedRedis(stores.redis.url, 'cli');
  await backup(['meta']);
  // Damage: 100 of the 507 keys gone (80% left, below the 90% line): assessed degraded.
  const rc = new Redis(stores.redis.url);
  await rc.del(...Array.from({ length: 100 }, (_, i) => `user:${i}`));
  rc.disconnect();
  const original = await redisSnapshot(stores.redis.url);
  const incident = `CLI-${randomUUID().slice(0, 6)}`;
  const other = `CLI-${randomUUID().slice(0, 6)}`;

  // Bad input: exit 2, nothing started.
  let r = await cli(['dr', 'declare', '--incident', incident, '--severity', 'sev9', '--source', 'meta']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /severity "sev9" is not one of sev1, sev2, sev3, sev4/);
  r = await cli(['dr', 'declare', '--incident', 'bad id!', '--severity', 'sev1']);
  assert.equal(r.code, 2, r.err);
  r = await cli(['dr', 'declare', '--incident', incident, '--severity', 'sev1', '--source', 'nope']);
  assert.equal(r.code, 3, r.err);
  r = await cli(['dr', 'status', incident]);
  assert.equal(r.code, 3, `no workflow for ${incident}: ${r.err}`);

  // Declare (exit 0), declare again: joins the same workflow.
  r = await cli([
    'dr',
    'declare',
    '--incident',
    incident,
    '--severity',
    'sev3',
    '--source',
    'meta',
    '--as',
    'cli-user',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.doc.workflowId, `lifeboat-dr-${incident}`);
  assert.equal(r.doc.joined, false);
  r = await cli(['dr', 'declare', '--incident', incident, '--severity', 'sev2', '--source', 'meta', '--as', 'second']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.doc.joined, true);

  const status = await waitFor('awaiting approval via the CLI', async () => {
    const s = await cli(['dr', 'status', incident]);
    const st = s.doc.status as { phase: string } | undefined;
    return s.code === 0 && st?.phase === 'awaiting-approval'
      ? (s.doc.status as Awaited<ReturnType<DrClient['status']>>)
      : undefined;
  });
  assert.equal(status.severity, 'sev2', 'the higher severity of the second declaration');
  const meta = status.assessment.find((a) => a.source === 'meta')!;
  assert.equal(meta.health, 'degraded', JSON.stringify(meta));
  assert.equal(meta.reachable, true);
  assert.deepEqual(meta.counts, { db0: 407 });
  assert.deepEqual(meta.newestCounts, { db0: 507 });
  assert.equal(meta.unchangedSinceBackup, false);
  assert.match(meta.evidence.join('; '), /100 fewer items than the newest backup \(below 90%\)/);
  assert.deepEqual(
    status.declarations.map((d) => d.declaredBy),
    ['cli-user', 'second'],
  );
  r = await cli(['dr', 'plan', incident]);
  assert.equal(r.code, 0, r.err);
  const plan = r.doc.plan as { version: number; groups: { sources: string[] }[] };
  assert.deepEqual(
    plan.groups.map((g) => g.sources),
    [['meta']],
  );

  // approve without --as: usage (2); reject without a reason: usage (2); neither changes anything.
  r = await cli(['dr', 'approve', incident]);
  assert.equal(r.code, 2, r.err);
  r = await cli(['dr', 'reject', incident, '--as', 'bob']);
  assert.equal(r.code, 2, r.err);
  assert.equal((await dr.status(incident)).phase, 'awaiting-approval');

  r = await cli(['dr', 'reject', incident, '--as', 'bob', '--reason', 'restoring by hand']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.doc.rejected, true);
  const rejected = await dr.result(incident);
  assert.equal(rejected.outcome, 'rejected');
  assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), original), [], 'a rejection changes nothing');
  // The incident is closed: approving it now is refused (exit 5) and says where the report is.
  r = await cli(['dr', 'approve', incident, '--as', 'alice', '--plan-version', String(plan.version)]);
  assert.equal(r.code, 5, r.err);
  assert.match(r.err, /already closed .*lifeboat dr report/);
  r = await cli(['dr', 'report', incident]);
  assert.equal(r.code, 0, r.err);
  assert.equal((r.doc.report as DrReport).outcome, 'rejected');
  assert.match((r.doc.report as DrReport).reason!, /rejected by bob: restoring by hand/);
  // Declaring a closed incident again starts nothing (exit 4).
  r = await cli(['dr', 'declare', '--incident', incident, '--severity', 'sev1', '--source', 'meta']);
  assert.equal(r.code, 4, r.err);

  // Abort while waiting: exit 0, outcome aborted, nothing changed.
  r = await cli(['dr', 'declare', '--incident', other, '--severity', 'sev4', '--source', 'meta']);
  assert.equal(r.code, 0, r.err);
  await waitFor('the second incident waiting', async () => {
    const s = await cli(['dr', 'status', other]);
    return (s.doc.status as { phase?: string } | undefined)?.phase === 'awaiting-approval' ? true : undefined;
  });
  r = await cli(['dr', 'abort', other, '--as', 'carol', '--reason', 'false alarm']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.doc.abortedInPhase, 'awaiting-approval');
  assert.equal((await dr.result(other)).outcome, 'aborted');
  r = await cli(['dr', 'abort', other, '--as', 'carol', '--reason', 'again']);
  assert.equal(r.code, 5, r.err);
  assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), original), []);

  // list: both incidents, with their final phase (visibility is eventually consistent: poll).
  const listed = await waitFor('dr list to show both', async () => {
    const l = await cli(['dr', 'list']);
    const incidents = (l.doc.incidents ?? []) as { incidentId: string; phase?: string; status: string }[];
    const mine = incidents.filter((i) => i.incidentId === incident || i.incidentId === other);
    return l.code === 0 && mine.length === 2 && mine.every((i) => i.status === 'COMPLETED') ? mine : undefined;
  });
  assert.deepEqual(Object.fromEntries(listed.map((i) => [i.incidentId, i.phase])), {
    [incident]: 'rejected',
    [other]: 'aborted',
  });
});
