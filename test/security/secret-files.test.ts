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
