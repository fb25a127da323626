import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorruptObjectError, InvalidArgumentError, initRepository, openRepository } from '../../repository';
/** Cheap key derivation: these tests are about records, not scrypt. */
const FAST = { scrypt: { N: 1024, r: 8, p: 1 } };

describe('records: encrypted JSON documents beside the recovery points (local disk)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-records-'));
  const closers: (() => Promise<void>)[] = [];
  after(async () => Promise.all(closers.map((c) => c())));

  test('put, get, list in id order, idempotent put, overwrite, delete; ciphertext only on disk', async () => {
    const repo = await initRepository({ url: path.join(dir, 'a') }, 'pw', FAST);
    closers.push(() => repo.close());
    const secret = 'drill-result-plaintext-7f3a';
    assert.equal(await repo.records.put('drills', '20261201T100000Z-b', { verdict: 'pass', note: secret }), true);
    assert.equal(await repo.records.put('drills', '20261201T090000Z-a', { verdict: 'fail' }), true);
    // A retried activity writes the same record again: the first stays.
    assert.equal(await repo.records.put('drills', '20261201T090000Z-a', { verdict: 'changed' }), false);
    assert.deepEqual((await repo.records.get('drills', '20261201T090000Z-a'))?.body, { verdict: 'fail' });
    assert.equal(
      await repo.records.put('drills', '20261201T090000Z-a', { verdict: 'pass' }, { overwrite: true }),
      true,
    );
    const { records, damaged } = await repo.records.list<{ verdict: string }>('drills');
    assert.deepEqual(
      records.map((r) => [r.id, r.body.verdict]),
      [
        ['20261201T090000Z-a', 'pass'],
        ['20261201T100000Z-b', 'pass'],
      ],
    );
    assert.deepEqual(damaged, []);
    assert.equal(await repo.records.get('drills', 'missing'), undefined);
    assert.deepEqual(await repo.records.ids('incidents'), []);
    const files = readdirSync(path.join(dir, 'a', 'records', 'drills'));
    for (const f of files) assert.ok(!readFileSync(path.join(dir, 'a', 'records', 'drills', f)).includes(secret));
    await repo.records.delete('drills', '20261201T100000Z-b');
    assert.deepEqual(await repo.records.ids('drills'), ['20261201T090000Z-a']);
    // Reopened with the password: still readable.
    const again = await openRepository({ url: path.join(dir, 'a') }, 'pw');
    closers.push(() => again.close());
    assert.equal((await again.records.get<{ verdict: string }>('drills', '20261201T090000Z-a'))?.body.verdict, 'pass');
  });

  test('a damaged record is named and does not hide the others; names that could escape are refused', async () => {
    const repo = await initRepository({ url: path.join(dir, 'b') }, 'pw', FAST);
    closers.push(() => repo.close());
    await repo.records.put('incidents', 'inc-1', { n: 1 });
    await repo.records.put('incidents', 'inc-2', { n: 2 });
    const file = path.join(dir, 'b', 'records', 'incidents', 'inc-1');
    const blob = readFileSync(file);
    blob[blob.length - 5] ^= 0x01;
    writeFileSync(file, blob);
    await assert.rejects(repo.records.get('incidents', 'inc-1'), CorruptObjectError);
    const { records, damaged } = await repo.records.list<{ n: number }>('incidents');
    assert.deepEqual(
      records.map((r) => r.body.n),
      [2],
    );
    assert.deepEqual(
      damaged.map((d) => d.object),
      ['records/incidents/inc-1'],
    );
    await assert.rejects(repo.records.put('../points', 'x', {}), InvalidArgumentError);
    await assert.rejects(repo.records.put('drills', 'a/b', {}), InvalidArgumentError);
  });
});
