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

const TYPES = { config: 1, chunk: 2, index: 3, manifest: 4 } as const;

/** Section 5: the envelope. */
async function openEnvelope(dataKey: Buffer, name: string, blob: Buffer, type: number): Promise<Buffer> {
  assert.equal(blob.readUInt16BE(0), 0x4c42, `${name}: magic`);
  assert.equal(blob[2], 1, `${name}: version`);
  assert.equal(blob[3], type, `${name}: type`);
  const header = blob.subarray(0, 8);
  const d = createDecipheriv('aes-256-gcm', dataKey, blob.subarray(8, 20));
  d.setAAD(Buffer.concat([header, Buffer.from(name, 'utf8')]));
  d.setAuthTag(blob.subarray(blob.length - 16));
  const body = Buffer.concat([d.update(blob.subarray(20, blob.length - 16)), d.final()]);
  return blob[4] & 1 ? decompress(body) : body;
}

async function json(dataKey: Buffer, raw: RawStore, name: string, type: number): Promise<Record<string, unknown>> {
  const doc = JSON.parse((await openEnvelope(dataKey, name, await raw.get(name), type)).toString('utf8'));
  assert.equal(doc.v, 1);
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
      const rp = await repo.commitRecoveryPoint({ artifacts: [ra, { ...rb, metadata: { ntotal: 5 } }], tags: ['doc'] });

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
      ] as const) {
        // Section 8: the artifact index.
        const index = await json(keys.dataKey, raw, `artifacts/${art.indexId}`, TYPES.index);
        assert.equal(index.type, 'artifact-index');
        assert.equal(index.sha256, art.sha256);
        const chunks = index.chunks as [string, number][];
        assert.equal(chunks.length, art.chunks);
        // Section 11.4: read in order, authenticate, check HMAC id and length, then the whole sha256.
        const parts: Buffer[] = [];
        for (const [id, len] of chunks) {
          const name = `data/${id.slice(0, 2)}/${id}`;
          const plain = await openEnvelope(keys.dataKey, name, await raw.get(name), TYPES.chunk);
          assert.equal(createHmac('sha256', keys.idKey).update(plain).digest('hex'), id);
          assert.equal(plain.length, len);
          parts.push(plain);
        }
        const restored = Buffer.concat(parts);
        assert.equal(createHash('sha256').update(restored).digest('hex'), art.sha256);
        assert.deepEqual(restored, expected);
      }
    });
  });
}
