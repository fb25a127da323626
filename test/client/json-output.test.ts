import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toJson } from '../../client/program';

test('--json output prints an object reached twice in full, cuts only a real cycle', () => {
  const shared = ['09:00', '10:00'];
  const doc: Record<string, unknown> = {
    sources: [
      { name: 'a', checks: shared },
      { name: 'b', checks: shared },
    ],
  };
  doc.self = doc;
  assert.deepEqual(JSON.parse(toJson(doc)), {
    sources: [
      { name: 'a', checks: ['09:00', '10:00'] },
      { name: 'b', checks: ['09:00', '10:00'] },
    ],
    self: '[circular]',
  });
});

test('--json output turns bigints into strings and errors into name and message', () => {
  assert.deepEqual(JSON.parse(toJson({ bytes: 2n ** 70n, error: new TypeError('bad') })), {
    bytes: '1180591620717411303424',
    error: { name: 'TypeError', message: 'bad' },
  });
});
