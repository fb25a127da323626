import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRedisTargetUrl, resolveRestoreTargets } from '../../client/restore-targets';
import { UsageError } from '../../client/errors';
import { exitCodeFor } from '../../client/error-mapping';
import { testConfig } from './helpers';

const config = testConfig();

describe('--to-* restore targets', () => {
  test('a Redis URL with a password (or user) is refused and the message says where the password comes from, without echoing it', () => {
    for (const url of [
      'redis://:s3cret@10.0.0.7:6379',
      'redis://admin:s3cret@10.0.0.7:6379',
      'rediss://admin@10.0.0.7:6380',
    ]) {
      assert.throws(
        () => checkRedisTargetUrl(url),
        (e: unknown) =>
          e instanceof UsageError &&
          e.option === '--to-redis' &&
          /password/.test(e.message) &&
          /config/.test(e.message) &&
          !e.message.includes('s3cret'),
        url,
      );
    }
  });

  test('a clean Redis URL is kept (host and port only); other schemes and db paths are refused', () => {
    assert.equal(checkRedisTargetUrl('redis://10.0.0.7:6379'), 'redis://10.0.0.7:6379');
    assert.equal(checkRedisTargetUrl('rediss://cache.internal:6380/'), 'rediss://cache.internal:6380');
    assert.throws(() => checkRedisTargetUrl('http://10.0.0.7:6379'), /redis:\/\//);
    assert.throws(() => checkRedisTargetUrl('redis://10.0.0.7:6379/3'), /--to-redis-db/);
    assert.throws(() => checkRedisTargetUrl('not a url'), /not a URL/);
  });

  test('each shortcut lands on the one selected source of its type', () => {
    const targets = resolveRestoreTargets(config, ['sessions', 'embeddings', 'docs'], {
      toRedis: 'redis://10.0.0.9:6379',
      toRedisDb: 4,
      toPath: '/srv/scratch/index.faiss',
      toCollection: 'docs-restored',
    });
    assert.deepEqual(targets, {
      sessions: { redisUrl: 'redis://10.0.0.9:6379', redisDb: 4 },
      embeddings: { path: '/srv/scratch/index.faiss' },
      docs: { collection: 'docs-restored' },
    });
  });

  test('with two Redis sources selected, --to-redis-db asks to choose one with --source and names both', () => {
    assert.throws(
      () => resolveRestoreTargets(config, ['sessions', 'features', 'docs'], { toRedisDb: 2 }),
      (e: unknown) =>
        e instanceof UsageError &&
        /--source/.test(e.message) &&
        /sessions/.test(e.message) &&
        /features/.test(e.message),
    );
  });

  test('a shortcut with no source of its type selected is refused', () => {
    assert.throws(
      () => resolveRestoreTargets(config, ['sessions'], { toCollection: 'x' }),
      /no qdrant source is being restored/,
    );
  });

  test('relative --to-path, negative db and bad collection names are refused', () => {
    assert.throws(() => resolveRestoreTargets(config, ['embeddings'], { toPath: 'index.faiss' }), /absolute/);
    assert.throws(() => resolveRestoreTargets(config, ['sessions'], { toRedisDb: -1 }), /db number/);
    assert.throws(() => resolveRestoreTargets(config, ['docs'], { toCollection: 'a/b' }), /collection name/);
  });

  test('an override without --source is refused (exit 2) instead of restoring the other sources in place', () => {
    assert.throws(
      () => resolveRestoreTargets(config, ['sessions', 'embeddings', 'docs'], { toRedis: 'redis://10.0.0.9:6379' }),
      (e: unknown) =>
        e instanceof UsageError &&
        exitCodeFor(e) === 2 &&
        /embeddings, docs would be restored in place/.test(e.message) &&
        /--source sessions/.test(e.message),
    );
    assert.deepEqual(resolveRestoreTargets(config, ['sessions'], { toRedis: 'redis://10.0.0.9:6379' }), {
      sessions: { redisUrl: 'redis://10.0.0.9:6379' },
    });
  });

  test('no shortcuts: no overrides (restore in place)', () => {
    assert.deepEqual(resolveRestoreTargets(config, ['sessions', 'docs'], {}), {});
  });
});
