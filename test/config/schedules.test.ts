import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, type ConfigProblem } from '../../config';
import { fullRawConfig } from './fixtures';

function schedulesProblems(schedules: unknown): ConfigProblem[] {
  try {
    parseConfig({ ...fullRawConfig(), schedules });
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return [...e.problems];
  }
  assert.fail('accepted');
}

const at = (ps: ConfigProblem[], p: string) =>
  ps.find((x) => x.path === p)?.message ?? `(no problem at ${p}; got ${JSON.stringify(ps)})`;

describe('schedules', () => {
  test('cron XOR every', () => {
    const ps = schedulesProblems({ backup: { cron: '0 * * * *', every: '1h' }, prune: {} });
    assert.match(at(ps, 'schedules.backup'), /gives both cron and every; use one/);
    assert.match(at(ps, 'schedules.prune'), /needs cron or every, e\.g\. \{ every: 1h \}/);
  });

  test('cron must have 5 valid fields; every must be a duration of at least 1s', () => {
    const ps = schedulesProblems({
      backup: { cron: '0 * * *' },
      verify: { cron: '61 * * * *' },
      drill: { every: '60' },
      prune: { every: '10ms' },
    });
    assert.match(at(ps, 'schedules.backup.cron'), /has 4 fields/);
    assert.match(at(ps, 'schedules.verify.cron'), /minute "61" is out of range/);
    assert.match(at(ps, 'schedules.drill.every'), /"60" has no unit/);
    assert.match(at(ps, 'schedules.prune.every'), /too short; use at least 1s/);
  });

  test('source names in schedules must exist (with a suggestion), and only backup/drill take sources', () => {
    const ps = schedulesProblems({
      backup: { every: '1h', sources: ['sesions', 'nothing-like-it'] },
      drill: { cron: '0 4 * * 0', sources: [] },
      prune: { cron: '0 5 * * *', sources: ['docs'] },
    });
    assert.equal(
      at(ps, 'schedules.backup.sources[0]'),
      '"sesions" is not a configured source; did you mean "sessions"? configured sources: sessions, features, embeddings, docs',
    );
    assert.match(
      at(ps, 'schedules.backup.sources[1]'),
      /"nothing-like-it" is not a configured source; configured sources:/,
    );
    assert.match(at(ps, 'schedules.drill.sources'), /is empty/);
    assert.match(
      at(ps, 'schedules.prune.sources'),
      /unknown option; valid options here are cron, every, paused, timezone/,
    );
  });

  test('verify options, time zones, catch-up window minimum', () => {
    const ps = schedulesProblems({
      verify: { cron: '0 3 * * *', subsetPercent: 10 },
      prune: { cron: '0 5 * * *', timezone: 'Mars/Olympus' },
      backup: { every: '1h', timezone: 'UTC' },
      catchupWindow: '5s',
    });
    assert.match(at(ps, 'schedules.verify.subsetPercent'), /applies only when reading data; add readData: true/);
    assert.match(at(ps, 'schedules.prune.timezone'), /"Mars\/Olympus" is not a time zone/);
    assert.match(at(ps, 'schedules.backup.timezone'), /applies to cron only/);
    assert.match(at(ps, 'schedules.catchupWindow'), /"5s" is too short; use at least 10s/);
  });

  test('a bad source does not make schedules that name it fail too', () => {
    const raw = fullRawConfig();
    raw.sources[0].url = 'ftp://x';
    try {
      parseConfig({ ...raw, schedules: { backup: { every: '15m', sources: ['sessions'] } } });
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(
        e.problems.map((p) => p.path),
        ['sources[0].url'],
      );
    }
  });

  test('a backup interval longer than a covered source RPO is a warning, not an error', () => {
    const raw = fullRawConfig();
    const c = parseConfig({ ...raw, schedules: { backup: { every: '2h', sources: ['features', 'docs'] } } });
    assert.deepEqual(c.warnings, [
      'schedules.backup.every is 2h, longer than the RPO target of source features (1h): backups this rare cannot meet it',
      'schedules.backup.every is 2h, longer than the RPO target of source docs (1h): backups this rare cannot meet it',
    ]);
    assert.deepEqual(parseConfig({ ...raw, schedules: { backup: { every: '15m' } } }).warnings, []);
  });
});
