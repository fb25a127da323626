import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { minimalRawConfig } from './fixtures';

const withSources = (sources: unknown[]) => ({ ...minimalRawConfig(), sources });

test('files source: absolute paths and globs become globs relative to root (default /), excludes too', () => {
  const c = parseConfig(
    withSources([
      {
        name: 'app',
        type: 'files',
        paths: ['/srv/app/.env', '/srv/app/docker-compose*.yml', '/etc/redis/redis.conf'],
        exclude: '**/*.bak',
      },
      {
        name: 'only',
        type: 'files',
        root: '/srv/app',
        paths: ['/srv/app', '/srv/app/conf/'],
        exclude: ['/srv/app/tmp'],
      },
    ]),
  );
  const [a, b] = c.sources;
  assert.ok(a?.type === 'files' && b?.type === 'files');
  assert.equal(a.root, '/');
  assert.deepEqual(a.include, ['srv/app/.env', 'srv/app/docker-compose*.yml', 'etc/redis/redis.conf']);
  assert.deepEqual(a.exclude, ['**/*.bak']);
  assert.equal(a.restoreOrder, 5, 'configuration is restored before the data stores');
  assert.equal(b.root, '/srv/app');
  assert.deepEqual(b.include, ['**', 'conf']);
  assert.deepEqual(b.exclude, ['tmp']);
});

test('files source: every problem is reported at once, naming the entry and the fix', () => {
  let err: unknown;
  try {
    parseConfig(
      withSources([
        { name: 'a', type: 'files', root: '/srv/app', paths: ['relative/.env', '/etc/redis.conf', '/srv/app/{a,b}'] },
        { name: 'b', type: 'files' },
        { name: 'c', type: 'files', paths: ['/x'], exclude: [3], url: 'redis://x' },
      ]),
    );
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, String(err));
  const at = (p: string) => err.problems.find((x) => x.path === p)?.message ?? `(no problem at ${p}: ${err.message})`;
  assert.match(at('sources[0].paths[0]'), /"relative\/.env" is relative; give an absolute path/);
  assert.match(at('sources[0].paths[1]'), /not below root \/srv\/app/);
  assert.match(at('sources[0].paths[2]'), /uses \[\] or \{\}, which are not supported/);
  assert.match(at('sources[1].paths'), /is required for a files source/);
  assert.match(at('sources[2].exclude[0]'), /must be a glob string/);
  assert.match(at('sources[2].url'), /is an option of (redis|qdrant) sources, and this source is type files/);
});
