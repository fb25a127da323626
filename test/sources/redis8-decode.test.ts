/**
 * Server-free checks of the Redis 8 decoders: module type ids, and types the
 * adapter cannot decode being named (never mangled) rather than failing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDump } from '../../sources/redis/rdb/value';
import { moduleTypeName } from '../../sources/redis/rdb/redis8';
import { crc64 } from '../../sources/redis/rdb/crc64';
import { unknownTypeName } from '../../sources/redis/walk';

const CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function moduleId(name: string, encver: number): bigint {
  let id = 0n;
  for (const ch of name) id = (id << 6n) | BigInt(CHARSET.indexOf(ch));
  return (id << 10n) | BigInt(encver);
}

/** A DUMP payload: type byte, body, RDB version 12, CRC64. */
function payload(type: number, body: Buffer): Buffer {
  const head = Buffer.concat([Buffer.from([type]), body, Buffer.from([12, 0])]);
  return Buffer.concat([head, crc64(head)]);
}

test('module type ids decode to their 9-character name and encoding version', () => {
  assert.deepEqual(moduleTypeName(moduleId('vectorset', 0)), { name: 'vectorset', encver: 0 });
  assert.deepEqual(moduleTypeName(moduleId('ReJSON-RL', 3)), { name: 'ReJSON-RL', encver: 3 });
});

test('a module value of another module is passed through opaque and named by its module', () => {
  const id = Buffer.alloc(9);
  id[0] = 0x81;
  id.writeBigUInt64BE(moduleId('ReJSON-RL', 3), 1);
  const body = Buffer.concat([id, Buffer.from([0x02, 0x05, 0x00])]); // UINT 5, EOF
  const v = decodeDump(payload(7, body));
  assert.equal(v.kind, 'opaque');
  assert.equal(unknownTypeName(v), 'module type ReJSON-RL');
  assert.deepEqual(v.kind === 'opaque' && v.body, body, 'the bytes are kept as they are');
});

test('an RDB type newer than the adapter knows is named; a known opaque type (a stream) is not', () => {
  const v = decodeDump(payload(26, Buffer.from([1, 2, 3])));
  assert.equal(unknownTypeName(v), 'RDB type 26');
  assert.equal(unknownTypeName(decodeDump(payload(21, Buffer.from([1, 2, 3])))), undefined);
  assert.equal(unknownTypeName(decodeDump(payload(0, Buffer.from([3, 0x61, 0x62, 0x63])))), undefined);
});
