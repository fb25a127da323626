/**
 * The configured zstd level reaches the compressor: the same compressible
 * stream stored at levels 1 and 19 takes different room, and both restore.
 * (@mongodb-js/zstd 1.2.2's JS wrapper dropped the level, so every level was 3.)
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { initRepository, type Repository } from '../../repository';
import { FAST, MiB, TARGETS, collectBytes, fromBuffer } from './helpers';

/** Text-like bytes: words drawn from a small vocabulary with a deterministic generator (compressible, not trivially). */
function textLike(size: number): Buffer {
  const words = Array.from({ length: 4000 }, (_, i) =>
    createHash('sha1')
      .update(String(i))
      .digest('base64url')
      .slice(0, 3 + (i % 9)),
  );
  const out = Buffer.alloc(size);
  let x = 12345;
  let off = 0;
  while (off < size) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    off += out.write(`${words[(x >>> 8) % words.length]}${x % 13 === 0 ? '\n' : ' '}`, off);
  }
  return out;
}

describe('compression level', () => {
  const repos: Repository[] = [];
  after(async () => Promise.all(repos.map((r) => r.close())));
  const data = textLike(8 * MiB);

  test('levels 1 and 19 store the same stream in different sizes, both restore byte for byte', async () => {
    const stored: Record<number, number> = {};
    for (const level of [1, 19]) {
      const repo = await initRepository(TARGETS[0].location(`zstd-${level}`), 'pw', {
        ...FAST,
        compressionLevel: level,
      });
      repos.push(repo);
      const r = await repo.writeArtifact(fromBuffer(data), { source: 's', kind: 'k', name: 'text' });
      stored[level] = r.written.storedBytes;
      const back = await collectBytes(repo.readArtifact(r));
      assert.ok(back.equals(data), `level ${level}: restored bytes differ from the original`);
    }
    assert.ok(stored[1] < data.length, `level 1 did not compress (${stored[1]} bytes)`);
    // zstd -19 is ~10-30% smaller than -1 on text; equal sizes mean the level was dropped.
    assert.ok(
      stored[19] < stored[1] * 0.95,
      `level 19 stored ${stored[19]} bytes, level 1 ${stored[1]}: level ignored`,
    );
  });
});
