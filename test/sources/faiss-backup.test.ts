import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  backupFaiss,
  backupFaissFile,
  compareProbes,
  FaissCancelledError,
  FaissCorruptFileError,
  FaissFileChangedError,
  FaissFileNotFoundError,
  FaissInvalidPathError,
  FaissLoadError,
  FaissProbeTimeoutError,
  faissFingerprintFromBackup,
  fingerprintFaiss,
  isRetryableFaissError,
  runFaissProbes,
  type FaissBackupInfo,
} from '../../sources/faiss';
import type { SourceProgress } from '../../sources/types';
import { scratchDir } from '../harness/env';
import {
  buildFixtures,
  drainTo,
  flatBomb,
  IDMAP_IDS,
  lshBomb,
  sha256,
  sha256File,
  type Fixture,
} from './faiss-fixtures';

let dir: string;
let fixtures: Fixture[];

before(() => {
  dir = scratchDir('faiss-backup');
  fixtures = buildFixtures(dir);
});

/** Backs a file up into an "artifact" file, as the repository would store it. */
async function backupToFile(file: string, artifact: string, opts = {}): Promise<FaissBackupInfo> {
  const b = await backupFaissFile(file, opts);
  await drainTo(b.stream, artifact);
  return b.done;
}

describe('FAISS backup of one file', () => {
  test('every index type: streamed bytes are the file, facts recorded, probes run in a child', async () => {
    for (const fx of fixtures) {
      const progress: SourceProgress[] = [];
      const artifact = path.join(dir, `${path.basename(fx.file)}.artifact`);
      const info = await backupToFile(fx.file, artifact, { onProgress: (p: SourceProgress) => progress.push(p) });
      const bytes = readFileSync(fx.file);
      assert.ok(readFileSync(artifact).equals(bytes), `${fx.name}: streamed bytes equal the file`);
      assert.equal(info.sha256, sha256(bytes));
      assert.equal(info.size, bytes.length);
      assert.equal(info.header.fourcc, fx.fourcc);
      assert.equal(info.header.d, fx.d);
      assert.equal(info.header.ntotal, fx.ntotal);
      assert.equal(info.header.metric, fx.metric);
      assert.deepEqual(info.structure.chain, fx.chain);
      assert.ok(!Number.isNaN(Date.parse(info.mtime)));
      assert.equal(progress.at(-1)?.bytes, bytes.length);
      assert.equal(progress.at(-1)?.items, fx.ntotal);

      assert.equal(info.probes.status, 'ok', fx.name);
      if (info.probes.status !== 'ok') continue;
      assert.equal(info.probes.d, fx.d);
      assert.equal(info.probes.ntotal, fx.ntotal);
      assert.equal(info.probes.labels.length, 8);
      assert.ok(info.probes.labels.every((l) => l.length === 10));
      const valid = new Set(fx.ids ?? Array.from({ length: fx.ntotal }, (_, i) => i));
      assert.ok(
        info.probes.labels.flat().every((l) => valid.has(l)),
        `${fx.name}: every neighbour is a real id of the index`,
      );
      if (fx.ids)
        assert.ok(
          info.probes.labels.flat().every((l) => l >= IDMAP_IDS[0]),
          'IDMap answers with its own ids',
        );
      // Distances come sorted (ascending for L2/Lp, descending for inner product).
      const row = info.probes.distances[0];
      const sorted = [...row].sort((a, b) => (fx.metric === 'INNER_PRODUCT' ? b - a : a - b));
      assert.deepEqual(row, sorted);
    }
  });

  test('probes are deterministic: a second backup gives equal probe results', async () => {
    const hnsw = fixtures.find((f) => f.fourcc === 'IHNf')!;
    const a = await backupToFile(hnsw.file, path.join(dir, 'p1.artifact'));
    const b = await backupToFile(hnsw.file, path.join(dir, 'p2.artifact'));
    assert.deepEqual(compareProbes(a.probes, b.probes), { equal: true, differences: [] });
    // And a different index (Flat IP vs HNSW L2 over the same vectors) does not compare equal.
    const ip = await backupToFile(fixtures.find((f) => f.fourcc === 'IxFI')!.file, path.join(dir, 'p3.artifact'));
    assert.equal(compareProbes(a.probes, ip.probes)?.equal, false);
  });

  test('files above maxProbeBytes are not loaded; the skip is recorded', async () => {
    const info = await backupToFile(fixtures[0].file, path.join(dir, 'skip.artifact'), { maxProbeBytes: 1000 });
    assert.equal(info.probes.status, 'skipped');
    assert.match(info.probes.status === 'skipped' ? info.probes.reason : '', /above maxProbeBytes \(1000 B\)/);
  });

  test('fingerprint of the file equals the one derived from the backup', async () => {
    const fx = fixtures.find((f) => f.fourcc === 'IwFl')!;
    const info = await backupToFile(fx.file, path.join(dir, 'fp.artifact'));
    const fp = await fingerprintFaiss(fx.file);
    assert.deepEqual(fp, faissFingerprintFromBackup(info));
    assert.deepEqual(fp.counts, { '.': fx.ntotal });
    assert.equal(fp.digests['.'], sha256File(fx.file));
  });
});

describe('FAISS backup of a directory', () => {
  test('one stream per index file, recursively, in path order; other and Lifeboat files skipped', async () => {
    const root = path.join(dir, 'tree');
    mkdirSync(path.join(root, 'tenant-b'), { recursive: true });
    copyFileSync(fixtures[0].file, path.join(root, 'main.index'));
    copyFileSync(fixtures.find((f) => f.fourcc === 'IHNf')!.file, path.join(root, 'tenant-b', 'hnsw.faiss'));
    writeFileSync(path.join(root, 'README.txt'), 'not an index');
    copyFileSync(fixtures[0].file, path.join(root, '.main.index.lifeboat-tmp-abc'));
    const b = await backupFaiss({ path: root });
    assert.equal(b.kind, 'directory');
    if (b.kind !== 'directory') return;
    const seen: { relativePath: string; info: FaissBackupInfo }[] = [];
    for await (const e of b.files) {
      const artifact = path.join(dir, `dir-${seen.length}.artifact`);
      await drainTo(e.backup.stream, artifact);
      const info = await e.backup.done;
      assert.equal(info.sha256, sha256File(path.join(root, e.relativePath)));
      assert.ok(readFileSync(artifact).equals(readFileSync(path.join(root, e.relativePath))));
      seen.push({ relativePath: e.relativePath, info });
    }
    assert.deepEqual(
      seen.map((s) => s.relativePath),
      ['main.index', 'tenant-b/hnsw.faiss'],
    );
    assert.deepEqual(await fingerprintFaiss(root), faissFingerprintFromBackup(seen));
  });

  test('a folder without index files is an error, not an empty backup', async () => {
    const empty = path.join(dir, 'empty-dir');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'notes.txt'), 'x');
    const b = await backupFaiss({ path: empty });
    assert.equal(b.kind, 'directory');
    if (b.kind !== 'directory') return;
    await assert.rejects(
      b.files.next(),
      (e: unknown) =>
        e instanceof FaissInvalidPathError && e.message.includes(empty) && /no index files/.test(e.message),
    );
  });
});

describe('FAISS backup: bad input fails clearly and streams nothing', () => {
  test('missing file and missing folder', async () => {
    const missing = path.join(dir, 'gone.index');
    await assert.rejects(
      backupFaiss({ path: missing }),
      (e: unknown) => e instanceof FaissFileNotFoundError && e.path === missing && e.code === 'FAISS_FILE_NOT_FOUND',
    );
    await assert.rejects(backupFaissFile(path.join(dir, 'no-dir', 'x.index')), FaissFileNotFoundError);
    assert.equal(isRetryableFaissError(new FaissFileNotFoundError(missing)), false);
  });

  test('truncated and corrupted files are refused before any byte is streamed', async () => {
    const flat = readFileSync(fixtures[0].file);
    const truncated = path.join(dir, 'bk-truncated.index');
    writeFileSync(truncated, flat.subarray(0, flat.length - 100));
    await assert.rejects(
      backupFaissFile(truncated),
      (e: unknown) => e instanceof FaissCorruptFileError && e.kind === 'truncated' && e.message.includes(truncated),
    );
    const bomb = path.join(dir, 'bk-bomb.index');
    writeFileSync(bomb, flatBomb(flat));
    await assert.rejects(
      backupFaissFile(bomb),
      (e: unknown) => e instanceof FaissCorruptFileError && e.kind === 'inconsistent',
    );
  });
});

describe('FAISS sandbox: faiss crashes in the child, the worker survives', () => {
  test('a file that makes faiss abort gives FaissLoadError with the signal, and this process lives on', async () => {
    const bomb = path.join(dir, 'abort.index');
    writeFileSync(bomb, flatBomb(readFileSync(fixtures[0].file)));
    await assert.rejects(runFaissProbes(bomb), (e: unknown) => {
      assert.ok(e instanceof FaissLoadError, String(e));
      assert.equal(e.path, bomb);
      assert.equal(e.detail.signal, 'SIGABRT');
      assert.match(e.message, /killed by SIGABRT/);
      assert.match(e.message, /std::bad_alloc/, 'faiss stderr is included');
      assert.equal(e.code, 'FAISS_LOAD_CRASH');
      assert.equal(isRetryableFaissError(e), false);
      return true;
    });
    // Still here, and faiss still works in a fresh child.
    assert.equal((await runFaissProbes(fixtures[0].file)).status, 'ok');
  });

  test('backup of a type Lifeboat does not walk, crafted to crash faiss: stream fails, done rejects', async () => {
    const bomb = path.join(dir, 'lsh-bomb.index');
    writeFileSync(bomb, lshBomb(readFileSync(fixtures[0].file)));
    const b = await backupFaissFile(bomb);
    await assert.rejects(
      drainTo(b.stream, path.join(dir, 'lsh-bomb.artifact')).then(() => b.done),
      (e: unknown) => e instanceof FaissLoadError && e.detail.signal === 'SIGABRT',
    );
    await assert.rejects(b.done, FaissLoadError);
  });

  test("faiss refusing a file (no crash) is a FaissLoadError carrying faiss's message", async () => {
    // A structurally unchecked LSH file cut short: faiss throws a read error instead of aborting.
    const bomb = lshBomb(readFileSync(fixtures[0].file));
    bomb.writeBigUInt64LE(1000n, bomb.length - 8);
    const f = path.join(dir, 'lsh-short.index');
    writeFileSync(f, bomb);
    await assert.rejects(
      runFaissProbes(f),
      (e: unknown) => e instanceof FaissLoadError && !e.detail.signal && /read error/.test(e.detail.faissMessage ?? ''),
    );
  });

  test('while the child works, onAlive keeps firing (activities heartbeat through long loads)', async () => {
    let ticks = 0;
    const r = await runFaissProbes(fixtures.find((f) => f.fourcc === 'IHNf')!.file, {
      onAlive: () => ticks++,
      aliveIntervalMs: 20,
    });
    assert.equal(r.status, 'ok');
    assert.ok(ticks >= 3, `onAlive fired ${ticks} times during a load of several hundred ms`);
  });

  test('a probe over its time limit is stopped: FaissProbeTimeoutError, retryable', async () => {
    await assert.rejects(runFaissProbes(fixtures[0].file, { probeTimeoutMs: 5 }), (e: unknown) => {
      assert.ok(e instanceof FaissProbeTimeoutError);
      assert.ok(isRetryableFaissError(e));
      return true;
    });
  });
});

describe('FAISS backup: cancellation and a file changing underneath', () => {
  test('abort mid-stream: the stream errors with FaissCancelledError and done rejects', async () => {
    // A valid flat index of 200k zero vectors (12.8 MB): many 1 MiB reads.
    const big = path.join(dir, 'big.index');
    const header = Buffer.from(readFileSync(fixtures[0].file).subarray(0, 37));
    header.writeBigInt64LE(200_000n, 8);
    const count = Buffer.alloc(8);
    count.writeBigUInt64LE(BigInt(16 * 200_000));
    writeFileSync(big, Buffer.concat([header, count, Buffer.alloc(4 * 16 * 200_000)]));
    const ac = new AbortController();
    const b = await backupFaissFile(big, { signal: ac.signal });
    let chunks = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of b.stream) if (++chunks === 2) ac.abort();
      })(),
      FaissCancelledError,
    );
    await assert.rejects(b.done, FaissCancelledError);
  });

  test('a file appended to while it is backed up: FaissFileChangedError (retryable)', async () => {
    const f = path.join(dir, 'changing.index');
    copyFileSync(fixtures[0].file, f);
    const b = await backupFaissFile(f);
    await drainTo(b.stream, path.join(dir, 'changing.artifact'));
    appendFileSync(f, Buffer.alloc(64));
    await assert.rejects(
      b.done,
      (e: unknown) => e instanceof FaissFileChangedError && isRetryableFaissError(e) && e.message.includes(f),
    );
  });
});
