import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, selectSources, sourceByName, UnknownSourceError } from '../../config';
import { fullRawConfig } from './fixtures';

const config = parseConfig(fullRawConfig());

describe('sourceByName / selectSources', () => {
  test('finds a source by name', () => {
    const s = sourceByName(config, 'embeddings');
    assert.equal(s.type, 'faiss');
    assert.equal(s.name, 'embeddings');
  });

  test('an unknown name lists the configured ones and suggests the closest', () => {
    assert.throws(
      () => sourceByName(config, 'embedings'),
      (e: unknown) =>
        e instanceof UnknownSourceError &&
        e.code === 'SOURCE_UNKNOWN' &&
        e.message ===
          'unknown source "embedings"; did you mean "embeddings"?; configured sources: sessions, features, embeddings, docs' &&
        e.unknown[0] === 'embedings' &&
        e.known.length === 4,
    );
  });

  test('selectSources: all when none asked, asked order without repeats, every unknown name at once', () => {
    assert.deepEqual(
      selectSources(config).map((s) => s.name),
      ['sessions', 'features', 'embeddings', 'docs'],
    );
    assert.deepEqual(
      selectSources(config, []).map((s) => s.name),
      ['sessions', 'features', 'embeddings', 'docs'],
    );
    assert.deepEqual(
      selectSources(config, ['docs', 'sessions', 'docs']).map((s) => s.name),
      ['docs', 'sessions'],
    );
    assert.throws(
      () => selectSources(config, ['docs', 'sesions', 'mysql']),
      (e: unknown) =>
        e instanceof UnknownSourceError &&
        e.unknown.join() === 'sesions,mysql' &&
        /unknown sources "sesions", "mysql"; did you mean "sessions" for "sesions"\?; configured sources: /.test(
          e.message,
        ),
    );
  });
});
