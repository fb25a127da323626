import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createEmbeddingClient, embeddingsEndpoint, retryAfterMs } from '../../sources/embeddings/client';
import { embedFor, startEmbeddingServer, type EmbeddingServer } from '../servers/embeddings';

let s: EmbeddingServer;
before(async () => {
  s = await startEmbeddingServer({ dimension: 8 });
});
after(() => s.close());

test('endpoint and Retry-After parsing', () => {
  assert.equal(embeddingsEndpoint('https://api.openai.com/v1'), 'https://api.openai.com/v1/embeddings');
  assert.equal(embeddingsEndpoint('http://h:8080'), 'http://h:8080/v1/embeddings');
  assert.equal(retryAfterMs('2'), 2000);
  assert.equal(retryAfterMs(null), undefined);
  assert.ok((retryAfterMs(new Date(Date.now() + 5000).toUTCString()) ?? 0) > 3000);
});

test('answers in input order; 429 (Retry-After honoured) and 500 are retried; each input counted once', async () => {
  s.set({ fail429: 2, retryAfter: 1, fail500: 1 });
  const retries: (number | undefined)[] = [];
  const c = createEmbeddingClient({ url: s.url, model: 'm', baseDelayMs: 10, onRetry: (i) => retries.push(i.status) });
  const t0 = Date.now();
  const got = await c.embed(['a', 'b', 'c']);
  assert.deepEqual(
    got,
    ['a', 'b', 'c'].map((t) => embedFor(t, 8)),
  );
  assert.deepEqual(retries, [429, 429, 500]);
  assert.ok(Date.now() - t0 >= 2000, 'waited the Retry-After seconds twice');
  assert.deepEqual(
    [...s.counts.entries()],
    [
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ],
  );
});

test('a 4xx fails at once, naming the status, the API message and the fix; exhausted retries are retryable', async () => {
  s.set({ apiKey: 'good' });
  const bad = createEmbeddingClient({ url: s.url, model: 'm', apiKey: 'wrong' });
  await assert.rejects(bad.embed(['x']), (e: Error & { code?: string; retryable?: boolean }) => {
    assert.equal(e.code, 'EMBEDDING_REQUEST_REJECTED');
    assert.equal(e.retryable, false);
    assert.match(e.message, /HTTP 401: Incorrect API key provided; check the API key/);
    assert.ok(!e.message.includes('wrong'), 'the key is not in the message');
    return true;
  });
  s.set({ apiKey: undefined, fail500: 10 });
  const c = createEmbeddingClient({ url: s.url, model: 'm', maxAttempts: 3, baseDelayMs: 5 });
  await assert.rejects(c.embed(['x']), (e: Error & { retryable?: boolean }) => e.retryable === true);
  s.set({ fail500: 0 });
});

test('the rate limit spaces requests out', async () => {
  const c = createEmbeddingClient({ url: s.url, model: 'm', requestsPerSecond: 20 });
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 11 }, (_, i) => c.embed([`r${i}`])));
  assert.ok(Date.now() - t0 >= 480, `11 requests at 20/s take at least 0.5 s (${Date.now() - t0} ms)`);
});
