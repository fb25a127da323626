/**
 * Issue 8, finding 9 and the FAISS build items: binary indexes, files of an
 * unknown type inside a folder, mode and owner kept, include/exclude globs.
 * Binary indexes are crafted from faiss's write_index_binary layout
 * (faiss-node cannot build or load them): fourcc, d (bits) int32,
 * code_size int32, ntotal int64, is_trained uint8, metric_type int32, then
 * the codes as a size_t-prefixed byte vector.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  backupFaissDirectory,
  backupFaissFile,
  FaissCorruptFileError,
  fingerprintFaiss,
  inspectFaissFile,
  listFaissFiles,
  readFaissHeader,
  restoreFaiss,
  type FaissBackupInfo,
} from '../../sources/faiss';
import { scratchDir } from '../harness/env';
import { binaryFlat, binaryIndex, unknownTypeFile } from './faiss-binary-fixtures';
import { buildFlat, drainTo, leftovers, sha256 } from './faiss-fixtures';

let dir: string;
before(() => {
  dir = scratchDir('faiss-binary');
});

async function backupTo(file: string, artifact: string): Promise<FaissBackupInfo> {
  const b = await backupFaissFile(file);
  await drainTo(b.stream, artifact);
  return b.done;
}

test('IndexBinaryFlat: header facts (d in bits, code size, ntotal) and the whole layout are checked; probes skipped with the reason', async () => {
  const file = path.join(dir, 'codes.index');
  writeFileSync(file, binaryFlat(500, 128));
  const h = await readFaissHeader(file);
  assert.deepEqual(
    { fourcc: h.fourcc, type: h.indexType, d: h.d, ntotal: h.ntotal, binary: h.binary, metric: h.metric },
    { fourcc: 'IBxF', type: 'IndexBinaryFlat', d: 128, ntotal: 500, binary: { codeSize: 16 }, metric: 'L2' },
  );
  const ins = await inspectFaissFile(file);
  assert.equal(ins.structure.checked, true);
  assert.deepEqual(ins.structure.chain, ['IBxF']);
  const info = await backupTo(file, path.join(dir, 'codes.artifact'));
  assert.equal(info.probes.status, 'skipped');
  assert.match(info.probes.status === 'skipped' ? info.probes.reason : '', /binary index.*read_index_binary/);
  assert.equal(info.sha256, sha256(readFileSync(file)));
});

test('a truncated or inconsistent IndexBinaryFlat is refused, naming the problem', async () => {
  const good = binaryFlat(100, 64);
  const trunc = path.join(dir, 'trunc.index');
  writeFileSync(trunc, good.subarray(0, good.length - 5));
  await assert.rejects(
    inspectFaissFile(trunc),
    (e: unknown) => e instanceof FaissCorruptFileError && e.kind === 'truncated',
  );
  const badCode = path.join(dir, 'badcode.index');
  writeFileSync(badCode, binaryIndex('IBxF', 64, 100, good.subarray(33), 7));
  await assert.rejects(inspectFaissFile(badCode), /code size 7 bytes for 64 bits/);
  const badN = path.join(dir, 'badn.index');
  writeFileSync(badN, binaryIndex('IBxF', 64, 101, good.subarray(33)));
  await assert.rejects(inspectFaissFile(badN), /IBxF codes has 800 elements where 808 were expected/);
});

test('IndexBinaryIVF and IndexBinaryHNSW: header checked, layout recorded as not walked, backed up and restored byte-exact with mode', async () => {
  for (const [fourcc, name] of [
    ['IBwF', 'IndexBinaryIVF'],
    ['IBHf', 'IndexBinaryHNSW'],
    ['IBMp', 'IndexBinaryIDMap'],
  ] as const) {
    const file = path.join(dir, `${fourcc}.index`);
    // Header plus a body Lifeboat does not walk (its bytes are what must come back).
    writeFileSync(file, Buffer.concat([binaryIndex(fourcc, 256, 42), Buffer.from(`body of ${name}`.repeat(50))]));
    chmodSync(file, 0o640);
    const info = await backupTo(file, path.join(dir, `${fourcc}.artifact`));
    assert.equal(info.header.indexType, name);
    assert.equal(info.header.d, 256);
    assert.equal(info.header.ntotal, 42);
    assert.equal(info.structure.checked, false);
    assert.match(info.structure.uncheckedReason ?? '', /binary header was checked/);
    const target = path.join(dir, `${fourcc}-restored.index`);
    const h = await restoreFaiss(createReadStream(path.join(dir, `${fourcc}.artifact`)), {
      targetPath: target,
      expected: { size: info.size, sha256: info.sha256, header: info.header, probes: info.probes, mode: info.mode },
    });
    await h.confirm();
    assert.deepEqual(readFileSync(target), readFileSync(file), `${fourcc} bytes`);
    assert.equal(statSync(target).mode & 0o7777, 0o640, `${fourcc} mode`);
  }
});

test('a directory with a float index, a binary index and an unknown-type file: all backed up (the unknown one as opaque bytes with a warning) and restored byte-exact', async () => {
  const src = path.join(dir, 'shelf');
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  buildFlat(path.join(src, 'float.index'));
  writeFileSync(path.join(src, 'sub', 'codes.index'), binaryFlat(300));
  writeFileSync(path.join(src, 'future.faiss'), unknownTypeFile());
  chmodSync(path.join(src, 'float.index'), 0o640);
  chmodSync(path.join(src, 'sub', 'codes.index'), 0o600);
  chmodSync(path.join(src, 'future.faiss'), 0o604);
  const infos = new Map<string, FaissBackupInfo>();
  for await (const e of backupFaissDirectory(src, { probeQueries: 2, probeK: 3 })) {
    await drainTo(e.backup.stream, path.join(dir, `shelf-${e.relativePath.replace('/', '_')}.artifact`));
    infos.set(e.relativePath, await e.backup.done);
  }
  assert.deepEqual([...infos.keys()], ['float.index', 'future.faiss', 'sub/codes.index']);
  const unk = infos.get('future.faiss')!;
  assert.match(
    unk.warning ?? '',
    /type code "Zz9!" \(bytes 5a7a3921\) is not a FAISS index type Lifeboat knows; backed up as opaque bytes/,
  );
  assert.equal(unk.header.opaque?.warning, unk.warning);
  assert.equal(infos.get('float.index')!.probes.status, 'ok');
  assert.equal(infos.get('sub/codes.index')!.header.fourcc, 'IBxF');

  // The same unknown file as a single-file source is still refused: it is not an index Lifeboat can vouch for.
  await assert.rejects(backupFaissFile(path.join(src, 'future.faiss')), /not a FAISS index Lifeboat knows/);

  const dst = path.join(dir, 'shelf-restored');
  mkdirSync(path.join(dst, 'sub'), { recursive: true });
  // Something already in place for the unknown file: it goes through the same atomic swap.
  writeFileSync(path.join(dst, 'future.faiss'), 'old bytes');
  for (const [rel, info] of infos) {
    const h = await restoreFaiss(createReadStream(path.join(dir, `shelf-${rel.replace('/', '_')}.artifact`)), {
      targetPath: path.join(dst, ...rel.split('/')),
      expected: { size: info.size, sha256: info.sha256, header: info.header, probes: info.probes, mode: info.mode },
      probeQueries: 2,
      probeK: 3,
    });
    if (rel === 'future.faiss') assert.ok(h.previousPath, 'the replaced file was kept until confirm');
    await h.confirm();
  }
  for (const rel of infos.keys()) {
    const a = path.join(src, ...rel.split('/'));
    const b = path.join(dst, ...rel.split('/'));
    assert.deepEqual(readFileSync(b), readFileSync(a), `${rel} bytes`);
    assert.equal(statSync(b).mode & 0o7777, statSync(a).mode & 0o7777, `${rel} mode`);
  }
  assert.deepEqual(leftovers(dst), []);
  assert.deepEqual(leftovers(path.join(dst, 'sub')), []);
  const fp = await fingerprintFaiss(dst);
  assert.equal(fp.digests['future.faiss'], unk.sha256);
  assert.equal(fp.digests['sub/codes.index'], infos.get('sub/codes.index')!.sha256);
});

test('an opaque restore whose bytes differ from the backup is refused and leaves the target as it was', async () => {
  const src = path.join(dir, 'opaque.index');
  writeFileSync(src, unknownTypeFile(2048));
  const d2 = path.join(dir, 'opaque-dir');
  mkdirSync(d2, { recursive: true });
  writeFileSync(path.join(d2, 'opaque.index'), readFileSync(src));
  let info: FaissBackupInfo | undefined;
  for await (const e of backupFaissDirectory(d2)) {
    await drainTo(e.backup.stream, path.join(dir, 'opaque.artifact'));
    info = await e.backup.done;
  }
  const tampered = readFileSync(path.join(dir, 'opaque.artifact'));
  tampered[100] ^= 1;
  writeFileSync(path.join(dir, 'opaque-tampered.artifact'), tampered);
  const target = path.join(dir, 'opaque-target.index');
  writeFileSync(target, 'current');
  await assert.rejects(
    restoreFaiss(createReadStream(path.join(dir, 'opaque-tampered.artifact')), {
      targetPath: target,
      expected: { size: info!.size, sha256: info!.sha256, header: info!.header, mode: info!.mode },
    }),
    /sha256/,
  );
  assert.equal(readFileSync(target, 'utf8'), 'current');
});

test('owner: kept when the worker may chown, otherwise the restore says why it could not', async () => {
  const file = path.join(dir, 'owned.index');
  buildFlat(file);
  const info = await backupTo(file, path.join(dir, 'owned.artifact'));
  assert.equal(info.uid, statSync(file).uid);
  assert.equal(info.gid, statSync(file).gid);
  const root = process.getuid?.() === 0;
  // Another owner than the worker's: root gives it, anyone else must report it.
  const want = { uid: 4242, gid: 4343 };
  const target = path.join(dir, 'owned-restored.index');
  const h = await restoreFaiss(createReadStream(path.join(dir, 'owned.artifact')), {
    targetPath: target,
    expected: { size: info.size, sha256: info.sha256, header: info.header, mode: info.mode, ...want },
  });
  await h.confirm();
  const st = statSync(target);
  if (root) {
    assert.deepEqual({ uid: st.uid, gid: st.gid }, want);
    assert.equal(h.ownerNotSet, undefined);
  } else {
    assert.match(
      h.ownerNotSet ?? '',
      /owned by uid 4242 gid 4343 at backup; the worker .* is not root and cannot chown/,
    );
    assert.equal(st.uid, process.getuid?.());
  }
  // The worker's own owner is always given back exactly.
  const t2 = path.join(dir, 'owned-same.index');
  const h2 = await restoreFaiss(createReadStream(path.join(dir, 'owned.artifact')), {
    targetPath: t2,
    expected: {
      size: info.size,
      sha256: info.sha256,
      header: info.header,
      mode: info.mode,
      uid: info.uid,
      gid: info.gid,
    },
  });
  await h2.confirm();
  assert.equal(h2.ownerNotSet, undefined);
  assert.deepEqual([statSync(t2).uid, statSync(t2).gid], [info.uid, info.gid]);
});

test('include/exclude globs choose the files of a folder', async () => {
  const src = path.join(dir, 'globs');
  mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
  for (const f of ['top.bin', 'a/one.bin', 'a/b/two.bin', 'a/b/skip.bin', 'x.index', 'a/notes.txt'])
    writeFileSync(path.join(src, ...f.split('/')), binaryFlat(4));
  assert.deepEqual(await listFaissFiles(src, { include: ['**/*.bin'] }), [
    'a/b/skip.bin',
    'a/b/two.bin',
    'a/one.bin',
    'top.bin',
  ]);
  assert.deepEqual(await listFaissFiles(src, { include: ['**/*.bin'], exclude: ['**/skip.*'] }), [
    'a/b/two.bin',
    'a/one.bin',
    'top.bin',
  ]);
  assert.deepEqual(await listFaissFiles(src, { include: ['*.bin', 'a/?ne.bin'] }), ['a/one.bin', 'top.bin']);
  assert.deepEqual(await listFaissFiles(src), ['x.index'], 'default: extensions');
  assert.deepEqual(await listFaissFiles(src, { exclude: ['x.*'], include: ['**'] }), [
    'a/b/skip.bin',
    'a/b/two.bin',
    'a/notes.txt',
    'a/one.bin',
    'top.bin',
  ]);
  await assert.rejects(
    listFaissFiles(src, { include: ['*.nothing'] }),
    /holds no index files \(matching include \*\.nothing\).*set include/,
  );
});
