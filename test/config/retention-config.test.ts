import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { minimalRawConfig } from './fixtures';

test('retention accepts keepWithin, keepTags, keepSafetyWithin, timezone and -1', () => {
  const raw = minimalRawConfig();
  raw.retention = {
    keepDaily: -1,
    keepWithin: '30d',
    keepTags: ['audit'],
    keepSafetyWithin: '2d',
    timezone: 'Europe/Berlin',
  };
  const cfg = parseConfig(raw, 'test.yaml');
  assert.equal(cfg.retention.keepDaily, -1);
  assert.equal(cfg.retention.keepWithin, 30 * 86_400_000);
  assert.deepEqual(cfg.retention.keepTags, ['audit']);
  assert.equal(cfg.retention.keepSafetyWithin, 2 * 86_400_000);
  assert.equal(cfg.retention.timezone, 'Europe/Berlin');
});

test('every retention problem is reported at once, each naming the fix', () => {
  const raw = minimalRawConfig();
  raw.retention = { keepDaily: -2, keepWithin: 'soon', keepTags: 'audit', timezone: 'Mars/Olympus' };
  let err: unknown;
  try {
    parseConfig(raw, 'test.yaml');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, String(err));
  const paths = err.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, ['retention.keepDaily', 'retention.keepTags', 'retention.keepWithin', 'retention.timezone']);
  assert.match(err.problems.find((p) => p.path === 'retention.timezone')!.message, /IANA time zone; use e\.g\. UTC/);
});
