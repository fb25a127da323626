import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSecret, resolveSecret, SecretError, type SecretRef } from '../../config';

let dir: string;
before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-config-secrets-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

function secretFile(name: string, content: string | Buffer, mode = 0o600): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

async function secretError(ref: SecretRef): Promise<SecretError> {
  try {
    await resolveSecret(ref, { onWarning: () => {} });
  } catch (e) {
    assert.ok(e instanceof SecretError, `expected SecretError, got ${String(e)}`);
    assert.equal(e.code, 'SECRET_UNAVAILABLE');
    assert.deepEqual(e.ref, ref);
    return e;
  }
  assert.fail('resolveSecret succeeded');
}

describe('resolveSecret', () => {
  test('from an environment variable, byte for byte (spaces kept)', async () => {
    process.env.LIFEBOAT_TEST_SECRET_A = ' pa ss\twörd ';
    assert.equal(await resolveSecret({ env: 'LIFEBOAT_TEST_SECRET_A' }), ' pa ss\twörd ');
  });

  test('a missing environment variable is named, with the fix', async () => {
    delete process.env.LIFEBOAT_TEST_SECRET_MISSING;
    const e = await secretError({ env: 'LIFEBOAT_TEST_SECRET_MISSING' });
    assert.equal(e.reason, 'env-unset');
    assert.match(
      e.message,
      /^environment variable LIFEBOAT_TEST_SECRET_MISSING: is not set; export LIFEBOAT_TEST_SECRET_MISSING=/,
    );
  });

  test('an empty environment variable is an error, not an empty password', async () => {
    process.env.LIFEBOAT_TEST_SECRET_EMPTY = '';
    const e = await secretError({ env: 'LIFEBOAT_TEST_SECRET_EMPTY' });
    assert.equal(e.reason, 'empty');
  });

  test('from a file: trailing newlines trimmed, inner and leading whitespace kept; no warning at 0600', async () => {
    const file = secretFile('pw', '  s3cret line\n\r\n');
    const warnings: string[] = [];
    assert.equal(await resolveSecret({ file }, { onWarning: (m) => warnings.push(m) }), '  s3cret line');
    assert.deepEqual(warnings, []);
    assert.deepEqual(await readSecret({ file: secretFile('pw2', 'abc\r\n') }), {
      value: 'abc',
      insecurePermissions: false,
    });
  });

  test('a group- or world-readable file is refused, naming the file, its mode and the fix', async () => {
    const file = secretFile('loose', 'topsecret\n', 0o644);
    const e = await secretError({ file });
    assert.equal(e.reason, 'insecure-permissions');
    assert.match(
      e.message,
      new RegExp(`^file ${file}: is readable by its group or by everyone \\(mode 0644\\); run chmod 600 ${file}`),
    );
    assert.match(e.message, /allowInsecurePermissions: true/);
    assert.ok(!e.message.includes('topsecret'));
    assert.equal((await secretError({ file: secretFile('group', 'x', 0o640) })).reason, 'insecure-permissions');
  });

  test('allowInsecurePermissions: true on the reference accepts it, flagged, with the chmod to run', async () => {
    const file = secretFile('loose-ok', 'topsecret\n', 0o644);
    const r = await readSecret({ file, allowInsecurePermissions: true });
    assert.equal(r.value, 'topsecret');
    assert.equal(r.insecurePermissions, true);
    assert.equal(
      r.warning,
      `secret file ${file} is readable by its group or by everyone (mode 0644); run chmod 600 ${file}`,
    );
    const warnings: string[] = [];
    assert.equal(
      await resolveSecret({ file, allowInsecurePermissions: true }, { onWarning: (m) => warnings.push(m) }),
      'topsecret',
    );
    assert.equal(warnings.length, 1);
    assert.ok(!warnings[0].includes('topsecret'));
  });

  test('missing, empty, directory and oversized files are errors naming the file, never the content', async () => {
    const missing = path.join(dir, 'missing');
    let e = await secretError({ file: missing });
    assert.equal(e.reason, 'unreadable');
    assert.equal(e.message, `file ${missing}: does not exist; create it with the secret and chmod 600`);
    e = await secretError({ file: secretFile('empty', '\n') });
    assert.equal(e.reason, 'empty');
    const sub = path.join(dir, 'a-dir');
    mkdirSync(sub);
    e = await secretError({ file: sub });
    assert.equal(e.reason, 'not-a-file');
    e = await secretError({ file: secretFile('big', Buffer.alloc(100_000, 'k')) });
    assert.equal(e.reason, 'too-large');
    assert.ok(!e.message.includes('kkkk'));
  });
});
