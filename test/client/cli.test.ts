import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { openRepository } from '../../repository';
import { EXIT_CODES } from '../../client/exit-codes';
import { scratchDir } from '../harness/env';
import { runBin, singleJson, writeTestConfig } from './helpers';

const PASSWORD = 'correct horse battery staple';
const env = (configFile: string, password = PASSWORD) => ({
  LIFEBOAT_CONFIG: configFile,
  LIFEBOAT_TEST_REPO_PASSWORD: password,
});

describe('command line and exit codes (bin/lifeboat, no Temporal needed)', () => {
  test('an unknown command exits 2, says so on stderr and prints nothing on stdout', async () => {
    const r = await runBin(['frobnicate']);
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.equal(r.stdout, '');
  });

  test('restore with a password in --to-redis exits 2 before touching the repository, never echoing the password', async () => {
    const dir = scratchDir('cli-badurl');
    const repo = path.join(dir, 'repo-never-created');
    const config = writeTestConfig(dir, { repoUrl: repo });
    const human = await runBin(['restore', 'latest', '--to-redis', 'redis://:hunter2@10.0.0.7:6379'], env(config));
    assert.equal(human.code, EXIT_CODES.usage);
    assert.match(human.stderr, /--to-redis must not contain a password/);
    assert.match(human.stderr, /password: reference in the config/);
    assert.ok(!human.stderr.includes('hunter2') && !human.stdout.includes('hunter2'));
    assert.equal(human.stdout, '');

    const json = await runBin(
      ['restore', 'latest', '--to-redis', 'redis://admin:hunter2@10.0.0.7:6379', '--json'],
      env(config),
    );
    assert.equal(json.code, EXIT_CODES.usage);
    const doc = singleJson(json.stdout);
    assert.equal(doc.ok, false);
    assert.equal(doc.exitCode, EXIT_CODES.usage);
    assert.equal(doc.error.code, 'USAGE');
    assert.equal(doc.error.option, '--to-redis');
    assert.ok(!json.stdout.includes('hunter2'));
    assert.equal(existsSync(repo), false, 'the repository location must not be created or opened');
  });

  test('a malformed option value is a usage error (2) with one JSON document under --json', async () => {
    const r = await runBin(['restore', 'latest', '--to-redis-db', 'three', '--json']);
    assert.equal(r.code, EXIT_CODES.usage);
    const doc = singleJson(r.stdout);
    assert.equal(doc.error.code, 'USAGE');
    assert.match(r.stderr, /--to-redis-db/);
  });

  test('an invalid config exits 2 and lists every problem with its path', async () => {
    const dir = scratchDir('cli-badconfig');
    const file = path.join(dir, 'bad.yaml');
    require('node:fs').writeFileSync(file, 'temporal:\n  namespce: x\nsources:\n  - name: a\n    type: mysql\n');
    const r = await runBin(['list', '--json', '--config', file]);
    assert.equal(r.code, EXIT_CODES.usage);
    const doc = singleJson(r.stdout);
    assert.equal(doc.error.code, 'CONFIG_INVALID');
    const paths = (doc.error.problems as { path: string }[]).map((p) => p.path);
    assert.ok(paths.includes('temporal.namespce'), paths.join(', '));
    assert.ok(paths.includes('sources[0].type'), paths.join(', '));
    assert.ok(paths.includes('repository'), paths.join(', '));
  });
});

describe('repository commands through bin/lifeboat on a local repository', () => {
  let dir: string;
  let config: string;
  let repoPath: string;

  before(async () => {
    dir = scratchDir('cli-repo');
    repoPath = path.join(dir, 'repo');
    config = writeTestConfig(dir, { repoUrl: repoPath });
  });

  test('before init: list exits 7 naming the location', async () => {
    const r = await runBin(['list'], env(config));
    assert.equal(r.code, EXIT_CODES.unreachable);
    assert.match(r.stderr, new RegExp(`no Lifeboat repository at .*${path.basename(repoPath)}`));
  });

  test('init, then `list --json` on the empty repository prints exactly one JSON document with no recovery points', async () => {
    const init = await runBin(['init', '--json'], env(config));
    assert.equal(init.code, EXIT_CODES.ok, init.stderr);
    const created = singleJson(init.stdout);
    assert.match(created.repository.id, /^[0-9a-f]{32}$/);

    const r = await runBin(['list', '--json'], env(config));
    assert.equal(r.code, EXIT_CODES.ok, r.stderr);
    assert.deepEqual(singleJson(r.stdout), { ok: true, recoveryPoints: [] });

    const human = await runBin(['list'], env(config));
    assert.match(human.stdout, /no recovery points yet/);

    const again = await runBin(['init'], env(config));
    assert.equal(again.code, EXIT_CODES.usage);
    assert.match(again.stderr, /already exists/);
  });

  test('a wrong repository password exits 8 and the message never contains a password', async () => {
    const r = await runBin(['list', '--json'], env(config, 'not the password'));
    assert.equal(r.code, EXIT_CODES.wrongPassword);
    const doc = singleJson(r.stdout);
    assert.equal(doc.error.code, 'WRONG_PASSWORD');
    assert.ok(!r.stdout.includes('not the password') && !r.stderr.includes('not the password'));
  });

  test('an unset password variable exits 2 naming the variable', async () => {
    const r = await runBin(['list'], { LIFEBOAT_CONFIG: config });
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /LIFEBOAT_TEST_REPO_PASSWORD/);
  });

  test('show, hold, forget (refused while held: 5), unhold, forget; unknown ids exit 3', async () => {
    const repo = await openRepository({ url: repoPath }, PASSWORD);
    let id: string;
    try {
      const a = await repo.writeArtifact(Readable.from([Buffer.from('session:1 -> alice\n')]), {
        source: 'sessions',
        kind: 'redis-logical',
        name: 'db0',
      });
      const rp = await repo.commitRecoveryPoint({ artifacts: [a], tags: ['nightly'], labels: { trigger: 'test' } });
      id = rp.id;
    } finally {
      await repo.close();
    }

    const list = singleJson((await runBin(['list', '--json'], env(config))).stdout);
    assert.deepEqual(
      list.recoveryPoints.map((p: { id: string }) => p.id),
      [id],
    );

    const show = await runBin(['show', id.slice(0, 12)], env(config));
    assert.equal(show.code, EXIT_CODES.ok, show.stderr);
    assert.match(show.stdout, new RegExp(`recovery point ${id}`));
    assert.match(show.stdout, /sessions\s+redis-logical\s+db0/);

    const showLatest = singleJson((await runBin(['show', 'latest', '--json'], env(config))).stdout);
    assert.equal(showLatest.recoveryPoint.id, id);

    const missing = await runBin(['show', '19990101T000000Z', '--json'], env(config));
    assert.equal(missing.code, EXIT_CODES.notFound);
    assert.equal(singleJson(missing.stdout).error.code, 'RECOVERY_POINT_NOT_FOUND');

    const noReason = await runBin(['hold', id], env(config));
    assert.equal(noReason.code, EXIT_CODES.usage);
    assert.match(noReason.stderr, /--reason/);

    const hold = await runBin(['hold', id, '--reason', 'case 4711', '--json'], env(config));
    assert.equal(hold.code, EXIT_CODES.ok, hold.stderr);
    assert.equal(singleJson(hold.stdout).recoveryPoint.hold.reason, 'case 4711');

    const refused = await runBin(['forget', id], env(config));
    assert.equal(refused.code, EXIT_CODES.failedNothingChanged);
    assert.match(refused.stderr, /legal hold/);
    assert.equal(singleJson((await runBin(['list', '--json'], env(config))).stdout).recoveryPoints.length, 1);

    assert.equal((await runBin(['unhold', id], env(config))).code, EXIT_CODES.ok);
    const forget = await runBin(['forget', id, '--json'], env(config));
    assert.equal(forget.code, EXIT_CODES.ok, forget.stderr);
    assert.equal(singleJson(forget.stdout).forgotten.id, id);
    assert.deepEqual(singleJson((await runBin(['list', '--json'], env(config))).stdout), {
      ok: true,
      recoveryPoints: [],
    });

    const latest = await runBin(['restore', 'latest', '--json'], env(config));
    assert.equal(latest.code, EXIT_CODES.notFound);
    assert.equal(singleJson(latest.stdout).error.code, 'NO_RECOVERY_POINT');
  });
});
