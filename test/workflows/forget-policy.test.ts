/**
 * `lifeboat forget --policy / --keep-*` through the real executable against real servers:
 * the plan changes nothing, --confirm removes exactly the planned points, a held point survives.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../servers/tools';
import { makeStores, seedRedis, startWorkerFor, type Stores } from './helpers';

const run = promisify(execFile);
let stores: Stores;
let w: Awaited<ReturnType<typeof startWorkerFor>>;

before(async () => {
  stores = await makeStores('forget-policy');
  w = await startWorkerFor(stores.cfg.config);
});

after(async () => {
  await w?.stop();
  await stores?.stop();
});

async function lifeboat(...args: string[]): Promise<{ code: number; doc: Record<string, unknown>; stderr: string }> {
  const env = { ...process.env, ...stores.cfg.env, LIFEBOAT_CONFIG: stores.cfg.file };
  try {
    const { stdout, stderr } = await run(path.join(projectRoot, 'bin', 'lifeboat'), [...args, '--json'], {
      env,
      maxBuffer: 16 << 20,
    });
    return { code: 0, doc: JSON.parse(stdout), stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, doc: JSON.parse(x.stdout), stderr: x.stderr };
  }
}

interface Decision {
  id: string;
  keep: boolean;
  reasons: string[];
}

async function listed(): Promise<{ id: string; hold?: unknown }[]> {
  const l = await lifeboat('list');
  assert.equal(l.code, 0, l.stderr);
  return l.doc.recoveryPoints as { id: string }[];
}

test('forget --keep-last plans without removing; --confirm removes exactly the plan; a held point survives', async () => {
  for (let i = 0; i < 4; i++) {
    await seedRedis(stores.redis.url, `v${i}`);
    const b = await lifeboat('backup', '--source', 'meta', '--wait');
    assert.equal(b.code, 0, b.stderr);
  }
  const before = await listed();
  assert.equal(before.length, 4);
  const ids = before.map((p) => p.id).sort();
  const [oldest, second, third, newest] = ids;
  const h = await lifeboat('hold', oldest, '--reason', 'case 7');
  assert.equal(h.code, 0, h.stderr);
  const held = await listed();

  // The config's own policy: a plan only.
  const byPolicy = await lifeboat('forget', '--policy');
  assert.equal(byPolicy.code, 0, byPolicy.stderr);
  assert.equal((byPolicy.doc.plan as Decision[]).length, 4);
  assert.deepEqual(await listed(), held);

  const plan = await lifeboat('forget', '--keep-last', '1');
  assert.equal(plan.code, 0, plan.stderr);
  assert.equal(plan.doc.confirmed, false);
  const decisions = Object.fromEntries((plan.doc.plan as Decision[]).map((d) => [d.id, d]));
  assert.deepEqual(decisions[newest].reasons, ['meta: last 1', 'meta: newest verified']);
  assert.deepEqual(decisions[oldest].reasons, ['hold: case 7']);
  assert.equal(decisions[oldest].keep, true);
  assert.deepEqual([decisions[second].keep, decisions[third].keep], [false, false]);
  assert.deepEqual(await listed(), held, 'a plan without --confirm changed the repository');

  const applied = await lifeboat('forget', '--keep-last', '1', '--confirm');
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual((applied.doc.forgotten as string[]).sort(), [second, third]);
  const after = await listed();
  assert.deepEqual(after.map((p) => p.id).sort(), [oldest, newest]);
  assert.ok(after.find((p) => p.id === oldest)?.hold, 'the held point lost its hold');

  // Bad input is refused and changes nothing.
  const bad = await lifeboat('forget', newest, '--keep-last', '1');
  assert.notEqual(bad.code, 0);
  assert.deepEqual((await listed()).map((p) => p.id).sort(), [oldest, newest]);
});
