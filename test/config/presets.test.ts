import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, PRESETS } from '../../config';
import { minimalRawConfig } from './fixtures';

const MIN = 60_000;
const HOUR = 60 * MIN;

function withProfile(extra: Record<string, unknown>) {
  return parseConfig({ ...minimalRawConfig(), ...extra });
}

describe('presets', () => {
  test('documented values of dev, staging and prod', () => {
    assert.deepEqual(PRESETS.dev, {
      targets: { rpo: 24 * HOUR, rto: 2 * HOUR },
      retention: { keepLast: 3, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 },
    });
    assert.deepEqual(PRESETS.staging.targets, { rpo: 6 * HOUR, rto: HOUR });
    assert.deepEqual(PRESETS.prod, {
      targets: { rpo: HOUR, rto: 15 * MIN },
      retention: { keepLast: 3, keepHourly: 24, keepDaily: 14, keepWeekly: 8, keepMonthly: 12, keepYearly: 3 },
    });
  });

  test('the profile sets the global and per-source targets and retention', () => {
    for (const profile of ['dev', 'staging', 'prod'] as const) {
      const c = withProfile({ profile });
      assert.deepEqual(c.targets, PRESETS[profile].targets, profile);
      assert.deepEqual(c.retention, PRESETS[profile].retention, profile);
      assert.deepEqual(c.sources[0].targets, PRESETS[profile].targets, profile);
      assert.deepEqual(c.sources[0].retention, PRESETS[profile].retention, profile);
    }
  });

  test('global overrides apply key by key over the profile; source overrides over the global', () => {
    const c = withProfile({
      profile: 'prod',
      targets: { rto: '30m' },
      retention: { keepDaily: 30, keepYearly: 0 },
      sources: [
        { name: 'a', type: 'redis', url: 'redis://h:6379', targets: { rpo: '5m' }, retention: { keepLast: 10 } },
        { name: 'b', type: 'faiss', path: '/i.faiss' },
      ],
    });
    assert.deepEqual(c.targets, { rpo: HOUR, rto: 30 * MIN });
    assert.deepEqual(c.retention, {
      keepLast: 3,
      keepHourly: 24,
      keepDaily: 30,
      keepWeekly: 8,
      keepMonthly: 12,
      keepYearly: 0,
    });
    const [a, b] = c.sources;
    assert.deepEqual(a.targets, { rpo: 5 * MIN, rto: 30 * MIN });
    assert.deepEqual(a.retention, { ...c.retention, keepLast: 10 });
    assert.deepEqual(b.targets, c.targets);
    assert.deepEqual(b.retention, c.retention);
  });

  test('bad profile, targets and retention are problems; retention that keeps nothing is refused', () => {
    let err: ConfigError | undefined;
    try {
      withProfile({
        profile: 'prd',
        targets: { rpo: '0s', rto: 'soon', mttr: '1h' },
        retention: { keepLast: 0, keepDaily: -1 },
        sources: [{ name: 'a', type: 'redis', url: 'redis://h:6379', retention: { keepLast: 0 } }],
      });
    } catch (e) {
      err = e as ConfigError;
    }
    assert.ok(err instanceof ConfigError);
    const msg = (p: string) => err!.problems.find((x) => x.path === p)?.message ?? `(no problem at ${p})`;
    assert.equal(msg('profile'), '"prd" is not a profile; did you mean "prod"? use one of dev, staging, prod');
    assert.match(msg('targets.rpo'), /"0s" is too short; use at least 1ms/);
    assert.match(msg('targets.rto'), /"soon" is not a duration/);
    assert.match(msg('targets.mttr'), /unknown option; valid options here are rpo, rto/);
    assert.match(msg('retention.keepDaily'), /whole number from 0/);
    // dev keeps only keepLast, so keepLast: 0 on source a leaves nothing.
    assert.match(
      msg('sources[0].retention'),
      /keeps nothing: every rule is 0, so prune would delete every recovery point/,
    );
  });
});
