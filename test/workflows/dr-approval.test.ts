import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { backupWorkflow } from '../../workflows';
import { createDrClient, DrRequestRejectedError, type DrClient } from '../../client/dr';
import { OperationNotFoundError } from '../../client/errors';
import { startWebhookServer, type WebhookServer } from '../../client/webhook';
import { makeTestConfig } from '../harness/config';
import { testEnv } from '../harness/env';
import { makeStores, redisSnapshot, seedRedis, snapshotDiff, startWorkerFor, type Stores } from './helpers';

/**
 * Approval on the real servers: a timeout that aborts, a timeout that escalates and keeps waiting,
 * a stale plan version refused after a second declaration widened the incident, a rejection; and
 * the webhook's credential checks (wrong token, bad HMAC, bad PagerDuty signature, malformed body:
 * each a 4xx and no workflow).
 */

const env = (v: string) => {
  const name = `LIFEBOAT_TEST_${randomUUID().slice(0, 6).toUpperCase()}`;
  process.env[name] = v;
  return name;
};
const TOKEN = `tok-${randomUUID()}`;
const HMAC = `hmac-${randomUUID()}`;
const PD = `pd-${randomUUID()}`;
const webhook = {
  token: { env: env(TOKEN) },
  hmacSecret: { env: env(HMAC) },
  pagerdutySecret: { env: env(PD) },
};

let stores: Stores;
let abortW: Awaited<ReturnType<typeof startWorkerFor>>;
let escW: Awaited<ReturnType<typeof startWorkerFor>>;
let abortDr: DrClient;
let escDr: DrClient;
let hook: WebhookServer;
let receiver: http.Server;
/** Notifications the escalating worker delivered (observability.notifications → a local HTTP receiver). */
const received: { event: string; severity: string; summary: string; details: Record<string, unknown> }[] = [];
const RECEIVER_ENV = env('http://127.0.0.1:1/unset');

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof received)[number]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  process.env[RECEIVER_ENV] = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  stores = await makeStores('dra', [], { dr: { approval: { timeout: '2s', onTimeout: 'abort' }, webhook } });
  const pwEnv = Object.keys(stores.cfg.env)[0];
  const esc = makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: stores.redis.url, db: 0 },
      {
        name: 'docs',
        type: 'qdrant',
        url: testEnv().qdrant.url,
        collection: stores.collection,
      },
    ],
    repositoryUrl: stores.cfg.config.repository.url,
    passwordEnv: pwEnv,
    password: stores.cfg.env[pwEnv],
    extra: {
      dr: { approval: { timeout: '2s', onTimeout: 'escalate' } },
      observability: { metrics: false, notifications: [{ kind: 'webhook', url: { env: RECEIVER_ENV } }] },
    },
  });
  abortW = await startWorkerFor(stores.cfg.config);
  escW = await startWorkerFor(esc.config);
  abortDr = createDrClient(stores.cfg.config, { temporalClient: abortW.client });
  escDr = createDrClient(esc.config, { temporalClient: escW.client });
  hook = await startWebhookServer(stores.cfg.config, { listen: '127.0.0.1:0', dr: abortDr, log: () => {} });
  await seedRedis(stores.redis.url, 'approval');
  await (
    await abortW.client.workflow.start(backupWorkflow, {
      taskQueue: stores.cfg.taskQueue,
      workflowId: `test-dra-backup-${randomUUID().slice(0, 8)}`,
      args: [{ sources: ['meta'] }],
    })
  ).result();
});

after(async () => {
  await hook?.close();
  await abortW?.stop();
  await escW?.stop();
  await stores?.stop();
  await new Promise((r) => receiver?.close(r));
});

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 180_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('approval timeout with onTimeout: abort ends the incident and changes nothing', async () => {
  const before = await redisSnapshot(stores.redis.url);
  const incident = `TO-${randomUUID().slice(0, 6)}`;
  await abortDr.declare({
    incidentId: incident,
    severity: 'sev3',
    sources: ['meta'],
    declaredBy: 't',
    reason: 'timeout test',
  });
  const report = await abortDr.result(incident);
  assert.equal(report.outcome, 'aborted');
  assert.match(report.reason!, /no approval within 2 s \(dr\.approval\.onTimeout: abort\); nothing was changed/);
  assert.deepEqual(report.groups, []);
  assert.deepEqual(snapshotDiff(await redisSnapshot(stores.redis.url), before), []);
});

test('approval timeout with onTimeout: escalate keeps waiting; a widened incident makes the old plan stale', async () => {
  const incident = `ESC-${randomUUID().slice(0, 6)}`;
  await escDr.declare({
    incidentId: incident,
    severity: 'sev2',
    sources: ['meta'],
    declaredBy: 't',
    reason: 'escalation',
  });
  const s = await waitFor('an escalation', async () => {
    const st = await escDr.status(incident);
    return st.escalations.length >= 1 ? st : undefined;
  });
  assert.equal(s.phase, 'awaiting-approval', 'still waiting after escalating');
  assert.equal(s.plan!.version, 1);
  // The escalation went out through the configured notifications, after the "waits for approval" one.
  const escalation = await waitFor('the escalation notification', async () =>
    received.find((n) => n.details.incidentId === incident && /approval overdue/.test(n.summary)),
  );
  assert.equal(escalation.event, 'dr.phase');
  assert.equal(escalation.severity, 'critical');
  assert.match(
    escalation.summary,
    new RegExp(`DR ${incident} \\(sev2\\): approval overdue .*lifeboat dr approve ${incident}`),
  );
  assert.equal(escalation.details.planVersion, 1);
  const waiting = received.find((n) => n.details.incidentId === incident && /waits for approval/.test(n.summary));
  assert.ok(waiting, `no "waits for approval" notification in ${JSON.stringify(received)}`);
  assert.equal(waiting.severity, 'warning');
  // A second declaration of the same incident joins it and widens it: plan v2.
  const joined = await escDr.declare({
    incidentId: incident,
    severity: 'sev1',
    sources: ['docs'],
    declaredBy: 'u',
    reason: 'qdrant too',
  });
  assert.equal(joined.joined, true);
  const v2 = await waitFor('plan v2', async () => {
    const st = await escDr.status(incident);
    return st.plan?.version === 2 && st.phase === 'awaiting-approval' ? st : undefined;
  });
  assert.equal(v2.severity, 'sev1');
  await assert.rejects(escDr.approve(incident, { as: 'alice', planVersion: 1 }), (e: Error) => {
    assert.ok(e instanceof DrRequestRejectedError, String(e));
    assert.match(e.message, /plan v1 is stale: the current plan is v2/);
    return true;
  });
  await escDr.reject(incident, { as: 'alice', reason: 'recovering by hand' });
  const report = await escDr.result(incident);
  assert.equal(report.outcome, 'rejected');
  await waitFor('the rejection notification', async () =>
    received.find(
      (n) => n.details.incidentId === incident && /^DR \S+ \(sev1\): rejected: rejected by alice/.test(n.summary),
    ),
  );
  assert.equal(report.declarations.length, 2);
  assert.ok(report.escalations.length >= 1);
});

const sign = (key: string, body: string) => createHmac('sha256', key).update(body).digest('hex');
const send = (path: string, body: string, headers: Record<string, string>) =>
  fetch(`${hook.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const absent = async (incident: string) =>
  assert.rejects(abortDr.status(incident), (e: Error) => e instanceof OperationNotFoundError);

test('webhook: wrong token, bad HMAC, bad PagerDuty signature and a malformed body get 4xx and start nothing', async () => {
  const incident = `WH-${randomUUID().slice(0, 6)}`;
  const body = JSON.stringify({ incidentId: incident, severity: 'sev2', sources: ['meta'], reason: 'x' });
  const good = { authorization: `Bearer ${TOKEN}`, 'x-lifeboat-signature': `sha256=${sign(HMAC, body)}` };

  let r = await send('/v1/incidents', body, { ...good, authorization: 'Bearer wrong' });
  assert.equal(r.status, 401);
  assert.match(((await r.json()) as { error: string }).error, /bearer token/);
  r = await send('/v1/incidents', body, { ...good, 'x-lifeboat-signature': `sha256=${sign('other', body)}` });
  assert.equal(r.status, 401);
  assert.match(((await r.json()) as { error: string }).error, /X-Lifeboat-Signature/);
  const broken = '{"incidentId": ';
  r = await send('/v1/incidents', broken, { ...good, 'x-lifeboat-signature': `sha256=${sign(HMAC, broken)}` });
  assert.equal(r.status, 400);
  assert.match(((await r.json()) as { error: string }).error, /not JSON/);
  const badSource = JSON.stringify({ incidentId: incident, severity: 'sev2', sources: ['nope'] });
  r = await send('/v1/incidents', badSource, { ...good, 'x-lifeboat-signature': `sha256=${sign(HMAC, badSource)}` });
  assert.equal(r.status, 422);
  await absent(incident);

  const pd = JSON.stringify({
    event: {
      id: `01${randomUUID().slice(0, 8)}`,
      event_type: 'incident.triggered',
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: { type: 'user_reference', summary: 'On-call' },
      data: {
        id: 'Q1X2',
        number: 4242,
        title: 'Qdrant lost',
        urgency: 'high',
        priority: { summary: 'P1' },
        type: 'incident',
      },
    },
  });
  r = await send('/v1/pagerduty', pd, {
    authorization: `Bearer ${TOKEN}`,
    'x-pagerduty-signature': `v1=${sign('wrong', pd)}`,
  });
  assert.equal(r.status, 401);
  await absent('PD-4242');
  // No signature at all, and a signed body that is not JSON: 401 and 400, nothing started.
  r = await send('/v1/pagerduty', pd, {});
  assert.equal(r.status, 401);
  assert.match(((await r.json()) as { error: string }).error, /X-PagerDuty-Signature .* is missing/);
  const pdBroken = '{"event": {"event_type": "incident.triggered"';
  r = await send('/v1/pagerduty', pdBroken, { 'x-pagerduty-signature': `v1=${sign(PD, pdBroken)}` });
  assert.equal(r.status, 400);
  assert.match(((await r.json()) as { error: string }).error, /not JSON/);
  await absent('PD-4242');
  // A good signature (PagerDuty may send several during key rotation; it sends no bearer token) declares
  // PD-4242 with its priority. PagerDuty retries a delivery: three sends are one workflow, one declaration.
  const docs: { workflowId: string; runId?: string; alreadyHandled?: boolean }[] = [];
  for (let i = 0; i < 3; i++) {
    r = await send('/v1/pagerduty', pd, { 'x-pagerduty-signature': `v1=${sign('old', pd)}, v1=${sign(PD, pd)}` });
    assert.equal(r.status, 202, await r.clone().text());
    docs.push((await r.json()) as (typeof docs)[number]);
  }
  assert.deepEqual(
    docs.map((d) => d.workflowId),
    Array(3).fill('lifeboat-dr-PD-4242'),
  );
  assert.equal(new Set(docs.filter((d) => !d.alreadyHandled).map((d) => d.runId)).size, 1, JSON.stringify(docs));
  const st = await abortDr.status('PD-4242');
  assert.equal(st.severity, 'sev1');
  assert.equal(st.declarations.length, 1, 'the resends count once');
  assert.equal(st.declarations[0].via, 'pagerduty');
  await abortDr.abort('PD-4242', { as: 'test', reason: 'cleanup' }).catch(() => undefined);

  // Alertmanager: a wrong bearer token, a payload without alerts[] and another payload version are
  // refused; Alertmanager cannot sign bodies, so its bearer token alone is enough (no X-Lifeboat-Signature).
  const amIncident = `AM-${randomUUID().slice(0, 6)}`;
  const am = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      version: '4',
      groupKey: '{}:{alertname="RedisEmpty"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'lifeboat',
      groupLabels: { alertname: 'RedisEmpty' },
      commonLabels: { alertname: 'RedisEmpty', severity: 'warning' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      alerts: [
        {
          status: 'firing',
          labels: {
            alertname: 'RedisEmpty',
            severity: 'warning',
            lifeboat_incident: amIncident,
            lifeboat_sources: 'meta',
          },
          annotations: { summary: 'meta has no keys' },
          startsAt: '2026-12-01T10:42:00Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus:9090/graph',
          fingerprint: 'c6eadffa33fcdf37',
        },
      ],
      ...extra,
    });
  r = await send('/v1/alertmanager', am(), { authorization: 'Bearer nope' });
  assert.equal(r.status, 401);
  r = await send('/v1/alertmanager', am({ alerts: undefined }), { authorization: `Bearer ${TOKEN}` });
  assert.equal(r.status, 400);
  assert.match(((await r.json()) as { error: string }).error, /alerts\[\] are required/);
  r = await send('/v1/alertmanager', am({ version: '5' }), { authorization: `Bearer ${TOKEN}` });
  assert.equal(r.status, 400);
  assert.match(((await r.json()) as { error: string }).error, /version "5" is not supported/);
  r = await send('/v1/alertmanager', '{"version": "4", "alerts": [', { authorization: `Bearer ${TOKEN}` });
  assert.equal(r.status, 400);
  await absent(amIncident);
  r = await send('/v1/alertmanager', am(), { authorization: `Bearer ${TOKEN}` });
  assert.equal(r.status, 202, await r.clone().text());
  const amSt = await abortDr.status(amIncident);
  assert.equal(amSt.severity, 'sev3');
  assert.deepEqual(amSt.declarations[0].sources, ['meta']);
  await abortDr.abort(amIncident, { as: 'test', reason: 'cleanup' }).catch(() => undefined);

  // A resolved alert is recorded (in the response), never starts or aborts anything.
  const resolved = JSON.stringify({
    version: '4',
    status: 'resolved',
    receiver: 'lifeboat',
    groupKey: 'g',
    alerts: [{ status: 'resolved', labels: { alertname: 'X', lifeboat_incident: incident }, fingerprint: 'ab' }],
  });
  r = await send('/v1/alertmanager', resolved, { ...good, 'x-lifeboat-signature': `sha256=${sign(HMAC, resolved)}` });
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { resolved: string[] }).resolved.length, 1);
  await absent(incident);
});
