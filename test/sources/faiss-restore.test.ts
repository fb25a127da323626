import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  backupFaissFile,
  confirmFaissRestore,
  FaissCancelledError,
  FaissCorruptFileError,
  FaissDimensionMismatchError,
  FaissIntegrityError,
  FaissLoadError,
  FaissProbeMismatchError,
  FaissRestorePendingError,
  FaissTargetError,
  faissFingerprintFromBackup,
  fingerprintFaiss,
  inspectFaissFile,
  listPendingFaissRestores,
  restoreFaiss,
  rollbackFaissRestore,
  type FaissBackupInfo,
  type FaissExpected,
} from '../../sources/faiss';
import { scratchDir } from '../harness/env';
import { buildFixtures, buildFlat, drainTo, leftovers, lshBomb, sha256, type Fixture } from './faiss-fixtures';

let dir: string;
let fixtures: Fixture[];
/** Backup of each fixture: its artifact file (the repository stand-in) and recorded info. */
const backups = new Map<string, { artifact: string; info: FaissBackupInfo }>();

before(async () => {
  dir = scratchDir('faiss-restore');
  fixtures = buildFixtures(path.join(dir));
  for (const fx of fixtures) {
    const b = await backupFaissFile(fx.file);
    const artifact = `${fx.file}.artifact`;
    await drainTo(b.stream, artifact);
    backups.set(fx.name, { artifact, info: await b.done });
  }
});

const bk = (name: string) => backups.get(name)!;
const expectedOf = (info: FaissBackupInfo): FaissExpected => ({
  size: info.size,
  sha256: info.sha256,
  header: info.header,
  probes: info.probes,
});

/** A fresh target folder, optionally holding a current index file. */
function targetDir(label: string, current?: Buffer): { target: string; folder: string } {
  const folder = path.join(dir, `t-${label}`);
  mkdirSync(folder);
  const target = path.join(folder, 'vectors.index');
  if (current) writeFileSync(target, current);
  return { target, folder };
}

/** The folder holds exactly the target (and nothing Lifeboat left behind). */
function assertClean(folder: string, expected: string[] = ['vectors.index']): void {
  assert.deepEqual(readdirSync(folder).sort(), expected.sort());
  assert.deepEqual(leftovers(folder), []);
}

describe('FAISS restore round trip', () => {
  test('every index type: byte-identical file, same probe results, fingerprint equal to the backup', async () => {
    for (const fx of fixtures) {
      const { artifact, info } = bk(fx.name);
      const { target, folder } = targetDir(`rt-${fx.fourcc}`);
      const h = await restoreFaiss(createReadStream(artifact), { targetPath: target, expected: expectedOf(info) });
      assert.ok(readFileSync(target).equals(readFileSync(fx.file)), `${fx.name}: restored file is byte-identical`);
      assert.deepEqual(h.probeComparison, { equal: true, differences: [] }, fx.name);
      assert.equal(h.probes.status, 'ok');
      if (h.probes.status === 'ok' && info.probes.status === 'ok') {
        assert.deepEqual(h.probes.labels, info.probes.labels);
        assert.deepEqual(h.probes.distances, info.probes.distances);
      }
      assert.equal(h.previousPath, null);
      assert.deepEqual(await fingerprintFaiss(target), faissFingerprintFromBackup(info));
      assert.deepEqual(await listPendingFaissRestores(target), [h.restoreId]);
      assert.deepEqual(await h.confirm(), { restoreId: h.restoreId, targetPath: target, outcome: 'confirmed' });
      assert.deepEqual((await h.confirm()).outcome, 'none-pending', 'confirm is idempotent');
      assertClean(folder);
    }
  });

  test('the restored file gets the backed-up mode (restrictive 0600 when none was recorded)', async () => {
    const { artifact, info } = bk('Flat L2');
    const a = targetDir('mode-a');
    await (
      await restoreFaiss(createReadStream(artifact), {
        targetPath: a.target,
        expected: { ...expectedOf(info), mode: 0o640 },
      })
    ).confirm();
    assert.equal(statSync(a.target).mode & 0o777, 0o640);
    const b = targetDir('mode-b');
    await (
      await restoreFaiss(createReadStream(artifact), { targetPath: b.target, expected: expectedOf(info) })
    ).confirm();
    assert.equal(statSync(b.target).mode & 0o777, 0o600);
  });
});

describe('FAISS restore over an existing file: keep the previous until confirmed', () => {
  test('previous file kept beside the target, deleted on confirm', async () => {
    const original = path.join(dir, 'original.index');
    buildFlat(original);
    const before = readFileSync(original);
    const { target, folder } = targetDir('keep', before);
    const { artifact, info } = bk('HNSW32');
    const h = await restoreFaiss(createReadStream(artifact), { targetPath: target, expected: expectedOf(info) });
    assert.ok(readFileSync(target).equals(readFileSync(artifact)));
    assert.ok(h.previousPath && existsSync(h.previousPath));
    assert.ok(readFileSync(h.previousPath).equals(before), 'previous file kept byte for byte');
    assert.equal(path.dirname(h.previousPath), folder);
    await h.confirm();
    assert.equal(existsSync(h.previousPath), false);
    assertClean(folder);
  });

  test('rollback puts the original back byte for byte (same inode), idempotently', async () => {
    const original = path.join(dir, 'original-rb.index');
    buildFlat(original);
    const before = readFileSync(original);
    const { target, folder } = targetDir('rollback', before);
    chmodSync(target, 0o644);
    const ino = statSync(target).ino;
    const { artifact, info } = bk('IVF16,Flat');
    const h = await restoreFaiss(createReadStream(artifact), { targetPath: target, expected: expectedOf(info) });
    assert.ok(readFileSync(target).equals(readFileSync(artifact)));
    assert.equal(statSync(target).mode & 0o777, 0o644, "the replaced file's mode is kept");
    assert.equal((await h.rollback()).outcome, 'rolled-back');
    assert.ok(readFileSync(target).equals(before));
    assert.equal(statSync(target).ino, ino, 'the very original file is back');
    assert.equal((await h.rollback()).outcome, 'none-pending');
    assertClean(folder);
  });

  test('rollback when there was no file before removes the restored one', async () => {
    const { target, folder } = targetDir('rollback-new');
    const { artifact, info } = bk('Flat IP');
    const h = await restoreFaiss(createReadStream(artifact), { targetPath: target, expected: expectedOf(info) });
    assert.ok(existsSync(target));
    await h.rollback();
    assertClean(folder, []);
  });

  test('confirm and rollback work from another process, by target path and restore id', async () => {
    const original = path.join(dir, 'original-xp.index');
    buildFlat(original);
    const before = readFileSync(original);
    const { target, folder } = targetDir('cross-process', before);
    const { artifact, info } = bk('IDMap,Flat');
    const h = await restoreFaiss(createReadStream(artifact), {
      targetPath: target,
      expected: expectedOf(info),
      restoreId: 'drill-42',
    });
    assert.equal(h.restoreId, 'drill-42');
    const script = `require(${JSON.stringify(path.resolve(__dirname, '../../sources/faiss'))}).rollbackFaissRestore(process.argv[1], process.argv[2]).then((o) => console.log(JSON.stringify(o)))`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '-e', script, target, 'drill-42'],
      { cwd: path.resolve(__dirname, '../..') },
    );
    assert.equal(JSON.parse(stdout).outcome, 'rolled-back');
    assert.ok(readFileSync(target).equals(before));
    assertClean(folder);
  });

  test('a retried restore with the same id after the swap returns the same result without redoing it', async () => {
    const { target } = targetDir('retry', readFileSync(bk('Flat L2').artifact));
    const { artifact, info } = bk('HNSW32');
    const first = await restoreFaiss(createReadStream(artifact), {
      targetPath: target,
      expected: expectedOf(info),
      restoreId: 'retry-1',
    });
    const ino = statSync(target).ino;
    const again = await restoreFaiss(createReadStream(artifact), {
      targetPath: target,
      expected: expectedOf(info),
      restoreId: 'retry-1',
    });
    assert.equal(statSync(target).ino, ino, 'not written twice');
    assert.equal(again.previousPath, first.previousPath);
    assert.deepEqual(again.probes, first.probes);
    await again.rollback();
    assert.ok(readFileSync(target).equals(readFileSync(bk('Flat L2').artifact)));
  });

  test('an unfinished restore blocks another one into the same target until it is confirmed', async () => {
    const { target } = targetDir('pending', readFileSync(bk('Flat L2').artifact));
    const { artifact, info } = bk('Flat IP');
    const a = await restoreFaiss(createReadStream(artifact), { targetPath: target, expected: expectedOf(info) });
    const hnsw = bk('HNSW32');
    await assert.rejects(
      restoreFaiss(createReadStream(hnsw.artifact), { targetPath: target, expected: expectedOf(hnsw.info) }),
      (e: unknown) => {
        assert.ok(e instanceof FaissRestorePendingError);
        assert.equal(e.pendingRestoreId, a.restoreId);
        assert.ok(e.message.includes(target));
        return true;
      },
    );
    assert.ok(readFileSync(target).equals(readFileSync(artifact)), 'the blocked restore changed nothing');
    await a.confirm();
    await (
      await restoreFaiss(createReadStream(hnsw.artifact), { targetPath: target, expected: expectedOf(hnsw.info) })
    ).confirm();
    assert.ok(readFileSync(target).equals(readFileSync(hnsw.artifact)));
  });
});

describe('FAISS restore refuses bad data: target untouched, no temp files', () => {
  /** Runs a restore expected to fail over an existing original; checks the original is intact and nothing is left. */
  async function refuses(
    label: string,
    bytes: Buffer,
    expected: FaissExpected,
    check: (e: unknown) => boolean,
    opts = {},
  ): Promise<void> {
    const original = readFileSync(bk('Flat L2').artifact);
    const { target, folder } = targetDir(label, original);
    await assert.rejects(restoreFaiss(Readable.from([bytes]), { targetPath: target, expected, ...opts }), check);
    assert.ok(readFileSync(target).equals(original), `${label}: original target byte-identical`);
    assertClean(folder);
    assert.deepEqual(await listPendingFaissRestores(target), []);
  }

  test('stream truncated in transit: size mismatch', async () => {
    const { artifact, info } = bk('HNSW32');
    const bytes = readFileSync(artifact);
    await refuses(
      'short-stream',
      bytes.subarray(0, bytes.length >> 1),
      expectedOf(info),
      (e) => e instanceof FaissIntegrityError && e.field === 'size' && e.actual === bytes.length >> 1,
    );
  });

  test('stream longer than recorded: stopped as soon as it overflows', async () => {
    const { artifact, info } = bk('Flat IP');
    await refuses(
      'long-stream',
      Buffer.concat([readFileSync(artifact), Buffer.alloc(10)]),
      expectedOf(info),
      (e) => e instanceof FaissIntegrityError && e.field === 'size',
    );
  });

  test('a byte flipped in transit: sha256 mismatch', async () => {
    const { artifact, info } = bk('IVF16,Flat');
    const bytes = Buffer.from(readFileSync(artifact));
    bytes[bytes.length >> 1] ^= 0xff;
    await refuses(
      'flipped',
      bytes,
      expectedOf(info),
      (e) => e instanceof FaissIntegrityError && e.field === 'sha256' && e.message.includes('vectors.index'),
    );
  });

  test('a file corrupted before backup (HNSW graph overwritten mid-file): rejected by the layout walk', async () => {
    const bytes = Buffer.from(readFileSync(bk('HNSW32').artifact));
    for (let i = Math.floor(bytes.length / 3); i < Math.floor(bytes.length / 3) + 64; i++) bytes[i] = 0x7f;
    const tmp = path.join(dir, 'hnsw-corrupt-probe.index');
    writeFileSync(tmp, bytes);
    // Expected values that match the corrupted bytes, so only the content checks can catch it.
    const header = (await inspectFaissFile(bk('HNSW32').artifact)).header;
    await refuses(
      'hnsw-corrupt',
      bytes,
      { size: bytes.length, sha256: sha256(bytes), header },
      (e) =>
        e instanceof FaissCorruptFileError &&
        e.kind === 'inconsistent' &&
        /neighbour id/.test(e.message) &&
        e.message.includes('vectors.index'),
    );
  });

  test('a file truncated mid-data before backup: rejected as truncated', async () => {
    const full = readFileSync(bk('IDMap2,Flat').artifact);
    const bytes = full.subarray(0, Math.floor(full.length * 0.6));
    const header = bk('IDMap2,Flat').info.header;
    await refuses(
      'cut',
      bytes,
      { size: bytes.length, sha256: sha256(bytes), header },
      (e) => e instanceof FaissCorruptFileError && e.kind === 'truncated',
    );
  });

  test('a file that crashes faiss: FaissLoadError from the sandbox, nothing put in place', async () => {
    const bytes = lshBomb(readFileSync(bk('Flat L2').artifact));
    const header = { ...bk('Flat L2').info.header, fourcc: 'IxHe', indexType: 'IndexLSH' };
    await refuses(
      'crash',
      bytes,
      { size: bytes.length, sha256: sha256(bytes), header },
      (e) => e instanceof FaissLoadError && e.detail.signal === 'SIGABRT',
    );
  });

  test('header differing from the one recorded at backup', async () => {
    const { artifact, info } = bk('Flat L2');
    await refuses(
      'header',
      readFileSync(artifact),
      { ...expectedOf(info), header: { ...info.header, ntotal: 999 } },
      (e) => e instanceof FaissIntegrityError && e.field === 'header',
    );
  });

  test('probe results differing from the ones recorded at backup', async () => {
    const { artifact, info } = bk('HNSW32');
    assert.equal(info.probes.status, 'ok');
    if (info.probes.status !== 'ok') return;
    const probes = { ...info.probes, labels: info.probes.labels.map((l, q) => (q === 3 ? [...l].reverse() : l)) };
    await refuses(
      'probes',
      readFileSync(artifact),
      { ...expectedOf(info), probes },
      (e) => e instanceof FaissProbeMismatchError && /query 3: neighbours/.test(e.message),
    );
  });

  test('dimension mismatch with the index at the target (when enforced)', async () => {
    const { artifact, info } = bk('Flat L2');
    const wide = path.join(dir, 'wide.index');
    buildFlat(wide, 32);
    const current = readFileSync(wide);
    const { target, folder } = targetDir('dim', current);
    await assert.rejects(
      restoreFaiss(createReadStream(artifact), {
        targetPath: target,
        expected: expectedOf(info),
        enforceDimension: true,
      }),
      (e: unknown) => {
        assert.ok(e instanceof FaissDimensionMismatchError);
        assert.equal(e.backupDimension, 16);
        assert.equal(e.targetDimension, 32);
        assert.match(e.message, /dimension 16 .* dimension 32/);
        assert.ok(e.message.includes(target));
        return true;
      },
    );
    assert.ok(readFileSync(target).equals(current));
    assertClean(folder);
    // Not enforced: the restore goes ahead (an operator's explicit choice).
    const h = await restoreFaiss(createReadStream(artifact), { targetPath: target, expected: expectedOf(info) });
    await h.rollback();
    assert.ok(readFileSync(target).equals(current));
  });

  test("missing target folder, a folder in the target's place, bad arguments", async () => {
    const { artifact, info } = bk('Flat L2');
    const nowhere = path.join(dir, 'no-such-folder', 'x.index');
    await assert.rejects(
      restoreFaiss(createReadStream(artifact), { targetPath: nowhere, expected: expectedOf(info) }),
      (e: unknown) => e instanceof FaissTargetError && /does not exist/.test(e.message),
    );
    assert.equal(existsSync(path.dirname(nowhere)), false);
    const { folder } = targetDir('dir-in-place');
    mkdirSync(path.join(folder, 'vectors.index'));
    await assert.rejects(
      restoreFaiss(createReadStream(artifact), {
        targetPath: path.join(folder, 'vectors.index'),
        expected: expectedOf(info),
      }),
      (e: unknown) => e instanceof FaissTargetError && /not a regular file/.test(e.message),
    );
    await assert.rejects(
      restoreFaiss(createReadStream(artifact), {
        targetPath: path.join(folder, 'y.index'),
        expected: { ...expectedOf(info), sha256: 'abc' },
      }),
      /expected\.sha256/,
    );
    await assert.rejects(
      restoreFaiss(createReadStream(artifact), {
        targetPath: path.join(folder, 'y.index'),
        expected: expectedOf(info),
        restoreId: '../x',
      }),
      /restoreId/,
    );
    assert.deepEqual(readdirSync(folder), ['vectors.index']);
  });

  test('cancelled mid-stream: FaissCancelledError, temp file removed, target untouched', async () => {
    const { artifact, info } = bk('HNSW32');
    const bytes = readFileSync(artifact);
    const original = readFileSync(bk('Flat L2').artifact);
    const { target, folder } = targetDir('cancel', original);
    const ac = new AbortController();
    async function* slow() {
      for (let i = 0; i < bytes.length; i += 4096) {
        if (i === 4096 * 3) {
          // The temp file exists while the stream is being written.
          assert.equal(leftovers(folder).filter((n) => n.includes('lifeboat-tmp')).length, 1);
          ac.abort();
        }
        yield bytes.subarray(i, i + 4096);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await assert.rejects(
      restoreFaiss(Readable.from(slow()), { targetPath: target, expected: expectedOf(info) }, { signal: ac.signal }),
      FaissCancelledError,
    );
    assert.ok(readFileSync(target).equals(original));
    assertClean(folder);
  });
});

describe('FAISS restore journal survives a crash', () => {
  test('worker killed (SIGKILL) mid-write: the journal records it, other restores wait, a retry with the same id finishes it', async () => {
    const { artifact, info } = bk('HNSW32');
    const original = readFileSync(bk('Flat L2').artifact);
    const { target, folder } = targetDir('killed', original);
    const script = `
      const { restoreFaiss } = require(${JSON.stringify(path.resolve(__dirname, '../../sources/faiss'))});
      const { Readable } = require('node:stream');
      const bytes = require('node:fs').readFileSync(process.argv[1]);
      async function* slow() {
        for (let i = 0; i < bytes.length; i += 4096) {
          if (i === 8192) console.log('writing');
          yield bytes.subarray(i, i + 4096);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      restoreFaiss(Readable.from(slow()), JSON.parse(process.argv[2]));`;
    const opts = { targetPath: target, expected: expectedOf(info), restoreId: 'killed-1' };
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, artifact, JSON.stringify(opts)], {
      cwd: path.resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve()),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    assert.ok(readFileSync(target).equals(original), 'the kill left the target as it was');
    assert.deepEqual(await listPendingFaissRestores(target), ['killed-1']);
    assert.ok(
      leftovers(folder).some((n) => n.includes('lifeboat-tmp-killed-1')),
      'the half-written temp file is recorded, not orphaned',
    );
    await assert.rejects(
      restoreFaiss(createReadStream(artifact), { targetPath: target, expected: expectedOf(info) }),
      FaissRestorePendingError,
    );
    const h = await restoreFaiss(createReadStream(artifact), opts);
    assert.ok(readFileSync(target).equals(readFileSync(artifact)));
    await h.confirm();
    assertClean(folder);
  });

  test('crash after the temp file was verified but before the swap: rollback cleans up, target untouched', async () => {
    const { artifact, info } = bk('Flat IP');
    const original = readFileSync(bk('Flat L2').artifact);
    const { target, folder } = targetDir('crash-before-swap', original);
    // Simulate what a killed worker leaves: a journal in state "prepared" and the temp file.
    const id = 'crashed-1';
    const tmp = path.join(folder, `.vectors.index.lifeboat-tmp-${id}`);
    copyFileSync(artifact, tmp);
    writeFileSync(
      path.join(folder, `.vectors.index.lifeboat-restore-${id}.json`),
      JSON.stringify({
        version: 1,
        restoreId: id,
        targetPath: target,
        tmpPath: tmp,
        prevPath: null,
        state: 'prepared',
        sha256: info.sha256,
        size: info.size,
        createdAt: new Date().toISOString(),
        result: { ...info },
      }),
    );
    assert.deepEqual(await listPendingFaissRestores(target), [id]);
    await assert.rejects(confirmFaissRestore(target, id), /never put its file in place/);
    assert.equal((await rollbackFaissRestore(target, id)).outcome, 'rolled-back');
    assert.ok(readFileSync(target).equals(original));
    assertClean(folder);
  });
});
