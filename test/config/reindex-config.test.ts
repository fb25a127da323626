import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { minimalRawConfig } from './fixtures';

test('reindex: defaults applied, secrets kept as references', () => {
  const c = parseConfig({
    ...minimalRawConfig(),
    reindex: {
      keys: 'doc:*',
      textField: 'text',
      idField: 'id',
      embedding: { url: 'https://api.example.com/v1/', model: 'm', apiKey: { env: 'EMB_KEY' } },
    },
  });
  assert.deepEqual(c.reindex, {
    keys: 'doc:*',
    textField: 'text',
    idField: 'id',
    payloadFields: [],
    embedding: { url: 'https://api.example.com/v1', model: 'm', apiKey: { env: 'EMB_KEY' }, timeoutMs: 60_000 },
    batchSize: 64,
    concurrency: 2,
    requestsPerSecond: 0,
    batchesPerRun: 50,
    probes: 5,
  });
  assert.equal(parseConfig(minimalRawConfig()).reindex, undefined);
});

test('reindex: every problem at once, naming the key and the fix', () => {
  let err: unknown;
  try {
    parseConfig({
      ...minimalRawConfig(),
      reindex: { embedding: { url: 'ftp://x', apiKey: 'sk-literal' }, batchSize: 0, concurency: 2 },
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, String(err));
  const at = (p: string) => err.problems.find((x) => x.path === p)?.message ?? `(no problem at ${p}: ${err.message})`;
  assert.match(at('reindex.textField'), /is required: the hash field holding the text/);
  assert.match(at('reindex.idField'), /is required/);
  assert.match(at('reindex.embedding.model'), /is required/);
  assert.match(at('reindex.embedding.url'), /not supported here; use http:\/\/ or https:\/\//);
  assert.match(at('reindex.embedding.apiKey'), /literal secret/);
  assert.match(at('reindex.batchSize'), /whole number from 1 to 2048/);
  assert.match(at('reindex.concurency'), /did you mean 'concurrency'/);
  assert.ok(!err.message.includes('sk-literal'), 'the literal secret is not echoed');
});
