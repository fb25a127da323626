import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { QdrantClient } from '@qdrant/js-client-rest';
import { scratchDir } from '../harness/env';
import { startQdrantServer, type RunningQdrantServer } from './index';

/** The stand-in driven through @qdrant/js-client-rest, the client Lifeboat uses. */
let srv: RunningQdrantServer;
let client: QdrantClient;
let dataDir: string;

async function restart(): Promise<void> {
  await srv.stop();
  srv = await startQdrantServer({ dataDir, port: srv.port });
  client = new QdrantClient({ url: srv.url, checkCompatibility: false });
}

/** The status and Qdrant error text of a failed client call. */
async function failure(p: Promise<unknown>): Promise<{ status: number; error: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { status?: number; data?: { status?: { error?: string } } };
    return { status: err.status ?? -1, error: err.data?.status?.error ?? String(e) };
  }
  assert.fail('expected the call to fail');
}

async function scrollAll(name: string, limit = 100) {
  const out: { id: string | number; vector?: unknown; payload?: unknown }[] = [];
  let offset: string | number | undefined | null = undefined;
  do {
    const page: Awaited<ReturnType<QdrantClient['scroll']>> = await client.scroll(name, {
      limit,
      offset: offset ?? undefined,
      with_vector: true,
      with_payload: true,
    });
    out.push(...(page.points as typeof out));
    offset = page.next_page_offset as string | number | null | undefined;
  } while (offset !== null && offset !== undefined);
  return out;
}

before(async () => {
  dataDir = path.join(scratchDir('qdrant-behaviour'), 'data');
  srv = await startQdrantServer({ dataDir });
  client = new QdrantClient({ url: srv.url, checkCompatibility: false });
});
after(async () => {
  await srv?.stop();
});

describe('qdrant stand-in behaviour', () => {
  test('collections, points, aliases and snapshots survive a restart (and a torn WAL tail)', async () => {
    await client.createCollection('persist', {
      vectors: { a: { size: 3, distance: 'Dot' }, b: { size: 2, distance: 'Euclid' } },
    });
    await client.upsert('persist', {
      wait: true,
      points: [{ id: 1, vector: { a: [0.1, 0.2, 0.3], b: [1, 2] }, payload: { k: { nested: ['x', 1, null] } } }],
    });
    await client.upsert('persist', {
      wait: true,
      points: [{ id: 'c9a3a8a4-5c55-4bde-9e76-7b8d1a2f2c30', vector: { a: [1 / 3, 2, 3] } }],
    });
    await client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: 'persist', alias_name: 'persist-live' } }],
    });
    const snap = await client.createSnapshot('persist');
    const before = await scrollAll('persist');
    const infoBefore = await client.getCollection('persist');

    await srv.stop();
    appendFileSync(path.join(dataDir, 'collections', 'persist', 'wal.ndjson'), '{"op":"upsert","opId":9,"poi');
    await restart();

    assert.deepEqual(await scrollAll('persist'), before);
    assert.deepEqual((await client.getCollection('persist')).config, infoBefore.config);
    assert.deepEqual(await client.getAliases(), {
      aliases: [{ alias_name: 'persist-live', collection_name: 'persist' }],
    });
    const snaps = await client.listSnapshots('persist');
    assert.deepEqual(
      snaps.map((s) => [s.name, s.checksum, s.size]),
      [[snap!.name, snap!.checksum, snap!.size]],
    );
    // After the restart, writes continue with fresh operation ids.
    const r = await client.upsert('persist', { wait: true, points: [{ id: 2, vector: { b: [0, 0] } }] });
    assert.ok(r.operation_id! > 2);
  });

  test('scroll walks every point once, in Qdrant id order (integers, then UUIDs), across pages', async () => {
    await client.createCollection('order', { vectors: { size: 2, distance: 'Dot' } });
    const ids: (number | string)[] = [];
    for (let i = 0; i < 600; i++) ids.push((i * 7919) % 1000);
    for (let i = 0; i < 150; i++)
      ids.push(`${i.toString(16).padStart(8, '0')}-0000-4000-8000-${(999 - i).toString(16).padStart(12, '0')}`);
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 128) {
      await client.upsert('order', {
        wait: true,
        points: unique.slice(i, i + 128).map((id, j) => ({ id, vector: [i + j, 1] })),
      });
    }
    const seen = (await scrollAll('order', 37)).map((p) => p.id);
    const expected = [
      ...unique.filter((x) => typeof x === 'number').sort((a, b) => (a as number) - (b as number)),
      ...unique.filter((x) => typeof x === 'string').sort(),
    ];
    assert.deepEqual(seen, expected);
    assert.equal((await client.count('order', { exact: true })).count, unique.length);
  });

  test('vectors are stored as float32 and Cosine vectors are normalised, like Qdrant', async () => {
    await client.createCollection('f32', { vectors: { size: 2, distance: 'Dot' } });
    await client.createCollection('cos', { vectors: { size: 2, distance: 'Cosine' } });
    await client.upsert('f32', { wait: true, points: [{ id: 1, vector: [0.1, 1 / 3] }] });
    await client.upsert('cos', { wait: true, points: [{ id: 1, vector: [3, 4] }] });
    assert.deepEqual((await client.retrieve('f32', { ids: [1], with_vector: true }))[0].vector, [0.1, 0.33333334]);
    assert.deepEqual((await client.retrieve('cos', { ids: [1], with_vector: true }))[0].vector, [0.6, 0.8]);
    // Writing a read-back unit vector again does not change it.
    await client.upsert('cos', { wait: true, points: [{ id: 2, vector: [0.6, 0.8] }] });
    assert.deepEqual((await client.retrieve('cos', { ids: [2], with_vector: true }))[0].vector, [0.6, 0.8]);
  });

  test('a batch with one bad point changes nothing, and names the dimensions', async () => {
    await client.createCollection('atomic', { vectors: { size: 3, distance: 'Dot' } });
    await client.upsert('atomic', { wait: true, points: [{ id: 1, vector: [1, 2, 3], payload: { v: 1 } }] });
    const f = await failure(
      client.upsert('atomic', {
        wait: true,
        points: [
          { id: 1, vector: [9, 9, 9], payload: { v: 2 } },
          { id: 2, vector: [1, 2] },
        ],
      }),
    );
    assert.deepEqual(f, { status: 400, error: 'Wrong input: Vector dimension error: expected dim: 3, got 2' });
    assert.deepEqual(await scrollAll('atomic'), [{ id: 1, vector: [1, 2, 3], payload: { v: 1 } }]);
    const unknown = await failure(
      client.upsert('atomic', { wait: true, points: [{ id: 3, vector: { nope: [1, 2, 3] } }] }),
    );
    assert.deepEqual(unknown, { status: 400, error: 'Wrong input: Not existing vector name error: nope' });
  });

  test('alias changes are all-or-nothing; aliases resolve for reads and writes and go with their collection', async () => {
    await client.createCollection('al-a', { vectors: { size: 2, distance: 'Dot' } });
    await client.createCollection('al-b', { vectors: { size: 2, distance: 'Dot' } });
    await client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: 'al-a', alias_name: 'al-live' } }],
    });
    const f = await failure(
      client.updateCollectionAliases({
        actions: [
          { delete_alias: { alias_name: 'al-live' } },
          { create_alias: { collection_name: 'al-b', alias_name: 'al-live' } },
          { rename_alias: { old_alias_name: 'al-ghost', new_alias_name: 'x' } },
        ],
      }),
    );
    assert.deepEqual(f, { status: 404, error: 'Not found: Alias al-ghost does not exists!' });
    assert.deepEqual(await client.getCollectionAliases('al-a'), {
      aliases: [{ alias_name: 'al-live', collection_name: 'al-a' }],
    });

    await client.upsert('al-live', { wait: true, points: [{ id: 5, vector: [1, 1] }] });
    assert.equal((await client.count('al-a')).count, 1);
    assert.equal((await client.getCollection('al-live')).points_count, 1);
    assert.deepEqual(await client.collectionExists('al-live'), { exists: true });

    // The atomic switch Lifeboat uses: delete + create in one request.
    await client.updateCollectionAliases({
      actions: [
        { delete_alias: { alias_name: 'al-live' } },
        { create_alias: { collection_name: 'al-b', alias_name: 'al-live' } },
      ],
    });
    assert.equal((await client.count('al-live')).count, 0);
    const clash = await failure(
      client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: 'al-a', alias_name: 'al-b' } }] }),
    );
    assert.equal(clash.status, 409);
    await client.deleteCollection('al-b');
    assert.deepEqual(await client.collectionExists('al-live'), { exists: false });
    assert.deepEqual(
      (await client.getAliases()).aliases.filter((a) => a.alias_name === 'al-live'),
      [],
    );
  });

  test('recovering a snapshot into a collection with other vectors is refused and changes nothing', async () => {
    await client.createCollection('snap-src', { vectors: { size: 4, distance: 'Cosine' } });
    await client.upsert('snap-src', { wait: true, points: [{ id: 1, vector: [1, 0, 0, 0] }] });
    await client.createCollection('snap-dst', { vectors: { size: 3, distance: 'Cosine' } });
    await client.upsert('snap-dst', { wait: true, points: [{ id: 9, vector: [0, 1, 0] }] });
    const snap = (await client.createSnapshot('snap-src'))!;
    const location = `${srv.url}/collections/snap-src/snapshots/${snap.name}`;
    const f = await failure(client.recoverSnapshot('snap-dst', { location, priority: 'snapshot' }));
    assert.equal(f.status, 400);
    assert.match(
      f.error,
      /^Wrong input: Snapshot is not compatible with existing collection: Collection vectors: \{"size":3,"distance":"Cosine"\} Snapshot Vectors: \{"size":4,"distance":"Cosine"\}$/,
    );
    assert.deepEqual(await scrollAll('snap-dst'), [{ id: 9, vector: [0, 1, 0], payload: {} }]);
    // Into a compatible existing collection, the snapshot's points replace the old ones.
    await client.createCollection('snap-same', { vectors: { size: 4, distance: 'Cosine' } });
    await client.upsert('snap-same', { wait: true, points: [{ id: 77, vector: [0, 0, 0, 1] }] });
    assert.equal(await client.recoverSnapshot('snap-same', { location, priority: 'snapshot' }), true);
    assert.deepEqual(await scrollAll('snap-same'), [{ id: 1, vector: [1, 0, 0, 0], payload: {} }]);
  });

  test('query ranks exactly by each distance', async () => {
    const pts = Array.from({ length: 60 }, (_, i) => ({
      id: i,
      vector: [Math.sin(i), Math.cos(i * 1.3), (i % 7) / 7],
    }));
    const q = [0.3, -0.2, 0.5];
    const f32 = (v: number[]) => v.map((x) => Math.fround(x));
    const metrics = {
      Dot: (v: number[]) => -v.reduce((s, x, i) => s + x * q[i], 0),
      Euclid: (v: number[]) => Math.hypot(...v.map((x, i) => x - q[i])),
      Manhattan: (v: number[]) => v.reduce((s, x, i) => s + Math.abs(x - q[i]), 0),
    } as const;
    for (const [distance, key] of Object.entries(metrics)) {
      const name = `rank-${distance.toLowerCase()}`;
      await client.createCollection(name, { vectors: { size: 3, distance: distance as 'Dot' } });
      await client.upsert(name, { wait: true, points: pts });
      const expected = [...pts]
        .sort((a, b) => key(f32(a.vector)) - key(f32(b.vector)))
        .slice(0, 5)
        .map((p) => p.id);
      const res = await client.query(name, { query: q, limit: 5 });
      assert.deepEqual(
        res.points.map((p) => p.id),
        expected,
        distance,
      );
    }
  });

  test('errors reach the client with Qdrant status codes and messages', async () => {
    assert.deepEqual(await failure(client.getCollection('nowhere')), {
      status: 404,
      error: "Not found: Collection `nowhere` doesn't exist!",
    });
    assert.deepEqual(await failure(client.scroll('nowhere')), {
      status: 404,
      error: "Not found: Collection `nowhere` doesn't exist!",
    });
    assert.equal(
      (await failure(client.createCollection('bad/name', { vectors: { size: 2, distance: 'Dot' } }))).status,
      422,
    );
    assert.equal(await client.deleteCollection('nowhere'), false);
  });
});
