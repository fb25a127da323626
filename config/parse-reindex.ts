import { at, type Checker, int, isAbsent, list, mapping, secret, str, url } from './check';
import type { ReindexConfig } from './types';

const EXAMPLE =
  'reindex: { keys: "doc:*", textField: text, idField: id, embedding: { url: "https://api.openai.com/v1", model: text-embedding-3-small, apiKey: { env: OPENAI_API_KEY } } }';

/**
 * `reindex:` — how to rebuild a vector store from Redis records: which hashes, which fields, which
 * embedding API (OpenAI-compatible), how fast. Absent: `lifeboat reindex` says what to add.
 */
export function parseReindex(c: Checker, raw: unknown): ReindexConfig | undefined {
  const p = 'reindex';
  if (isAbsent(raw)) return undefined;
  const before = c.problems.length;
  const o = mapping(
    c,
    raw,
    p,
    [
      'keys',
      'textField',
      'idField',
      'payloadFields',
      'embedding',
      'batchSize',
      'concurrency',
      'requestsPerSecond',
      'batchesPerRun',
      'probes',
    ],
    { example: EXAMPLE },
  );
  if (!o) return undefined;
  const keys = str(c, o.keys, at(p, 'keys'), { hint: 'a SCAN pattern such as "doc:*"' }) ?? '*';
  if (isAbsent(o.textField))
    c.add(at(p, 'textField'), 'is required: the hash field holding the text to embed, e.g. text');
  const textField = str(c, o.textField, at(p, 'textField'));
  if (isAbsent(o.idField))
    c.add(at(p, 'idField'), 'is required: the hash field holding the record id (a whole number or a UUID), e.g. id');
  const idField = str(c, o.idField, at(p, 'idField'));
  const payloadFields: string[] = [];
  list(c, o.payloadFields, at(p, 'payloadFields'), 'payloadFields: [title, url]')?.forEach((v, i) => {
    const s = str(c, v, at(at(p, 'payloadFields'), i));
    if (s !== undefined) payloadFields.push(s);
  });
  const ep = at(p, 'embedding');
  if (isAbsent(o.embedding)) c.add(ep, `is required: the embedding API, e.g. ${EXAMPLE}`);
  const e = isAbsent(o.embedding)
    ? undefined
    : mapping(c, o.embedding, ep, ['url', 'model', 'apiKey', 'timeout'], {
        example: '{ url: "https://api.openai.com/v1", model: text-embedding-3-small, apiKey: { env: OPENAI_API_KEY } }',
      });
  if (e && isAbsent(e.url)) c.add(at(ep, 'url'), 'is required: the API base URL, e.g. https://api.openai.com/v1');
  if (e && isAbsent(e.model)) c.add(at(ep, 'model'), 'is required: the embedding model, e.g. text-embedding-3-small');
  const u = e
    ? url(
        c,
        e.url,
        at(ep, 'url'),
        ['http', 'https'],
        'write apiKey: { env: EMBEDDING_API_KEY }',
        'https://api.openai.com/v1',
      )
    : undefined;
  const model = e ? str(c, e.model, at(ep, 'model')) : undefined;
  const apiKey = e ? secret(c, e.apiKey, at(ep, 'apiKey'), 'EMBEDDING_API_KEY') : undefined;
  const timeoutSeconds = e ? (int(c, e.timeout, at(ep, 'timeout'), 1, 600) ?? 60) : 60;
  const batchSize = int(c, o.batchSize, at(p, 'batchSize'), 1, 2048) ?? 64;
  const concurrency = int(c, o.concurrency, at(p, 'concurrency'), 1, 64) ?? 2;
  const requestsPerSecond = int(c, o.requestsPerSecond, at(p, 'requestsPerSecond'), 0, 10_000) ?? 0;
  const batchesPerRun = int(c, o.batchesPerRun, at(p, 'batchesPerRun'), 1, 10_000) ?? 50;
  const probes = int(c, o.probes, at(p, 'probes'), 0, 100) ?? 5;
  if (c.problems.length > before || !u || !model || !textField || !idField) return undefined;
  return {
    keys,
    textField,
    idField,
    payloadFields,
    embedding: {
      url: u.href.replace(/\/+$/, ''),
      model,
      ...(apiKey ? { apiKey } : {}),
      timeoutMs: timeoutSeconds * 1000,
    },
    batchSize,
    concurrency,
    requestsPerSecond,
    batchesPerRun,
    probes,
  };
}
