/**
 * An independent reader written from docs/repository-format.md alone: it uses
 * node:crypto, zstd and the raw objects (plain fs / S3 client), none of the
 * repository module's code, and restores a recovery point byte for byte. If the
 * document and the implementation drift apart, this fails.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac, scryptSync } from 'node:crypto';
import { decompress } from '@mongodb-js/zstd';
import { initRepository, type Repository } from '../../repository';
import { FAST, MiB, TARGETS, collectBytes, fromBuffer, randomStream, type RawStore } from './helpers';

const TYPES = { config: 1, chunk: 2, index: 3, manifest: 4, pack: 9, packIndex: 10 } as const;

/** Section 5: the envelope. */
async function openEnvelope(dataKey: Buffer, name: string, blob: Buffer, type: number): Promise<Buffer> {
  assert.equal(blob.readUInt16BE(0), 0x4c42, `${name}: magic`);
  // Version 2 only for packs, pack indexes and artifact indexes with runs (section 13).
  assert.ok(blob[2] === 1 || (blob[2] === 2 && [TYPES.pack, TYPES.packIndex, TYPES.index].includes(blob[3] as 9)));
  assert.equal(blob[3], type, `${name}: type`);
  const header = blob.subarray(0, 8);
  const d = createDecipheriv('aes-256-gcm', dataKey, blob.subarray(8, 20));
  d.setAAD(Buffer.concat([header, Buffer.from(name, 'utf8')]));
  d.setAuthTag(blob.subarray(blob.length - 16));
  const body = Buffer.concat([d.update(blob.subarray(20, blob.length - 16)), d.final()]);
  return blob[4] & 1 ? decompress(body) : body;
}

async function json(dataKey: Buffer, raw: RawStore, name: string, type: number): Promise<Record<string, unknown>> {
  const blob = await raw.get(name);
  const doc = JSON.parse((await openEnvelope(dataKey, name, blob, type)).toString('utf8'));
  assert.equal(doc.v, blob[2], `${name}: the document's v is the envelope's version`);
  return doc;
}

/** Section 4: key files. */
async function unlock(
  raw: RawStore,
  password: string,
): Promise<{ dataKey: Buffer; idKey: Buffer; repository: string }> {
  for (const name of await raw.list('keys/')) {
    const k = JSON.parse((await raw.get(name)).toString('utf8'));
    assert.equal(k.format, 'lifeboat-key');
    assert.equal(`keys/${k.id}`, name);
    const kek = scryptSync(password.normalize('NFC'), Buffer.from(k.kdf.salt, 'base64'), 32, {
      N: k.kdf.N,
      r: k.kdf.r,
      p: k.kdf.p,
      maxmem: 512 * 1024 * 1024,
    });
    const wrapped = Buffer.from(k.wrapped.data, 'base64');
    try {
      const d = createDecipheriv('aes-256-gcm', kek, Buffer.from(k.wrapped.nonce, 'base64'));
      d.setAAD(Buffer.from(`lifeboat-key/v1 ${k.repository} ${k.id}`, 'utf8'));
      d.setAuthTag(wrapped.subarray(wrapped.length - 16));
      const master = Buffer.concat([d.update(wrapped.subarray(0, wrapped.length - 16)), d.final()]);
      return { dataKey: master.subarray(0, 32), idKey: master.subarray(32, 64), repository: k.repository };
    } catch {
      // wrong password for this key file: try the next
    }
  }
  throw new Error('no key file opens with this password');
}

for (const target of TARGETS) {
  describe(`the format document is enough to read a repository on ${target.name}`, () => {
    const repos: Repository[] = [];
    after(async () => Promise.all(repos.map((r) => r.close())));

    test('a reader built from docs/repository-format.md restores a recovery point byte for byte', async () => {
      const loc = target.location('format');
      const repo = await initRepository(loc, 'doc-reader', FAST);
      repos.push(repo);
      const a = await collectBytes(randomStream(5 * MiB + 77, 'format-a'));
      const b = Buffer.from('compressible '.repeat(200_000));
      const ra = await repo.writeArtifact(fromBuffer(a), { source: 'redis', kind: 'redis-logical', name: 'db0' });
      const rb = await repo.writeArtifact(fromBuffer(b), { source: 'faiss', kind: 'faiss-index', name: 'x.faiss' });
      // Section 7.1: a record stream (small pieces become blobs in packs), with one big piece among them.
      const records: Buffer[] = [];
      for (let i = 0; i < 3000; i++) records.push(Buffer.from(`key:${i}=${'v'.repeat(i % 300)};`));
      records.splice(1500, 0, await collectBytes(randomStream(300 * 1024, 'format-big')));
      const c = Buffer.concat(records);
      const rc = await repo.writeArtifact(
        (async function* () {
          yield* records;
        })(),
        { source: 'redis', kind: 'redis-logical', name: 'groups' },
        { chunking: 'records' },
      );
      const rp = await repo.commitRecoveryPoint({
        artifacts: [ra, { ...rb, metadata: { ntotal: 5 } }, rc],
        tags: ['doc'],
      });

      const raw = target.raw(loc);
      const keys = await unlock(raw, 'doc-reader');
      const config = await json(keys.dataKey, raw, 'config', TYPES.config);
      assert.equal(config.type, 'config');
      assert.equal(config.id, keys.repository);
      assert.equal((config.chunker as { algorithm: string }).algorithm, 'fastcdc-gear32-v1');

      // Section 3: point ids sort by time; pick ours.
      const points = (await raw.list('points/')).map((n) => n.slice('points/'.length));
      assert.deepEqual(points, [rp.id]);
      assert.match(points[0], /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
      const manifest = await json(keys.dataKey, raw, `points/${points[0]}`, TYPES.manifest);
      assert.equal(manifest.type, 'recovery-point');
      assert.deepEqual(manifest.tags, ['doc']);
      const arts = manifest.artifacts as {
        indexId: string;
        sha256: string;
        size: number;
        chunks: number;
        name: string;
        metadata?: unknown;
      }[];
      assert.deepEqual(arts[1].metadata, { ntotal: 5 });

      for (const [art, expected] of [
        [arts[0], a],
        [arts[1], b],
        [arts[2], c],
      ] as const) {
        // Section 8: the artifact index.
        const index = await json(keys.dataKey, raw, `artifacts/${art.indexId}`, TYPES.index);
        assert.equal(index.type, 'artifact-index');
        assert.equal(index.sha256, art.sha256);
        const chunks = index.chunks as ([string, number] | [number, number, number, number])[];
        assert.equal(chunks.length, art.chunks);
        // Section 11.4: read in order, authenticate, check HMAC id and length, then the whole sha256.
        const parts: Buffer[] = [];
        let runs = 0;
        for (const entry of chunks) {
          if (typeof entry[0] === 'number') {
            // A run of pack blobs: the pack index, then the pack, every blob re-hashed.
            const [p, first, count, bytes] = entry as [number, number, number, number];
            const packId = (index.packs as string[])[p];
            const pidx = await json(keys.dataKey, raw, `data/packs/${packId}.idx`, TYPES.packIndex);
            assert.equal(pidx.type, 'pack-index');
            const blobs = pidx.blobs as [string, number, number][];
            const name = `data/packs/${packId}`;
            const pack = await openEnvelope(keys.dataKey, name, await raw.get(name), TYPES.pack);
            for (const [id, off, len] of blobs)
              assert.equal(
                createHmac('sha256', keys.idKey)
                  .update(pack.subarray(off, off + len))
                  .digest('hex'),
                id,
              );
            const start = blobs[first][1];
            const last = blobs[first + count - 1];
            assert.equal(last[1] + last[2] - start, bytes);
            parts.push(pack.subarray(start, last[1] + last[2]));
            runs++;
            continue;
          }
          const [id, len] = entry as [string, number];
          const name = `data/${id.slice(0, 2)}/${id}`;
          const plain = await openEnvelope(keys.dataKey, name, await raw.get(name), TYPES.chunk);
          assert.equal(createHmac('sha256', keys.idKey).update(plain).digest('hex'), id);
          assert.equal(plain.length, len);
          parts.push(plain);
        }
        assert.equal(runs > 0, art === arts[2], 'only the record stream has pack runs');
        const restored = Buffer.concat(parts);
        assert.equal(createHash('sha256').update(restored).digest('hex'), art.sha256);
        assert.deepEqual(restored, expected);
      }
    });
  });
}
