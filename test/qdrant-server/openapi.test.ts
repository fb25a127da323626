import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { scratchDir } from '../harness/env';
import { startQdrantServer, type RunningQdrantServer } from './index';
import { OpenApiValidator } from './openapi-schema';

/**
 * Every endpoint Lifeboat uses, called over plain HTTP, with each response
 * (status and body) checked against openapi-1.19.json's schema for it.
 */
const spec = new OpenApiValidator();
let srv: RunningQdrantServer;
let dir: string;

interface Call {
  query?: Record<string, string>;
  body?: unknown;
  form?: FormData;
}

async function call(method: string, template: string, params: Record<string, string | number>, opts: Call = {}) {
  let p = template;
  for (const [k, v] of Object.entries(params)) p = p.replace(`{${k}}`, encodeURIComponent(String(v)));
  const url = new URL(p, srv.url);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const init: RequestInit = { method };
  if (opts.form) init.body = opts.form;
  else if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(url, init);
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  spec.check(template, method, res.status, body);
  if (res.status === 200 && template !== '/') {
    assert.equal(body.status, 'ok', `${method} ${template}: status field`);
    assert.equal(typeof body.time, 'number');
    assert.ok('result' in body, `${method} ${template}: 200 without result`);
  }
  if (res.status >= 400) {
    assert.equal(typeof body?.status?.error, 'string', `${method} ${template}: error body lacks status.error`);
    assert.equal(typeof body.time, 'number');
  }
  return { status: res.status, body, headers: res.headers };
}

before(async () => {
  dir = scratchDir('qdrant-openapi');
  srv = await startQdrantServer({ dataDir: path.join(dir, 'data') });
});
after(async () => {
  await srv?.stop();
});

describe('the validator itself', () => {
  test('rejects a body that breaks the schema, so the checks below can fail', () => {
    assert.throws(
      () =>
        spec.check('/collections', 'get', 200, { result: { collections: [{ title: 'x' }] }, status: 'ok', time: 0 }),
      /does not match/,
    );
    assert.throws(
      () =>
        spec.check('/collections/{collection_name}/points/scroll', 'post', 200, {
          result: { points: [{ id: -1 }] },
          status: 'ok',
          time: 0,
        }),
      /does not match/,
    );
    assert.throws(
      () => spec.check('/collections/{collection_name}', 'get', 404, { status: { error: 5 }, time: 0 }),
      /does not match/,
    );
  });
});

describe('responses match openapi-1.19.json', () => {
  const c = 'oa-plain';
  const named = 'oa-named';

  test('service and collection endpoints', async () => {
    const root = await call('GET', '/', {});
    assert.equal(root.body.title, 'qdrant - vector search engine');

    assert.equal(
      (
        await call(
          'PUT',
          '/collections/{collection_name}',
          { collection_name: c },
          { body: { vectors: { size: 4, distance: 'Cosine' } } },
        )
      ).body.result,
      true,
    );
    const dup = await call(
      'PUT',
      '/collections/{collection_name}',
      { collection_name: c },
      { body: { vectors: { size: 4, distance: 'Cosine' } } },
    );
    assert.equal(dup.status, 409);
    assert.equal(dup.body.status.error, `Wrong input: Collection \`${c}\` already exists!`);
    const zero = await call(
      'PUT',
      '/collections/{collection_name}',
      { collection_name: 'oa-zero' },
      { body: { vectors: { size: 0, distance: 'Cosine' } } },
    );
    assert.equal(zero.status, 422);
    const badDist = await call(
      'PUT',
      '/collections/{collection_name}',
      { collection_name: 'oa-bad' },
      { body: { vectors: { size: 4, distance: 'Cosinus' } } },
    );
    assert.equal(badDist.status, 400);
    assert.match(badDist.body.status.error, /Format error in JSON body: unknown variant `Cosinus`/);

    await call(
      'PUT',
      '/collections/{collection_name}',
      { collection_name: named },
      {
        body: {
          vectors: { text: { size: 3, distance: 'Dot' }, image: { size: 2, distance: 'Euclid', on_disk: true } },
          hnsw_config: { m: 32 },
        },
      },
    );
    const info = await call('GET', '/collections/{collection_name}', { collection_name: named });
    assert.deepEqual(info.body.result.config.params.vectors, {
      text: { size: 3, distance: 'Dot' },
      image: { size: 2, distance: 'Euclid', on_disk: true },
    });
    assert.equal(info.body.result.config.hnsw_config.m, 32);

    const list = await call('GET', '/collections', {});
    assert.deepEqual(
      list.body.result.collections.map((x: { name: string }) => x.name).filter((n: string) => n.startsWith('oa-')),
      [named, c],
    );
    assert.deepEqual((await call('GET', '/collections/{collection_name}/exists', { collection_name: c })).body.result, {
      exists: true,
    });
    assert.deepEqual(
      (await call('GET', '/collections/{collection_name}/exists', { collection_name: 'oa-nope' })).body.result,
      { exists: false },
    );
    const missing = await call('GET', '/collections/{collection_name}', { collection_name: 'oa-nope' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.status.error, "Not found: Collection `oa-nope` doesn't exist!");
  });

  test('points: upsert (list and batch), retrieve, get, scroll, count, query', async () => {
    const up = await call(
      'PUT',
      '/collections/{collection_name}/points',
      { collection_name: c },
      {
        query: { wait: 'true' },
        body: {
          points: [
            { id: 1, vector: [1, 0, 0, 0], payload: { city: 'Berlin', n: { deep: [1, 2] } } },
            { id: '0d3f1a52-3a8c-4fd2-9c39-2f1e3b1a7c11', vector: [0, 1, 0, 0] },
          ],
        },
      },
    );
    assert.deepEqual(up.body.result, { operation_id: 1, status: 'completed' });
    const batch = await call(
      'PUT',
      '/collections/{collection_name}/points',
      { collection_name: c },
      {
        body: {
          batch: {
            ids: [2, 3, 4],
            vectors: [
              [0, 0, 1, 0],
              [0, 0, 0, 1],
              [1, 1, 0, 0],
            ],
            payloads: [{ a: 1 }, null, { b: [true, null] }],
          },
        },
      },
    );
    assert.equal(batch.body.result.status, 'acknowledged');
    const named1 = await call(
      'PUT',
      '/collections/{collection_name}/points',
      { collection_name: named },
      {
        query: { wait: 'true' },
        body: {
          points: [
            { id: 7, vector: { text: [1, 2, 3], image: [0.5, 0.25] }, payload: { t: 'x' } },
            { id: 8, vector: { text: [3, 2, 1] } },
          ],
        },
      },
    );
    assert.equal(named1.status, 200, JSON.stringify(named1.body));

    const dim = await call(
      'PUT',
      '/collections/{collection_name}/points',
      { collection_name: c },
      { body: { points: [{ id: 9, vector: [1, 2, 3] }] } },
    );
    assert.equal(dim.status, 400);
    assert.equal(dim.body.status.error, 'Wrong input: Vector dimension error: expected dim: 4, got 3');
    const noCol = await call(
      'PUT',
      '/collections/{collection_name}/points',
      { collection_name: 'oa-nope' },
      { body: { points: [{ id: 9, vector: [1, 2, 3] }] } },
    );
    assert.equal(noCol.status, 404);

    const got = await call(
      'POST',
      '/collections/{collection_name}/points',
      { collection_name: c },
      { body: { ids: [1, 4, 99], with_vector: true } },
    );
    assert.deepEqual(
      got.body.result.map((r: { id: number }) => r.id),
      [1, 4],
    );
    const one = await call('GET', '/collections/{collection_name}/points/{id}', { collection_name: named, id: 7 });
    assert.deepEqual(one.body.result.vector, { text: [1, 2, 3], image: [0.5, 0.25] });
    const none = await call('GET', '/collections/{collection_name}/points/{id}', { collection_name: c, id: 12345 });
    assert.equal(none.status, 404);

    const page1 = await call(
      'POST',
      '/collections/{collection_name}/points/scroll',
      { collection_name: c },
      { body: { limit: 2, with_vector: true } },
    );
    assert.deepEqual(
      page1.body.result.points.map((p: { id: unknown }) => p.id),
      [1, 2],
    );
    assert.equal(page1.body.result.next_page_offset, 3);
    const last = await call(
      'POST',
      '/collections/{collection_name}/points/scroll',
      { collection_name: c },
      { body: { limit: 10, offset: 3 } },
    );
    assert.deepEqual(
      last.body.result.points.map((p: { id: unknown }) => p.id),
      [3, 4, '0d3f1a52-3a8c-4fd2-9c39-2f1e3b1a7c11'],
    );
    assert.equal(last.body.result.next_page_offset, null);
    const namedScroll = await call(
      'POST',
      '/collections/{collection_name}/points/scroll',
      { collection_name: named },
      { body: { with_vector: true } },
    );
    assert.equal(namedScroll.status, 200);

    assert.deepEqual(
      (
        await call(
          'POST',
          '/collections/{collection_name}/points/count',
          { collection_name: c },
          { body: { exact: true } },
        )
      ).body.result,
      { count: 5 },
    );
    const q = await call(
      'POST',
      '/collections/{collection_name}/points/query',
      { collection_name: c },
      { body: { query: [1, 0.1, 0, 0], limit: 2, with_payload: true } },
    );
    assert.deepEqual(
      q.body.result.points.map((p: { id: unknown }) => p.id),
      [1, 4],
    );
    const qn = await call(
      'POST',
      '/collections/{collection_name}/points/query',
      { collection_name: named },
      { body: { query: { nearest: [0.5, 0.25] }, using: 'image' } },
    );
    assert.deepEqual(
      qn.body.result.points.map((p: { id: unknown }) => p.id),
      [7],
    );
    const qdim = await call(
      'POST',
      '/collections/{collection_name}/points/query',
      { collection_name: named },
      { body: { query: [1, 2], using: 'text' } },
    );
    assert.equal(qdim.status, 400);
  });

  test('aliases', async () => {
    const r = await call(
      'POST',
      '/collections/aliases',
      {},
      { body: { actions: [{ create_alias: { collection_name: c, alias_name: 'oa-live' } }] } },
    );
    assert.equal(r.body.result, true);
    await call(
      'POST',
      '/collections/aliases',
      {},
      { body: { actions: [{ rename_alias: { old_alias_name: 'oa-live', new_alias_name: 'oa-current' } }] } },
    );
    const perCol = await call('GET', '/collections/{collection_name}/aliases', { collection_name: c });
    assert.deepEqual(perCol.body.result, { aliases: [{ alias_name: 'oa-current', collection_name: c }] });
    const all = await call('GET', '/aliases', {});
    assert.ok(all.body.result.aliases.some((a: { alias_name: string }) => a.alias_name === 'oa-current'));
    const bad = await call(
      'POST',
      '/collections/aliases',
      {},
      { body: { actions: [{ create_alias: { collection_name: 'oa-nope', alias_name: 'x' } }] } },
    );
    assert.equal(bad.status, 404);
    const badRename = await call(
      'POST',
      '/collections/aliases',
      {},
      { body: { actions: [{ rename_alias: { old_alias_name: 'oa-ghost', new_alias_name: 'y' } }] } },
    );
    assert.equal(badRename.status, 404);
  });

  test('snapshots: create, list, download, upload, recover, delete', async () => {
    const created = await call(
      'POST',
      '/collections/{collection_name}/snapshots',
      { collection_name: c },
      { query: { wait: 'true' } },
    );
    const snap = created.body.result;
    assert.match(snap.name, new RegExp(`^${c}-\\d+-\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}(-\\d+)?\\.snapshot$`));
    assert.match(snap.checksum, /^[0-9a-f]{64}$/);
    const accepted = await call(
      'POST',
      '/collections/{collection_name}/snapshots',
      { collection_name: named },
      { query: { wait: 'false' } },
    );
    assert.equal(accepted.status, 202);
    const listed = await call('GET', '/collections/{collection_name}/snapshots', { collection_name: c });
    assert.deepEqual(
      listed.body.result.map((s: { name: string }) => s.name),
      [snap.name],
    );
    assert.equal(listed.body.result[0].checksum, snap.checksum);

    const res = await fetch(new URL(`/collections/${c}/snapshots/${snap.name}`, srv.url));
    assert.equal(res.status, 200);
    assert.ok(
      spec
        .contentTypes('/collections/{collection_name}/snapshots/{snapshot_name}', 'get', 200)
        .includes(res.headers.get('content-type')!),
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.length, snap.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), snap.checksum);
    const nosnap = await call('GET', '/collections/{collection_name}/snapshots/{snapshot_name}', {
      collection_name: c,
      snapshot_name: 'nope.snapshot',
    });
    assert.equal(nosnap.status, 404);

    const form = () => {
      const f = new FormData();
      f.append('snapshot', new Blob([bytes]), 'upload.snapshot');
      return f;
    };
    const wrong = await call(
      'POST',
      '/collections/{collection_name}/snapshots/upload',
      { collection_name: 'oa-up' },
      { query: { priority: 'snapshot', checksum: 'ab'.repeat(32) }, form: form() },
    );
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.status.error, `Checksum mismatch: expected ${snap.checksum}, actual ${'ab'.repeat(32)}`);
    assert.equal(
      (await call('GET', '/collections/{collection_name}/exists', { collection_name: 'oa-up' })).body.result.exists,
      false,
    );
    const up = await call(
      'POST',
      '/collections/{collection_name}/snapshots/upload',
      { collection_name: 'oa-up' },
      { query: { priority: 'snapshot', checksum: snap.checksum }, form: form() },
    );
    assert.equal(up.body.result, true);
    assert.equal(
      (await call('POST', '/collections/{collection_name}/points/count', { collection_name: 'oa-up' }, { body: {} }))
        .body.result.count,
      5,
    );

    const file = path.join(dir, 'copy.snapshot');
    writeFileSync(file, bytes);
    const rec = await call(
      'PUT',
      '/collections/{collection_name}/snapshots/recover',
      { collection_name: 'oa-rec' },
      { body: { location: pathToFileURL(file).href, priority: 'snapshot', checksum: snap.checksum } },
    );
    assert.equal(rec.body.result, true);
    const recHttp = await call(
      'PUT',
      '/collections/{collection_name}/snapshots/recover',
      { collection_name: 'oa-rec-http' },
      { body: { location: `${srv.url}/collections/${c}/snapshots/${snap.name}` } },
    );
    assert.equal(recHttp.body.result, true);
    const recBad = await call(
      'PUT',
      '/collections/{collection_name}/snapshots/recover',
      { collection_name: 'oa-rec2' },
      { body: { location: pathToFileURL(file).href, checksum: '00'.repeat(32) } },
    );
    assert.equal(recBad.status, 400);
    assert.equal(
      recBad.body.status.error,
      `Wrong input: Snapshot checksum mismatch: expected ${'00'.repeat(32)}, got ${snap.checksum}`,
    );

    const del = await call('DELETE', '/collections/{collection_name}/snapshots/{snapshot_name}', {
      collection_name: c,
      snapshot_name: snap.name,
    });
    assert.equal(del.body.result, true);
    assert.equal(
      (
        await call('DELETE', '/collections/{collection_name}/snapshots/{snapshot_name}', {
          collection_name: c,
          snapshot_name: snap.name,
        })
      ).status,
      404,
    );
  });

  test('delete collection', async () => {
    assert.equal(
      (await call('DELETE', '/collections/{collection_name}', { collection_name: 'oa-rec' })).body.result,
      true,
    );
    assert.equal(
      (await call('DELETE', '/collections/{collection_name}', { collection_name: 'oa-rec' })).body.result,
      false,
    );
    assert.equal((await call('GET', '/collections/{collection_name}', { collection_name: 'oa-rec' })).status, 404);
  });
});
