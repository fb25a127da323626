import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
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

before(async () => {
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
    extra: { dr: { approval: { timeout: '2s', onTimeout: 'escalate' } } },
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
  // A good signature (PagerDuty may send several during key rotation) declares PD-4242 with its priority.
  r = await send('/v1/pagerduty', pd, {
    authorization: `Bearer ${TOKEN}`,
    'x-pagerduty-signature': `v1=${sign('old', pd)},v1=${sign(PD, pd)}`,
  });
  assert.equal(r.status, 202, await r.clone().text());
  const doc = (await r.json()) as { workflowId: string };
  assert.equal(doc.workflowId, 'lifeboat-dr-PD-4242');
  const st = await abortDr.status('PD-4242');
  assert.equal(st.severity, 'sev1');
  await abortDr.abort('PD-4242', { as: 'test', reason: 'cleanup' }).catch(() => undefined);

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
