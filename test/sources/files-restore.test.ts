import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backupFiles, restoreFiles, rollbackFilesRestore } from '../../sources/files';
import { lineDiff } from '../../client/files-diff';

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const n of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(path.join(dir, r));
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(path.join(dir, r))}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${st.mode & 0o7777} ${Math.round(st.mtimeMs / 10)}`;
        walk(r);
      }
      // Milliseconds: Node sets times through a double of seconds, so a file whose time the rollback
      // had to set again (not renamed back) can differ below a microsecond from the original.
      else out[r] = `file ${st.mode & 0o7777} ${Math.floor(st.mtimeMs)} ${readFileSync(path.join(dir, r), 'hex')}`;
    }
  };
  walk('');
  return out;
}

test('a restore that fails half-way (the content stream breaks) is rolled back exactly, after a retry too', async () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-files-'));
  const src = path.join(base, 'src');
  mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
  writeFileSync(path.join(src, 'a', 'one.conf'), 'one\n', { mode: 0o600 });
  writeFileSync(path.join(src, 'a', 'b', 'two.conf'), 'two\n');
  writeFileSync(path.join(src, 'z.env'), 'SECRET=1\n');
  symlinkSync('a/one.conf', path.join(src, 'link'));
  const b = await backupFiles({ root: src, include: ['**'], exclude: [] });
  const chunks: Buffer[] = [];
  for await (const c of b.content) chunks.push(c);
  const manifest = b.manifest();
  const all = Buffer.concat(chunks);

  // The target: one file changed, one missing, a new folder needed.
  const dst = path.join(base, 'dst');
  mkdirSync(path.join(dst, 'a'), { recursive: true });
  writeFileSync(path.join(dst, 'a', 'one.conf'), 'changed\n', { mode: 0o644 });
  writeFileSync(path.join(dst, 'other'), 'not in the backup\n');
  const before = tree(dst);
  const journalDir = path.join(base, 'journal');
  mkdirSync(journalDir);
  const opts = { targetRoot: dst, restoreId: 'r1', journalDir, key: 'cfg' };
  async function* broken() {
    yield all.subarray(0, 6); // "one\ntw": the first file whole, then the stream fails
    throw new Error('connection reset');
  }
  await assert.rejects(restoreFiles(manifest, broken(), opts), /connection reset/);
  await assert.rejects(restoreFiles(manifest, broken(), opts), /connection reset/); // a retry fails the same way
  assert.notDeepEqual(tree(dst), before, 'the failed restore did change the target');
  await rollbackFilesRestore(journalDir, 'r1', 'cfg');
  assert.deepEqual(tree(dst), before, 'rolled back: the target exactly as before');
  assert.deepEqual(readdirSync(journalDir), [], 'journal dropped');
  await rollbackFilesRestore(journalDir, 'r1', 'cfg'); // idempotent

  // A whole stream restores every entry.
  await restoreFiles(
    manifest,
    (async function* () {
      yield all;
    })(),
    { ...opts, restoreId: 'r2' },
  );
  const got = tree(dst);
  for (const [k, v] of Object.entries(tree(src)))
    if (!k.startsWith('a') || !v.startsWith('dir')) assert.equal(got[k], v, k);
});

test('lineDiff marks removed and added lines around common ones', () => {
  assert.equal(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c']), ' a\n-b\n+x\n c');
});
