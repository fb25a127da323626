import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { repositoryLocation } from '../../runtime/configured-repository';
import { fullRawConfig, minimalRawConfig } from './fixtures';

const DAY = 86_400_000;

function withLock(objectLock: unknown, raw = fullRawConfig()): Record<string, any> {
  raw.repository.objectLock = objectLock;
  return raw;
}

function problems(raw: unknown): { path: string; message: string }[] {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => ({ path: p.path, message: p.message }));
  }
  assert.fail('the config was accepted');
}

describe('repository.objectLock', () => {
  test('is read as mode and retention in ms, and reaches the S3 backend options', async () => {
    const c = parseConfig(withLock({ mode: 'compliance', retention: '30d' }), 't.yaml');
    assert.equal(c.repository.kind, 's3');
    assert.deepEqual(c.repository.kind === 's3' && c.repository.objectLock, {
      mode: 'compliance',
      retentionMs: 30 * DAY,
    });
    const loc = await repositoryLocation(c);
    assert.deepEqual(loc.s3?.objectLock, { mode: 'compliance', retentionMs: 30 * DAY });
  });

  test('is absent by default (no retention on uploads)', async () => {
    const c = parseConfig(fullRawConfig(), 't.yaml');
    assert.equal(c.repository.kind === 's3' && c.repository.objectLock, undefined);
    assert.equal((await repositoryLocation(c)).s3?.objectLock, undefined);
  });

  test('every problem is reported at once, naming the key and the fix', () => {
    const ps = problems(withLock({ mode: 'governence', retention: '2h', extra: 1 }));
    const at = (p: string) =>
      ps.find((x) => x.path === p)?.message ?? assert.fail(`no problem at ${p}: ${JSON.stringify(ps)}`);
    assert.match(at('repository.objectLock.mode'), /did you mean "governance"/);
    assert.match(at('repository.objectLock.retention'), /too short; use at least 1d/);
    assert.ok(ps.some((p) => p.path.startsWith('repository.objectLock') && /extra/.test(p.path + p.message)));
  });

  test('mode and retention are both required', () => {
    const ps = problems(withLock({}));
    assert.match(ps.find((p) => p.path === 'repository.objectLock.mode')!.message, /governance .* compliance/);
    assert.match(ps.find((p) => p.path === 'repository.objectLock.retention')!.message, /e\.g\. 30d/);
  });

  test('on a local repository it is refused, pointing at the append-only documentation', () => {
    const ps = problems(withLock({ mode: 'governance', retention: '30d' }, minimalRawConfig()));
    const p = ps.find((x) => x.path === 'repository.objectLock');
    assert.ok(p, JSON.stringify(ps));
    assert.match(p.message, /only to s3:\/\/ repositories.*append-only.*docs\/security\.md/);
  });
});
