/**
 * Issue 8 (finding 9 and the FAISS build items) at workflow level: a FAISS
 * folder holding a float index, a binary index and a file of unknown type
 * round-trips through backup → damage → restore latest on the real Temporal
 * server and worker, with every file's bytes, mode and owner compared.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { backupWorkflow, restoreWorkflow } from '../../workflows';
import type { RestoreResult } from '../../workflows/types';
import { scratchDir } from '../harness/env';
import { binaryFlat, unknownTypeFile } from '../sources/faiss-binary-fixtures';
import { makeStores, sha256, startWorkerFor, writeFaissIndex, type Stores } from './helpers';

let stores: Stores;
let w: Awaited<ReturnType<typeof startWorkerFor>>;
const shelf = path.join(scratchDir('faiss-shelf'), 'shelf');
const FILES = ['float.index', 'bits/codes.index', 'future.faiss'] as const;
const id = (kind: string) => `test-${kind}-${randomUUID().slice(0, 8)}`;
const isRoot = process.getuid?.() === 0;

before(async () => {
  stores = await makeStores('faissdir', [{ name: 'shelf', type: 'faiss', path: shelf, probe: { queries: 2, k: 3 } }]);
  w = await startWorkerFor(stores.cfg.config);
});

after(async () => {
  await w?.stop();
  await stores?.stop();
});

type FolderState = Record<string, { sha: string; mode: number; uid: number; gid: number } | 'absent'>;

function folderState(): FolderState {
  const out: FolderState = {};
  for (const rel of FILES) {
    const f = path.join(shelf, ...rel.split('/'));
    if (!existsSync(f)) out[rel] = 'absent';
    else {
      const st = statSync(f);
      out[rel] = { sha: sha256(readFileSync(f)), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    }
  }
  return out;
}

test('a folder with a float index, a binary index and an unknown-type file: backup → damage → restore latest gives back every byte, mode and owner', async () => {
  mkdirSync(path.join(shelf, 'bits'), { recursive: true });
  writeFaissIndex(path.join(shelf, 'float.index'), 77);
  writeFileSync(path.join(shelf, 'bits', 'codes.index'), binaryFlat(400, 256));
  writeFileSync(path.join(shelf, 'future.faiss'), unknownTypeFile(10_000));
  chmodSync(path.join(shelf, 'float.index'), 0o640);
  chmodSync(path.join(shelf, 'bits', 'codes.index'), 0o600);
  chmodSync(path.join(shelf, 'future.faiss'), 0o644);
  // Owned by someone other than the worker, as an application's files are (only root can arrange that).
  if (isRoot) for (const rel of FILES) chownSync(path.join(shelf, ...rel.split('/')), 4242, 4343);

  const b = await w.client.workflow.execute(backupWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: id('backup-shelf'),
    args: [{ sources: ['shelf'] }],
  });
  assert.ok(b.recoveryPointId, 'the folder backup committed a point (the binary and unknown files did not fail it)');
  const want = folderState();

  // The damage: the float index truncated, random bytes over the binary one, the unknown file deleted, modes changed.
  const flt = path.join(shelf, 'float.index');
  writeFileSync(flt, readFileSync(flt).subarray(0, 200));
  writeFileSync(path.join(shelf, 'bits', 'codes.index'), randomBytes(5000));
  chmodSync(path.join(shelf, 'bits', 'codes.index'), 0o666);
  rmSync(path.join(shelf, 'future.faiss'));
  const damaged = folderState();

  // A restore that fails at verify must put the damage back exactly.
  const e = await w.client.workflow
    .execute(restoreWorkflow, {
      taskQueue: stores.cfg.taskQueue,
      workflowId: id('restore-shelf-fail'),
      args: [{ recoveryPointId: 'latest', sources: ['shelf'], injectVerifyFailure: 'shelf' }],
    })
    .then(
      () => assert.fail('the restore with an injected verify failure should fail'),
      (x: unknown) => x,
    );
  assert.ok(e instanceof WorkflowFailedError, String(e));
  const cause = e.cause as { message: string; details?: unknown[] };
  assert.deepEqual((cause.details?.[0] as RestoreResult).rollbackFailures, [], cause.message);
  assert.deepEqual(folderState(), damaged, 'after the rollback: the damage exactly as it was');

  const res = await w.client.workflow.execute(restoreWorkflow, {
    taskQueue: stores.cfg.taskQueue,
    workflowId: id('restore-shelf'),
    args: [{ recoveryPointId: 'latest', sources: ['shelf'] }],
  });
  assert.equal(res.ok, true, JSON.stringify(res));
  assert.deepEqual(folderState(), want, 'after restore latest: bytes, mode and owner of every file');
  if (isRoot) for (const rel of FILES) assert.equal((want[rel] as { uid: number }).uid, 4242, rel);
});
