import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { minimalRawConfig } from './fixtures';

const withSources = (sources: unknown[]) => ({ ...minimalRawConfig(), sources });

test('faiss include/exclude: a glob or a list of globs, kept as given', () => {
  const c = parseConfig(
    withSources([
      { name: 'a', type: 'faiss', path: '/data/a', include: '**/*.bin' },
      { name: 'b', type: 'faiss', path: '/data/b', include: ['*.index', 'shards/**/*.faiss'], exclude: ['tmp/**'] },
      { name: 'c', type: 'faiss', path: '/data/c' },
    ]),
  );
  const [a, b, cc] = c.sources;
  assert.ok(a?.type === 'faiss' && b?.type === 'faiss' && cc?.type === 'faiss');
  assert.deepEqual(a.include, ['**/*.bin']);
  assert.equal(a.exclude, undefined);
  assert.deepEqual(b.include, ['*.index', 'shards/**/*.faiss']);
  assert.deepEqual(b.exclude, ['tmp/**']);
  assert.equal(cc.include, undefined);
});

test('faiss include/exclude: every bad glob is reported at once, naming the entry and the fix', () => {
  let err: unknown;
  try {
    parseConfig(
      withSources([
        { name: 'a', type: 'faiss', path: '/data/a', include: ['/abs/*.bin', 'ok/*.index', '../up/*'] },
        { name: 'b', type: 'faiss', path: '/data/b', include: [], exclude: 'x/{a,b}' },
        { name: 'c', type: 'faiss', path: '/data/c', exclude: [3] },
      ]),
    );
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, String(err));
  const at = (p: string) => err.problems.find((x) => x.path === p)?.message ?? `(no problem at ${p}: ${err.message})`;
  assert.match(at('sources[0].include[0]'), /"\/abs\/\*\.bin" must be relative to the source folder/);
  assert.match(at('sources[0].include[2]'), /"\.\.\/up\/\*" must not contain "\.\."/);
  assert.match(at('sources[1].include'), /must be a glob or a non-empty list of globs/);
  assert.match(at('sources[1].exclude'), /uses \[\] or \{\}, which are not supported/);
  assert.match(at('sources[2].exclude[0]'), /must be a glob string/);
  assert.equal(err.problems.filter((p) => p.path.startsWith('sources[0].include')).length, 2);
});

test('include on a redis source says it belongs to faiss', () => {
  assert.throws(
    () => parseConfig(withSources([{ name: 'r', type: 'redis', url: 'redis://h:6379', include: '*.bin' }])),
    /include/,
  );
});
