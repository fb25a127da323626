import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { rawTestConfig } from '../client/helpers';

test('allowInsecurePermissions: accepted (true/false) on a file reference, refused on env and as a non-boolean', () => {
  const withPassword = (password: unknown) => {
    const raw = rawTestConfig() as { repository: Record<string, unknown> };
    raw.repository.password = password;
    return raw;
  };
  const ok = parseConfig(withPassword({ file: '/etc/lifeboat/pw', allowInsecurePermissions: true }), '<t>');
  assert.deepEqual(ok.repository.password, { file: '/etc/lifeboat/pw', allowInsecurePermissions: true });
  assert.deepEqual(
    parseConfig(withPassword({ file: '/etc/lifeboat/pw', allowInsecurePermissions: false }), '<t>').repository.password,
    { file: '/etc/lifeboat/pw' },
  );
  assert.throws(
    () => parseConfig(withPassword({ env: 'X', allowInsecurePermissions: true }), '<t>'),
    (e: unknown) => e instanceof ConfigError && /allowInsecurePermissions: applies to \{ file/.test(e.message),
  );
  assert.throws(
    () => parseConfig(withPassword({ file: '/etc/lifeboat/pw', allowInsecurePermissions: 'yes' }), '<t>'),
    /allowInsecurePermissions: must be true or false/,
  );
});

test('repository.s3.objectLock: mode and retentionDays parsed; bad values all reported at once', () => {
  const withLock = (objectLock: unknown) => {
    const raw = rawTestConfig({ repoUrl: 's3://bucket/prefix' }) as { repository: Record<string, unknown> };
    raw.repository.s3 = { objectLock };
    return raw;
  };
  const c = parseConfig(withLock({ mode: 'COMPLIANCE', retentionDays: 30 }), '<t>');
  assert.equal(c.repository.kind, 's3');
  if (c.repository.kind === 's3')
    assert.deepEqual(c.repository.s3.objectLock, { mode: 'COMPLIANCE', retentionDays: 30 });
  assert.throws(
    () => parseConfig(withLock({ mode: 'LOCKED', retentionDays: 0 }), '<t>'),
    (e: unknown) =>
      e instanceof ConfigError &&
      /objectLock\.mode: "LOCKED" is not an Object Lock mode/.test(e.message) &&
      /objectLock\.retentionDays/.test(e.message),
  );
  assert.throws(() => parseConfig(withLock({ mode: 'GOVERNANCE' }), '<t>'), /needs both mode/);
});
