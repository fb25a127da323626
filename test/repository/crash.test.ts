import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { initRepository, type Repository } from '../../repository';
import { FAST, TARGETS, rejection, sleep } from './helpers';

const STALE_MS = 3000;

/** Starts the crash writer and SIGKILLs it once it has written `bytes`. */
async function crashWriterAfter(loc: object, bytes: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'crash-writer.ts')], {
    cwd: path.join(__dirname, '..', '..'),
    env: { ...process.env, LIFEBOAT_CRASH_REPO: JSON.stringify(loc) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    let seen = 0;
    child.stdout.on('data', (d: Buffer) => {
      const m = /written (\d+)\n(?![\s\S]*written)/.exec(d.toString());
      if (m) seen = Number(m[1]);
      if (seen >= bytes && child.exitCode === null) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) =>
      signal === 'SIGKILL'
        ? resolve(seen)
        : reject(new Error(`crash writer exited ${code} before being killed: ${stderr}`)),
    );
  });
}

for (const target of TARGETS) {
  describe(`a writer killed mid-backup on ${target.name}`, () => {
    const repos: Repository[] = [];
    after(async () => Promise.all(repos.map((r) => r.close())));

    test('leaves no recovery point; its chunks are kept while its lock lives, and pruned once it is stale', async () => {
      const loc = target.location('crash');
      const repo = await initRepository(loc, 'pw', { ...FAST, lockRefreshMs: 100, lockStaleMs: STALE_MS });
      repos.push(repo);
      const written = await crashWriterAfter(loc, 12 * 1024 * 1024);
      assert.ok(written >= 12 * 1024 * 1024);

      assert.deepEqual(await repo.listRecoveryPoints(), []);
      const raw = target.raw(loc);
      assert.equal((await raw.list('locks/')).length, 1, 'the dead writer left its lock');
      const leftover = await repo.stats();
      assert.ok(leftover.chunks > 0);

      // Right away the lock still looks alive: a prune keeps everything written since that writer started.
      const early = await repo.prune({ graceMs: 0, waitMs: 300 });
      assert.equal(early.deletedChunks, 0);
      assert.equal((await repo.stats()).chunks, leftover.chunks);

      // Once the lock is stale the writer is known dead: everything it wrote goes, lock included.
      await sleep(STALE_MS + 1200);
      const late = await repo.prune({ graceMs: 0 });
      assert.equal(late.deletedChunks, leftover.chunks);
      assert.ok(late.deletedLocks >= 1);
      assert.deepEqual(await raw.list('locks/'), []);
      assert.equal((await repo.stats()).chunks, 0);
      assert.equal((await repo.verify()).ok, true);
      assert.equal((await rejection(repo.getRecoveryPoint('2'))).name, 'RecoveryPointNotFoundError');
    });
  });
}
