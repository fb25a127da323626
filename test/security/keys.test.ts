import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../client/program';
import { KeyRefusedError, WrongPasswordError, initRepository, openRepository } from '../../repository';
import { memoryIo, testConfig } from '../client/helpers';

/** Cheap key derivation: these tests are about key files, not scrypt's cost. */
const FAST = { scrypt: { N: 1024, r: 8, p: 1 } };

describe('repository keys: several passwords per repository (lifeboat key)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-keys-'));
  const closers: (() => Promise<void>)[] = [];
  after(async () => Promise.all(closers.map((c) => c())));

  test('add, list, open with either password, remove, passwd upgrades the KDF; last and current key refused', async () => {
    const url = path.join(dir, 'a');
    const repo = await initRepository({ url }, 'first-pw', FAST);
    closers.push(() => repo.close());
    const [first] = await repo.keyring.list();
    assert.equal(first.current, true);
    assert.equal(first.host, os.hostname());
    assert.equal(first.user, os.userInfo().username);
    assert.deepEqual(first.kdf, { algorithm: 'scrypt', N: 1024, r: 8, p: 1 });
    assert.ok(!Number.isNaN(Date.parse(first.created)));

    // Only one key: removing it is refused, nothing deleted.
    await assert.rejects(repo.keyring.remove(first.id), (e: unknown) => {
      assert.ok(e instanceof KeyRefusedError);
      assert.match(e.message, /last key/);
      return true;
    });
    const second = await repo.keyring.add('second-pw', { scrypt: { N: 2048 } });
    assert.equal(second.current, false);
    assert.equal(second.kdf.N, 2048);
    assert.deepEqual((await repo.keyring.list()).map((k) => k.id).sort(), [first.id, second.id].sort());
    // The key in use is refused too (use passwd).
    await assert.rejects(repo.keyring.remove(first.id.slice(0, 8)), /key this command opened the repository with/);
    await assert.rejects(repo.keyring.remove('ffffffffffffffff'), /no key ffffffffffffffff/);

    // Both passwords open the same repository and its data.
    await repo.records.put('notes', 'n1', { x: 1 });
    for (const pw of ['first-pw', 'second-pw']) {
      const r = await openRepository({ url }, pw);
      assert.equal(r.id, repo.id);
      assert.deepEqual((await r.records.get('notes', 'n1'))?.body, { x: 1 });
      await r.close();
    }

    // Opened with the second password, the first key can be removed; its password stops working.
    const viaSecond = await openRepository({ url }, 'second-pw');
    closers.push(() => viaSecond.close());
    assert.equal(viaSecond.keyId, second.id);
    assert.equal((await viaSecond.keyring.remove(first.id)).id, first.id);
    await assert.rejects(openRepository({ url }, 'first-pw'), WrongPasswordError);

    // passwd: a new key with the default (stronger) KDF replaces the one in use.
    const r = await viaSecond.keyring.passwd('third-pw');
    assert.equal(r.removed, second.id);
    assert.deepEqual(r.added.kdf, { algorithm: 'scrypt', N: 32768, r: 8, p: 1 });
    assert.deepEqual(
      (await viaSecond.keyring.list()).map((k) => [k.id, k.current]),
      [[r.added.id, true]],
    );
    await assert.rejects(openRepository({ url }, 'second-pw'), WrongPasswordError);
    const third = await openRepository({ url }, 'third-pw');
    assert.deepEqual((await third.records.get('notes', 'n1'))?.body, { x: 1 });
    await third.close();
  });

  test('a wrong password names no key; bad KDF parameters are refused before anything is written', async () => {
    const url = path.join(dir, 'b');
    const repo = await initRepository({ url }, 'pw-b', FAST);
    closers.push(() => repo.close());
    const k2 = await repo.keyring.add('pw-b2', FAST);
    const err = await openRepository({ url }, 'nope').catch((e: unknown) => e);
    assert.ok(err instanceof WrongPasswordError);
    for (const k of await repo.keyring.list()) assert.ok(!err.message.includes(k.id), 'the error names no key id');
    assert.match(err.message, /wrong password/);
    const before = readdirSync(path.join(url, 'keys')).sort();
    await assert.rejects(repo.keyring.add('pw-x', { scrypt: { N: 1000 } }), /power of two/);
    await assert.rejects(repo.keyring.passwd('pw-x', { scrypt: { r: 99 } }), /scrypt\.r/);
    assert.deepEqual(readdirSync(path.join(url, 'keys')).sort(), before);
    assert.ok(before.includes(k2.id));
  });

  test('key files written before keys carried a user (format v1 without "user") still open and list', async () => {
    const url = path.join(dir, 'c');
    const repo = await initRepository({ url }, 'pw-c', FAST);
    const id = repo.keyId;
    await repo.close();
    const file = path.join(url, 'keys', id);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete doc.user;
    writeFileSync(file, JSON.stringify(doc));
    const again = await openRepository({ url }, 'pw-c');
    closers.push(() => again.close());
    const [k] = await again.keyring.list();
    assert.equal(k.id, id);
    assert.equal(k.user, undefined);
  });

  test('the CLI: key list/add/remove/passwd --json; the new password comes from a file or a variable', async () => {
    const url = path.join(dir, 'd');
    process.env.LB_KEYS_PW = 'cli-pw';
    const repo = await initRepository({ url }, 'cli-pw', FAST);
    await repo.close();
    const config = testConfig({ repoUrl: url, passwordEnv: 'LB_KEYS_PW' });
    const cli = async (...args: string[]) => {
      const { io, out } = memoryIo();
      const code = await runCli(args, io, { config });
      return { code, doc: out.stdout ? (JSON.parse(out.stdout) as Record<string, any>) : undefined, err: out.stderr };
    };
    const listed = await cli('key', 'list', '--json');
    assert.equal(listed.code, 0);
    assert.equal(listed.doc?.keys.length, 1);

    const pwFile = path.join(dir, 'new-pw');
    writeFileSync(pwFile, 'cli-pw-2\n', { mode: 0o600 });
    const added = await cli('key', 'add', '--new-password-file', pwFile, '--scrypt-n', '1024', '--json');
    assert.equal(added.code, 0, added.err);
    assert.equal(added.doc?.added.kdf.N, 1024);
    assert.equal((await cli('key', 'list', '--json')).doc?.keys.length, 2);

    // No new password, or both sources: a usage error, nothing added.
    const none = await cli('key', 'add', '--json');
    assert.equal(none.code, 2);
    assert.match(none.doc?.error.message, /--new-password-file/);
    assert.equal((await cli('key', 'list', '--json')).doc?.keys.length, 2);

    const removed = await cli('key', 'remove', added.doc?.added.id, '--json');
    assert.equal(removed.code, 0, removed.err);
    const last = await cli('key', 'remove', listed.doc?.keys[0].id, '--json');
    assert.equal(last.code, 2);
    assert.equal(last.doc?.error.code, 'REPOSITORY_KEY_REFUSED');

    process.env.LB_KEYS_NEW = 'cli-pw-3';
    const pw = await cli('key', 'passwd', '--new-password-env', 'LB_KEYS_NEW', '--scrypt-n', '1024', '--json');
    assert.equal(pw.code, 0, pw.err);
    assert.equal(pw.doc?.removed, listed.doc?.keys[0].id);
    const wrong = await cli('key', 'list', '--json');
    assert.equal(wrong.code, 8, 'the old password no longer opens the repository');
    process.env.LB_KEYS_PW = 'cli-pw-3';
    assert.equal((await cli('key', 'list', '--json')).doc?.keys[0].id, pw.doc?.added.id);
  });
});
