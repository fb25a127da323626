import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, type RedisSourceConfig } from '../../config';
import { fullRawConfig } from './fixtures';

function parseWith(change: (raw: Record<string, any>) => void) {
  const raw = fullRawConfig();
  change(raw);
  return parseConfig(raw, 'test.yaml');
}

test('redis capture: auto | sync | scan read as given; absent means the default (auto, applied by the adapter)', () => {
  for (const capture of ['auto', 'sync', 'scan'] as const) {
    const c = parseWith((r) => (r.sources[0].capture = capture));
    assert.equal((c.sources[0] as RedisSourceConfig).capture, capture);
  }
  assert.equal((parseWith(() => undefined).sources[0] as RedisSourceConfig).capture, undefined);
});

test('redis capture: a wrong value and sync on a cluster are reported together, with the fix', () => {
  try {
    parseWith((r) => {
      r.sources[0].capture = 'snyc';
      r.sources[1].capture = 'sync';
    });
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const at = (p: string) => e.problems.find((x) => x.path === p)?.message ?? '';
    assert.match(at('sources[0].capture'), /"snyc" is not a capture method; use one of auto, sync, scan/);
    assert.match(
      at('sources[1].capture'),
      /Redis Cluster is read with SCAN; remove capture \(auto\) or write capture: scan/,
    );
  }
});
