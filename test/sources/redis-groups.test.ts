/**
 * Record groups (docs/redis-format.md): the pieces RecordWriter hands the
 * repository. What an incremental backup relies on: the bytes do not depend
 * on the grouping, a changed value changes its own group only, an added key
 * at most its group and the next, and big values are pieces of their own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordWriter } from '../../sources/redis/format/writer';
import { RecordTag } from '../../sources/redis/format/constants';

interface Key {
  key: string;
  value: Buffer;
}

function keys(n: number): Key[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `session:${String(i).padStart(6, '0')}`,
    value: Buffer.from(`value-${i}-`.repeat(1 + (i % 40))),
  }));
}

/** Encodes like a backup (batches of 100 keys taken as the walk takes them) and returns the pieces. */
function encode(list: Key[]): Buffer[] {
  const w = new RecordWriter();
  const out: Buffer[] = [];
  w.header({ cluster: false, redisVersion: '8.2.3', pattern: '', dbs: [0] });
  w.dbStart(0);
  list.forEach((k, i) => {
    w.key(RecordTag.STRING, k.key, 0, k.value);
    if (i % 100 === 99) out.push(...w.take().map((b) => Buffer.from(b)));
  });
  w.dbEnd(0, list.length, '00'.repeat(32));
  w.end(1, list.length);
  out.push(...w.take().map((b) => Buffer.from(b)));
  return out;
}

const hex = (pieces: Buffer[]) => pieces.map((p) => p.toString('hex'));

test('pieces are groups of about two keys; batch ends do not cut groups; the bytes are the plain stream', () => {
  const list = keys(5000);
  const pieces = encode(list);
  // About two keys per group (hash-chosen ends), never one piece per batch.
  assert.ok(pieces.length > 1800 && pieces.length < 3200, `${pieces.length} pieces for 5000 keys`);
  // The same records taken in one go give the same pieces: batch boundaries are not group boundaries.
  const w = new RecordWriter();
  w.header({ cluster: false, redisVersion: '8.2.3', pattern: '', dbs: [0] });
  w.dbStart(0);
  for (const k of list) w.key(RecordTag.STRING, k.key, 0, k.value);
  w.dbEnd(0, list.length, '00'.repeat(32));
  w.end(1, list.length);
  assert.deepEqual(hex(w.take()), hex(pieces));
  assert.equal(Buffer.concat(pieces).length, w.total);
});

test('a changed value changes exactly its own group; an added key at most two', () => {
  const list = keys(3000);
  const before = hex(encode(list));
  const changed = list.map((k, i) => (i === 1234 ? { ...k, value: Buffer.from('a different value, longer') } : k));
  const after = hex(encode(changed));
  assert.equal(after.length, before.length);
  assert.equal(after.filter((p, i) => p !== before[i]).length, 1);

  const added = [...list.slice(0, 2000), { key: 'session:001999x', value: Buffer.from('new') }, ...list.slice(2000)];
  const withKey = new Set(hex(encode(added)));
  const lost = before.filter((p) => !withKey.has(p));
  assert.ok(lost.length >= 1 && lost.length <= 2, `${lost.length} groups changed by one added key`);
});

test('a value of 64 KiB or more is a piece of its own, the record header ends the group before it', () => {
  const list = keys(200);
  const big = Buffer.alloc(100 * 1024, 7);
  list[100] = { key: list[100].key, value: big };
  const pieces = encode(list);
  const at = pieces.findIndex((p) => p.equals(big));
  assert.ok(at > 0, 'the big value is one piece');
  // The piece before ends with the big record's header: its length field (4 bytes) then nothing else.
  assert.equal(pieces[at - 1].readUInt32BE(pieces[at - 1].length - 4), big.length);
  assert.ok(pieces.every((p, i) => i === at || p.length < 64 * 1024));
});
