import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { literalPrefix } from '../../config/parse-consistency';
import { fullRawConfig } from './fixtures';

const withLinks = (links: unknown) => ({ ...fullRawConfig(), consistency: { links } });

function problems(raw: unknown): { path: string; message: string }[] {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => ({ path: p.path, message: p.message }));
  }
  assert.fail('the config was accepted');
}

describe('config: consistency links', () => {
  test('absent: no links', () => {
    assert.deepEqual(parseConfig(fullRawConfig()).consistency, { links: [] });
  });

  test('a full link: every side read, defaults filled in', () => {
    const c = parseConfig(
      withLinks([
        {
          name: 'chimera',
          dimension: 384,
          redis: { source: 'sessions', pattern: 'chimera-vectors:*', id: { hashField: 'doc_id' } },
          faiss: { source: 'embeddings', ids: 'idmap' },
          qdrant: { source: 'docs', collection: 'faq', id: { payloadField: 'doc_id' }, vector: 'text' },
          compare: { sample: 50, tolerance: 0.001 },
        },
        {
          name: 'users',
          redis: { source: 'features', pattern: 'chimera-users:*' },
          qdrant: { source: 'docs', collection: 'docs' },
        },
      ]),
    );
    assert.deepEqual(c.consistency!.links, [
      {
        name: 'chimera',
        // The source backs up db 3: the link reads it there.
        redis: {
          source: 'sessions',
          pattern: 'chimera-vectors:*',
          prefix: 'chimera-vectors:',
          id: { from: 'hash-field', field: 'doc_id' },
          db: 3,
        },
        faiss: { source: 'embeddings', ids: 'idmap' },
        qdrant: { source: 'docs', collection: 'faq', id: { from: 'payload-field', field: 'doc_id' }, vector: 'text' },
        dimension: 384,
        compare: { sample: 50, tolerance: 0.001 },
        examples: 10,
      },
      {
        name: 'users',
        redis: {
          source: 'features',
          pattern: 'chimera-users:*',
          prefix: 'chimera-users:',
          id: { from: 'key-suffix' },
          db: 0,
        },
        qdrant: { source: 'docs', collection: 'docs', id: { from: 'point-id' } },
        examples: 10,
      },
    ]);
  });

  test('every problem of every link at once, each naming its path and the fix', () => {
    const got = problems(
      withLinks([
        {
          name: 'Bad Name',
          redis: { source: 'docs', pattern: '*x', id: 'suffix' },
          faiss: { source: 'nope', ids: 'sequential' },
          compare: { sample: 0 },
          colour: 'red',
        },
        { name: 'lonely', qdrant: { source: 'docs' }, dimension: 0 },
        {
          name: 'lonely',
          redis: { source: 'sessions', pattern: 's:*', db: 4 },
          qdrant: { source: 'docs', collection: 'x', id: { payloadField: '' } },
        },
        {
          name: 'cmp',
          redis: { source: 'features', pattern: 'a:*', id: { hashField: 'a', jsonField: 'b' } },
          faiss: { source: 'embeddings', file: '../x' },
          compare: { sample: 5, tolerance: -1 },
        },
      ]),
    );
    const at = (p: string, re: RegExp) =>
      assert.ok(
        got.some((x) => x.path === p && re.test(x.message)),
        `no problem at ${p} matching ${re}:\n${got.map((x) => `${x.path}: ${x.message}`).join('\n')}`,
      );
    at('consistency.links[0].name', /not valid/);
    at('consistency.links[0].colour', /unknown option/);
    at('consistency.links[0].redis.source', /"docs" is a qdrant source.*name a redis source/);
    at('consistency.links[0].redis.id', /"suffix" is not an id source; use key-suffix/);
    at('consistency.links[0].faiss.source', /"nope" is not a configured source; faiss sources: embeddings/);
    at('consistency.links[0].faiss.ids', /"sequential" is not a FAISS id mapping.*positions, idmap/);
    at('consistency.links[0].compare.sample', /whole number from 1/);
    at('consistency.links[0].compare', /needs both faiss and qdrant/);
    at('consistency.links[1]', /only qdrant; a link relates at least two/);
    at('consistency.links[1].qdrant.collection', /several collections \(docs, faq\)/);
    at('consistency.links[1].dimension', /whole number from 1 to 65536/);
    at('consistency.links[2].name', /"lonely" is already the name of consistency.links\[1\]/);
    at('consistency.links[2].redis.db', /backs up db 3 only/);
    at('consistency.links[2].qdrant.collection', /"x" is not a collection of source "docs"/);
    at('consistency.links[2].qdrant.id.payloadField', /is empty/);
    at('consistency.links[3].redis.id', /exactly one of hashField/);
    at('consistency.links[3].faiss.file', /must be relative/);
    at('consistency.links[3].compare.tolerance', /not a tolerance/);
    at('consistency.links[3].compare', /needs both faiss and qdrant/);
    assert.ok(got.length >= 19);
  });

  test('a missing source, a missing pattern, a cluster db', () => {
    const got = problems(withLinks([{ name: 'x', redis: { db: 2, source: 'features' }, qdrant: {} }])).map(
      (p) => `${p.path}: ${p.message}`,
    );
    assert.ok(
      got.some((m) => /^consistency.links\[0\].redis.pattern: is required/.test(m)),
      got.join('\n'),
    );
    assert.ok(
      got.some((m) => /^consistency.links\[0\].redis.db: .*Redis Cluster/.test(m)),
      got.join('\n'),
    );
    assert.ok(
      got.some((m) => /^consistency.links\[0\].qdrant.source: is required.*qdrant sources: docs/.test(m)),
      got.join('\n'),
    );
  });

  test('literalPrefix stops at the first glob character and honours escapes', () => {
    assert.equal(literalPrefix('chimera-vectors:*'), 'chimera-vectors:');
    assert.equal(literalPrefix('a\\*b?c'), 'a*b');
    assert.equal(literalPrefix('[ab]x'), '');
    assert.equal(literalPrefix('plain'), 'plain');
  });
});
