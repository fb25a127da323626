/**
 * Hardening on the real servers (issue 14): a full backup and restore through the Temporal worker,
 * with known secret values — the repository password, a Redis ACL user's password, and a wrong
 * password of a second source — then a search for every secret in the worker's log, the raw
 * histories of every workflow, error messages and the Prometheus metrics (labels and all). The
 * Redis user has exactly the ACL docs/security.md documents; a narrower one fails naming what it
 * lacks. Repository and scratch files are asserted 0600/0700.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createLifeboatClient } from '../../client/api';
import type { LifeboatClient } from '../../client/types';
import { backupRedis, restoreRedis } from '../../sources/redis';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { freePort } from '../servers/process';
import { startRedis, type RedisServer } from '../servers/redis';
import { historyText } from '../workflows/helpers';
import { readLog, spawnWorker, type WorkerProcess } from '../workflows/worker-process';

/** The ACLs of docs/security.md ("Redis ACL rules"), word for word. */
export const REDIS_BACKUP_ACL = ['+@read', '+time', '+info', '+ping', '+select'];
export const REDIS_RESTORE_ACL = [...REDIS_BACKUP_ACL, '+restore', '+mset', '+set', '+unlink'];

const REPO_PW = `repo-pw-${randomUUID()}`;
const REDIS_PW = `redis-pw-${randomUUID()}`;
const WRONG_PW = `wrong-pw-${randomUUID()}`;
const SECRETS = { REPO_PW, REDIS_PW, WRONG_PW };

function walk(dir: string, out: { path: string; mode: number; dir: boolean }[] = []) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) walk(p, out);
  }
  return out;
}

function assertNoSecret(where: string, text: string): void {
  for (const [name, value] of Object.entries(SECRETS)) assert.ok(!text.includes(value), `${name} appears in ${where}`);
}

async function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

describe('hardening: no secret anywhere after a backup and restore; documented Redis ACLs; file modes', () => {
  let redis: RedisServer;
  let admin: Redis;
  let cfg: TestConfig;
  let worker: WorkerProcess;
  let lb: LifeboatClient;
  let metricsPort: number;
  const user = `lb-sec-${randomUUID().slice(0, 8)}`;

  before(async () => {
    redis = await startRedis(scratchDir('sec-redis'));
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await admin.call('ACL', 'SETUSER', user, 'reset', 'on', `>${REDIS_PW}`, '~*', '&*', ...REDIS_RESTORE_ACL);
    await admin.call('ACL', 'SETUSER', `${user}-ro`, 'reset', 'on', `>${REDIS_PW}`, '~*', '&*', ...REDIS_BACKUP_ACL);
    metricsPort = await freePort();
    const pwEnv = `LB_SEC_REDIS_${randomUUID().slice(0, 6).toUpperCase()}`;
    const wrongEnv = `${pwEnv}_WRONG`;
    process.env[pwEnv] = REDIS_PW;
    process.env[wrongEnv] = WRONG_PW;
    cfg = makeTestConfig({
      password: REPO_PW,
      sources: [
        { name: 'sessions', type: 'redis', url: redis.url, db: 1, username: user, password: { env: pwEnv } },
        { name: 'broken', type: 'redis', url: redis.url, db: 3, username: user, password: { env: wrongEnv } },
      ],
      extra: { observability: { metrics: { listen: `127.0.0.1:${metricsPort}` } } },
    });
    worker = spawnWorker(
      cfg.file,
      { ...cfg.env, [pwEnv]: REDIS_PW, [wrongEnv]: WRONG_PW },
      path.join(cfg.dir, 'worker.log'),
    );
    lb = createLifeboatClient(cfg.config);
    await lb.init();
  });

  after(async () => {
    await lb?.close();
    await worker?.kill();
    admin?.disconnect();
    await redis?.stop();
  });

  test('backup + restore as the ACL user; no secret in logs, histories, errors or metrics; files 0600/0700', async () => {
    const db1 = new Redis(redis.url, { db: 1, maxRetriesPerRequest: 1 });
    try {
      await db1.set('user:1', 'ada');
      await db1.hset('cart:1', { apples: '3', pears: '1' });
      await db1.rpush('queue', 'a', 'b', 'c');
      const backup = await lb.backup({ sources: ['sessions'], tags: ['sec'] });
      const b = await backup.result();
      // Damage the source, then restore: the data is back exactly.
      await db1.del('user:1');
      await db1.set('intruder', 'x');
      const restore = await lb.restore(b.recoveryPointId, { sources: ['sessions'] });
      await restore.result();
      assert.equal(await db1.get('user:1'), 'ada');
      assert.deepEqual(await db1.hgetall('cart:1'), { apples: '3', pears: '1' });
      assert.deepEqual(await db1.lrange('queue', 0, -1), ['a', 'b', 'c']);
      assert.equal(await db1.exists('intruder'), 0);

      // A source with a wrong password fails, and its error names the problem, not the password.
      const bad = await lb.backup({ sources: ['broken'] });
      const err = await bad.result().then(
        () => assert.fail('backup with a wrong Redis password succeeded'),
        (e: unknown) => e as Error,
      );
      const chain: string[] = [];
      for (let c: unknown = err; c; c = (c as { cause?: unknown }).cause) chain.push(String((c as Error).message));
      assert.match(chain.join(' | '), /WRONGPASS|auth|password/i);
      assertNoSecret('the failed backup error chain', chain.join(' | '));

      // Raw histories, read with a client that has no codec: every workflow of this task queue.
      const th = await (await import('../../client/connection')).connectTemporal(cfg.config.temporal);
      const client = th.client;
      let histories = 0;
      for await (const w of client.workflow.list({ query: `TaskQueue = '${cfg.taskQueue}'` })) {
        assertNoSecret(`the history of ${w.workflowId}`, await historyText(client.workflow.getHandle(w.workflowId)));
        histories++;
      }
      await th.connection.close();
      assert.ok(histories >= 3, `expected the backups and the restore, found ${histories} workflows`);

      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /lifeboat_/);
      assertNoSecret('the metrics', metrics);
      assertNoSecret('the worker log', readLog(worker.log));

      // Audit trail: the backups (and their outcomes) were recorded by the worker, chained.
      const repo = await (await import('../../runtime/configured-repository')).openConfiguredRepository(cfg.config);
      try {
        const ops = (await repo.audit.list()).map((e) => `${e.operation}:${e.outcome}`);
        // (restore/drill/prune/DR join as their workflows call reportOutcome; today backup and verify do)
        assert.ok(ops.includes('backup:success') && ops.includes('backup:failure'), ops.join(', '));
        const entries = await repo.audit.list();
        const ok = entries.find((e) => e.operation === 'backup' && e.outcome === 'success');
        assert.deepEqual(ok?.sources, ['sessions']);
        assert.match(ok?.who.workflowId ?? '', /backup/);
        assert.equal(ok?.points.length, 1);
        assert.equal((await repo.audit.verify()).ok, true);
        assertNoSecret('the audit trail', JSON.stringify(await repo.audit.list()));
      } finally {
        await repo.close();
      }

      const files = walk(path.join(cfg.dir, 'repo'));
      assert.ok(files.length > 10);
      for (const f of files) assert.equal(f.mode, f.dir ? 0o700 : 0o600, `${f.path} has mode ${f.mode.toString(8)}`);
      assert.equal(statSync(path.join(cfg.dir, 'repo')).mode & 0o777, 0o700);
      for (const f of walk(path.join(cfg.dir, 'scratch')))
        assert.equal(f.mode & 0o077, 0, `${f.path} (mode ${f.mode.toString(8)}) is open to group or others`);
    } finally {
      db1.disconnect();
    }
  });

  test('a Redis user with only the documented backup ACL backs up, and its restore fails naming the missing command', async () => {
    const db = new Redis(redis.url, { db: 4, maxRetriesPerRequest: 1 });
    try {
      await db.set('k', 'v');
      const b = backupRedis({ url: redis.url, db: 4, username: `${user}-ro`, password: REDIS_PW });
      const bytes = await collect(b.stream);
      await b.done;
      const e = await restoreRedis([bytes], { url: redis.url, db: 5, username: `${user}-ro`, password: REDIS_PW }).then(
        () => assert.fail('restore with the backup-only ACL succeeded'),
        (x: unknown) => x as Error,
      );
      assert.match(e.message, /no permissions to run the '(mset|set|restore)' command/);
      assertNoSecret('the ACL error', e.message);
      // Narrower still: without +@read the backup itself fails, naming the command.
      await admin.call(
        'ACL',
        'SETUSER',
        `${user}-none`,
        'reset',
        'on',
        `>${REDIS_PW}`,
        '~*',
        '&*',
        '+ping',
        '+info',
        '+select',
        '+time',
      );
      const nb = backupRedis({ url: redis.url, db: 4, username: `${user}-none`, password: REDIS_PW });
      const be = await Promise.all([collect(nb.stream), nb.done]).then(
        () => assert.fail('backup without +@read succeeded'),
        (x: unknown) => x as Error,
      );
      assert.match(be.message, /no permissions to run the '\w+' command/);
    } finally {
      db.disconnect();
    }
  });
});
