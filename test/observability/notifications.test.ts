/**
 * Notifications from real backup workflows to local receivers that answer like Slack, PagerDuty
 * and a generic webhook: payload shapes, secrets by reference, retries on 5xx and timeouts, no
 * retry on a 4xx, success notifications only where asked, and a destination that stays down
 * never changes the operation's outcome.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { backupWorkflow } from '../../workflows';
import { lifeboatMetrics } from '../../observability/metrics';
import { initConfiguredRepository } from '../../runtime/configured-repository';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { startRedis, type RedisServer } from '../servers/redis';
import { historyText, seedRedis, startWorkerFor, writeFaissIndex } from '../workflows/helpers';
import { pagerDutyBehaviour, slackBehaviour, startReceivers, type Receivers } from './notification-receivers';

let receivers: Receivers;
let redis: RedisServer;
let cfg: TestConfig;
let client: Client;
let stop: () => Promise<void>;
let faissFile: string;
const routingKey = randomBytes(16).toString('hex'); // 32 characters, like a real integration key
const hookToken = `hook-${randomUUID()}`;
const slackToken = `slack-${randomUUID()}`;

type Body = Record<string, unknown> & { details?: Record<string, unknown>; payload?: Record<string, unknown> };
const bodies = (route: string) => receivers.requests(route).map((r) => r.body as Body);

/** Every message along a failure's cause chain (workflow → activity → adapter). */
function causeChain(e: unknown): string {
  const out: string[] = [];
  for (let c = e as { message?: string; cause?: unknown } | undefined; c; c = c.cause as typeof c)
    out.push(String(c.message));
  return out.join(' <- ');
}

/** lifeboat_notifications_total by destination and outcome, from this process's registry. */
async function deliveries(): Promise<Record<string, number>> {
  const m = await lifeboatMetrics().notifications.get();
  return Object.fromEntries(
    m.values.map((v) => [`${String(v.labels.destination)}/${String(v.labels.outcome)}`, v.value]),
  );
}

before(async () => {
  receivers = await startReceivers({
    // The generic webhook is down for its first request, then answers.
    hook: (n) => (n === 0 ? { status: 503, body: 'maintenance' } : { status: 200, body: '{}' }),
    slack: slackBehaviour,
    pd: pagerDutyBehaviour,
    broken: () => ({ status: 500, body: 'internal error' }),
    slow: () => 'hang',
  });
  const dir = scratchDir('obs-notify');
  redis = await startRedis(path.join(dir, 'redis'));
  await seedRedis(redis.url, 'notify');
  // Absent at first: the first backup fails on it.
  faissFile = path.join(dir, 'faiss', 'vectors.index');
  mkdirSync(path.dirname(faissFile), { recursive: true });

  const secretsDir = path.join(dir, 'secrets');
  mkdirSync(secretsDir, { mode: 0o700 });
  const slackUrlFile = path.join(secretsDir, 'slack-url');
  writeFileSync(slackUrlFile, `${receivers.base}/slack/T0001/B0001/${slackToken}\n`, { mode: 0o600 });
  const keyFile = path.join(secretsDir, 'pagerduty-key');
  writeFileSync(keyFile, `${routingKey}\n`, { mode: 0o600 });
  const tag = randomUUID().slice(0, 8).toUpperCase();
  const env = {
    hook: `LIFEBOAT_NOTIFY_HOOK_${tag}`,
    pd: `LIFEBOAT_NOTIFY_PD_${tag}`,
    broken: `LIFEBOAT_NOTIFY_BROKEN_${tag}`,
    slow: `LIFEBOAT_NOTIFY_SLOW_${tag}`,
    badKey: `LIFEBOAT_NOTIFY_BADKEY_${tag}`,
  };
  process.env[env.hook] = `${receivers.base}/hook/${hookToken}`;
  process.env[env.pd] = `${receivers.base}/pd/v2/enqueue`;
  process.env[env.broken] = `${receivers.base}/broken`;
  process.env[env.slow] = `${receivers.base}/slow`;
  process.env[env.badKey] = 'not-an-integration-key';

  cfg = makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: redis.url, db: 0 },
      { name: 'vectors', type: 'faiss', path: faissFile },
    ],
    extra: {
      observability: {
        metrics: false,
        notifications: [
          { name: 'ops-hook', kind: 'webhook', url: { env: env.hook }, onSuccess: true, headers: { 'X-Team': 'data' } },
          { name: 'chat', kind: 'slack', url: { file: slackUrlFile } },
          {
            name: 'pager',
            kind: 'pagerduty',
            routingKey: { file: keyFile },
            url: { env: env.pd },
            onSuccess: true,
            events: ['backup.failed', 'backup.succeeded'],
          },
          { name: 'broken', kind: 'webhook', url: { env: env.broken }, onSuccess: true, timeout: '1s' },
          { name: 'slow', kind: 'webhook', url: { env: env.slow }, onSuccess: true, timeout: '1s' },
          {
            name: 'pager-bad-key',
            kind: 'pagerduty',
            routingKey: { env: env.badKey },
            url: { env: env.pd },
            events: ['backup.failed'],
          },
        ],
      },
    },
  });
  await (await initConfiguredRepository(cfg.config)).close();
  ({ client, stop } = await startWorkerFor(cfg.config));
});

after(async () => {
  await stop?.();
  await receivers?.close();
  await redis?.stop();
});

const runBackup = (id: string) =>
  client.workflow.start(backupWorkflow, { taskQueue: cfg.taskQueue, workflowId: id, args: [{}] });

let failedId = '';
let failedDedupKey = '';
/** Workflow ids of the backups run here. */
const ran: string[] = [];

test('a failed backup notifies every subscribed destination, each in its own format, with retries', async () => {
  failedId = `test-notify-fail-${randomUUID().slice(0, 8)}`;
  ran.push(failedId);
  const handle = await runBackup(failedId);
  const err = await handle.result().then(
    () => assert.fail('the backup should fail: its FAISS file is missing'),
    (e: unknown) => e,
  );
  // The operation fails for its own reason, not for the destinations that are down.
  assert.match(causeChain(err), /FAISS index file not found/);
  assert.doesNotMatch(causeChain(err), /notification|HTTP 50|timed out|reportOperation/i);

  // Generic webhook: 503 first, the same event again after a pause, then delivered.
  const hook = receivers.requests('hook');
  assert.equal(hook.length, 2, 'retried once after the 503');
  assert.deepEqual(hook[1].body, hook[0].body, 'the retry sends the same event');
  assert.equal(hook[0].path, `/hook/${hookToken}`, 'posted to the URL the secret reference holds');
  assert.equal(hook[0].headers['content-type'], 'application/json');
  assert.equal(hook[0].headers['x-team'], 'data');
  const h = hook[0].body as Body;
  assert.equal(h.source, 'lifeboat');
  assert.equal(h.event, 'backup.failed');
  assert.equal(h.severity, 'critical');
  assert.equal(h.host, os.hostname());
  assert.ok(!Number.isNaN(Date.parse(h.time as string)));
  assert.match(String(h.summary), /^backup of every source failed: .*FAISS index file not found/);
  assert.deepEqual(h.details!.sources, ['meta', 'vectors']);
  assert.equal(h.details!.workflowId, failedId);
  assert.match(String(h.details!.error), /FAISS index file not found/);

  // Slack: one message Slack accepts (the receiver answers 400 to anything else).
  const slack = receivers.requests('slack');
  assert.equal(slack.length, 1);
  assert.equal(slack[0].path, `/slack/T0001/B0001/${slackToken}`);
  const s = slack[0].body as { text: string; blocks: { type: string; text?: { text: string } }[] };
  assert.match(s.text, /^:red_circle: \[lifeboat\] backup of every source failed/);
  assert.deepEqual(
    s.blocks.map((b) => b.type),
    ['section', 'section', 'context'],
  );
  assert.match(s.blocks[1].text!.text, /\*workflowId\*: test-notify-fail-/);

  // PagerDuty: a trigger the Events API accepts, with the key read from its file.
  const pd = bodies('pd');
  const trigger = pd.filter((b) => b.routing_key === routingKey);
  assert.equal(trigger.length, 1);
  assert.equal(trigger[0].event_action, 'trigger');
  assert.equal(trigger[0].dedup_key, 'lifeboat:backup:meta,vectors');
  failedDedupKey = String(trigger[0].dedup_key);
  assert.equal(trigger[0].payload!.severity, 'critical');
  assert.equal(trigger[0].payload!.source, os.hostname());
  assert.equal(trigger[0].payload!.class, 'backup.failed');
  assert.match(String(trigger[0].payload!.summary), /FAISS index file not found/);
  // A key PagerDuty refuses (400) is not retried: retrying cannot fix it.
  assert.equal(pd.filter((b) => b.routing_key === 'not-an-integration-key').length, 1);

  // Always 500, never answering: three attempts each, then given up (counted, logged).
  assert.equal(receivers.requests('broken').length, 3);
  assert.equal(receivers.requests('slow').length, 3);
  assert.deepEqual(await deliveries(), {
    'ops-hook/delivered': 1,
    'chat/delivered': 1,
    'pager/delivered': 1,
    'broken/failed': 1,
    'slow/failed': 1,
    'pager-bad-key/failed': 1,
  });
});

test('with destinations down, a backup still succeeds; successes go only where asked', async () => {
  writeFaissIndex(faissFile, 9);
  const before = {
    hook: receivers.requests('hook').length,
    slack: receivers.requests('slack').length,
    pd: receivers.requests('pd').length,
    broken: receivers.requests('broken').length,
    slow: receivers.requests('slow').length,
  };
  const id = `test-notify-ok-${randomUUID().slice(0, 8)}`;
  ran.push(id);
  const result = await (await runBackup(id)).result();
  assert.ok(result.recoveryPointId, 'the backup committed although two destinations are down');
  assert.deepEqual(result.sources.map((s) => s.source).sort(), ['meta', 'vectors']);

  const hook = bodies('hook').slice(before.hook);
  assert.equal(hook.length, 1, 'delivered at the first attempt this time');
  assert.equal(hook[0].event, 'backup.succeeded');
  assert.equal(hook[0].severity, 'info');
  assert.equal(hook[0].details!.recoveryPointId, result.recoveryPointId);
  assert.equal(receivers.requests('slack').length, before.slack, 'Slack has no onSuccess: nothing sent');
  const pd = bodies('pd').slice(before.pd);
  assert.equal(pd.length, 1, 'only "pager" subscribes to backup.succeeded');
  assert.equal(pd[0].routing_key, routingKey);
  assert.equal(pd[0].event_action, 'resolve');
  assert.equal(pd[0].dedup_key, failedDedupKey, 'the success resolves the alert the failure raised');
  assert.equal(receivers.requests('broken').length - before.broken, 3);
  assert.equal(receivers.requests('slow').length - before.slow, 3);
  const d = await deliveries();
  assert.equal(d['broken/failed'], 2);
  assert.equal(d['slow/failed'], 2);
  assert.equal(d['ops-hook/delivered'], 2);
});

test('notification secrets stay in the worker: no URL token or routing key in any workflow history', async () => {
  assert.equal(ran.length, 2, 'runs after both backups');
  for (const id of ran) {
    const text = await historyText(client.workflow.getHandle(id));
    assert.match(text, /reportOperation/, `${id} reported its outcome`);
    for (const secret of [routingKey, hookToken, slackToken, receivers.base])
      assert.ok(!text.includes(secret), `${id} history holds a notification secret or URL`);
  }
});

test('a literal secret in a notification is refused by the config check, naming the fix', () => {
  assert.throws(
    () =>
      makeTestConfig({
        sources: [{ name: 'meta', type: 'redis', url: redis.url }],
        extra: { observability: { notifications: [{ kind: 'pagerduty', routingKey: routingKey }] } },
      }),
    (e: Error) =>
      /observability\.notifications\[0\]\.routingKey/.test(e.message) &&
      /routingKey: \{ env: PAGERDUTY_ROUTING_KEY \}/.test(e.message) &&
      !e.message.includes(routingKey),
  );
});
