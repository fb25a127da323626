import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { minimalRawConfig } from './fixtures';

const parse = (observability: unknown) =>
  parseConfig({ ...minimalRawConfig(), observability }, 'test.yaml').observability;

function problems(observability: unknown): { path: string; message: string }[] {
  try {
    parse(observability);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => ({ path: p.path, message: p.message }));
  }
  assert.fail('the config was accepted');
}

describe('observability config', () => {
  test('defaults: metrics on loopback with the SDK metrics, no tracing, no notifications', () => {
    const o = parseConfig(minimalRawConfig(), 'test.yaml').observability;
    assert.deepEqual(o, { metrics: { listen: '127.0.0.1:9464', temporalMetrics: true }, notifications: [] });
  });

  test('tracing: a collector base URL gets /v1/traces; metrics: false turns metrics off', () => {
    const o = parse({ metrics: false, tracing: { otlpEndpoint: 'http://otel:4318/' } });
    assert.equal(o.metrics, undefined);
    assert.deepEqual(o.tracing, { otlpEndpoint: 'http://otel:4318/v1/traces', serviceName: 'lifeboat-worker' });
    assert.equal(
      parse({ tracing: { otlpEndpoint: 'https://c/v1/traces' } }).tracing?.otlpEndpoint,
      'https://c/v1/traces',
    );
  });

  test('notifications: defaults (every event, failures only, 10 s per attempt) and an explicit timeout', () => {
    const [slack, hook] = parse({
      notifications: [
        { kind: 'slack', url: { env: 'SLACK_WEBHOOK_URL' } },
        { name: 'bot', kind: 'webhook', url: { file: '/etc/lb/hook' }, onSuccess: true, timeout: '2s' },
      ],
    }).notifications;
    assert.equal(slack.name, 'slack');
    assert.equal(slack.onSuccess, false);
    assert.equal(slack.timeoutMs, 10_000);
    assert.ok(slack.events.includes('backup.failed') && slack.events.includes('dr.phase'));
    assert.deepEqual(
      { name: hook.name, onSuccess: hook.onSuccess, timeoutMs: hook.timeoutMs },
      {
        name: 'bot',
        onSuccess: true,
        timeoutMs: 2000,
      },
    );
  });

  test('every notification problem at once: literal secrets (never echoed), missing key, bad event, timeout', () => {
    const found = problems({
      notifications: [
        { kind: 'pagerduty', routingKey: 'abcdef0123456789abcdef0123456789' },
        { kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/sekrit' },
        { kind: 'pagerduty' },
        { kind: 'webhook', url: { env: 'HOOK' }, events: ['backup.exploded'], timeout: '5m' },
        { kind: 'webhook', url: { env: 'HOOK' }, headers: { Authorization: 'Bearer x' } },
      ],
    });
    const at = (p: string) => found.find((x) => x.path === p)?.message ?? `(no problem at ${p})`;
    assert.match(at('observability.notifications[0].routingKey'), /routingKey: \{ env: PAGERDUTY_ROUTING_KEY \}/);
    assert.match(at('observability.notifications[1].url'), /url: \{ env: SLACK_WEBHOOK_URL \}/);
    assert.match(at('observability.notifications[2].routingKey'), /is required for pagerduty/);
    assert.match(at('observability.notifications[3].events[0]'), /not an event; use one of backup\.failed/);
    assert.match(at('observability.notifications[3].timeout'), /at most 30s/);
    assert.match(at('observability.notifications[4].headers.Authorization'), /secret/);
    const text = JSON.stringify(found);
    for (const secret of ['abcdef0123456789abcdef0123456789', 'sekrit', 'Bearer x'])
      assert.ok(!text.includes(secret), `a problem echoes ${secret}`);
  });
});
