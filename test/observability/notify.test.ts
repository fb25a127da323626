/**
 * The notify activities on their own (no Temporal): what is sent for quiet, cancelled and
 * oversized reports. The receivers refuse what Slack and PagerDuty would refuse.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../config';
import { createNotifyActivities } from '../../activities/notify';
import { LifeboatMetrics } from '../../observability/metrics';
import { pagerDutyBehaviour, slackBehaviour, startReceivers, type Receivers } from './notification-receivers';

let receivers: Receivers;
let metrics: LifeboatMetrics;
let acts: ReturnType<typeof createNotifyActivities>;
const key = randomBytes(16).toString('hex');

before(async () => {
  receivers = await startReceivers({ slack: slackBehaviour, pd: pagerDutyBehaviour });
  process.env.LIFEBOAT_NOTIFY_UNIT_SLACK = `${receivers.base}/slack/T/B/x`;
  process.env.LIFEBOAT_NOTIFY_UNIT_PD = `${receivers.base}/pd/v2/enqueue`;
  process.env.LIFEBOAT_NOTIFY_UNIT_KEY = key;
  const sources = Array.from({ length: 40 }, (_, i) => ({
    name: `source-with-a-long-name-${String(i).padStart(2, '0')}`,
    type: 'redis',
    url: 'redis://127.0.0.1:6379',
  }));
  const config = parseConfig(
    {
      repository: { url: '/var/lib/lifeboat/repo', password: { env: 'LIFEBOAT_REPO_PASSWORD' } },
      sources,
      observability: {
        metrics: false,
        notifications: [
          { kind: 'slack', url: { env: 'LIFEBOAT_NOTIFY_UNIT_SLACK' }, onSuccess: true },
          {
            kind: 'pagerduty',
            routingKey: { env: 'LIFEBOAT_NOTIFY_UNIT_KEY' },
            url: { env: 'LIFEBOAT_NOTIFY_UNIT_PD' },
            onSuccess: true,
          },
        ],
      },
    },
    'test.yaml',
  );
  metrics = new LifeboatMetrics();
  metrics.configure(config, () => Promise.reject(new Error('no repository in this test')));
  acts = createNotifyActivities({ config, metrics, sleep: async () => {} });
});

after(() => receivers?.close());

const count = async (operation: string, outcome: string) =>
  (await metrics.workflowOutcomes.get()).values.find(
    (v) => v.labels.operation === operation && v.labels.outcome === outcome,
  )?.value;

test('a quiet report (a restore inside a drill) is counted but not notified; a cancelled one neither', async () => {
  const r = await acts.reportOperation({
    operation: 'restore',
    outcome: 'failure',
    durationMs: 1000,
    summary: 'restore of x failed',
    quiet: true,
  });
  assert.deepEqual(r, { delivered: [], failed: [], skipped: [] });
  await acts.reportOperation({ operation: 'drill', outcome: 'cancelled', durationMs: 5, summary: 'drill cancelled' });
  assert.equal(receivers.requests('slack').length + receivers.requests('pd').length, 0);
  assert.equal(await count('restore', 'failure'), 1);
  assert.equal(await count('drill', 'cancelled'), 1);
});

test('an oversized failure (long message, 40 sources) is still accepted by Slack and PagerDuty', async () => {
  const r = await acts.reportOperation({
    operation: 'backup',
    outcome: 'failure',
    durationMs: 60_000,
    summary: `backup failed: ${'the adapter said something very long. '.repeat(200)}`,
    details: { error: 'x'.repeat(5000) },
  });
  assert.deepEqual(r.failed, [], JSON.stringify(r.failed));
  assert.deepEqual(r.delivered.sort(), ['pagerduty', 'slack']);
  const [pd] = receivers.requests('pd').map((x) => x.body as { dedup_key: string; payload: { summary: string } });
  assert.ok(pd.dedup_key.length <= 255 && pd.dedup_key.startsWith('lifeboat:backup:source-with-a-long-name-00,'));
  assert.ok(pd.payload.summary.length <= 1024 && pd.payload.summary.startsWith('backup failed: the adapter'));
  // The success resolves the very same (clipped) key.
  await acts.reportOperation({ operation: 'backup', outcome: 'success', durationMs: 1, summary: 'backup ok' });
  const resolve = receivers.requests('pd')[1].body as { event_action: string; dedup_key: string };
  assert.deepEqual(resolve, { ...resolve, event_action: 'resolve', dedup_key: pd.dedup_key });
  assert.equal(receivers.requests('slack').length, 2);
});
