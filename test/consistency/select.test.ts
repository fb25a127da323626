import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config';
import { selectLinks } from '../../activities/consistency';
import { fullRawConfig } from '../config/fixtures';

const config = parseConfig({
  ...fullRawConfig(),
  consistency: {
    links: [
      { name: 'a', redis: { source: 'sessions', pattern: 'a:*' }, qdrant: { source: 'docs', collection: 'docs' } },
      { name: 'b', redis: { source: 'sessions', pattern: 'b:*' }, faiss: { source: 'embeddings' } },
    ],
  },
});
const names = (input: Parameters<typeof selectLinks>[1]) => selectLinks(config, input).map((l) => l.name);

test('selectLinks: by name, by sources touched (a restore) or fully covered (a drill); unknown names refused', () => {
  assert.deepEqual(names({}), ['a', 'b']);
  assert.deepEqual(names({ links: ['b'] }), ['b']);
  assert.deepEqual(names({ sources: ['docs'] }), ['a']);
  assert.deepEqual(names({ sources: ['sessions'] }), ['a', 'b']);
  assert.deepEqual(names({ sources: ['sessions', 'embeddings'], sourcesMatch: 'all' }), ['b']);
  assert.deepEqual(names({ sources: ['docs'], sourcesMatch: 'all' }), []);
  assert.throws(
    () => names({ links: ['b', 'nope'] }),
    (e: Error & { code?: string }) =>
      e.code === 'CONSISTENCY_LINK_UNKNOWN' &&
      /unknown consistency link "nope"; configured links: a, b/.test(e.message),
  );
});
