/**
 * Issue 15, configuration files as a source, on the real Temporal server and worker: a folder with
 * a symlink, modes 0600/0644, an .env holding a secret and nested globs → backup → delete and alter
 * → restore → identical bytes, modes, mtimes and links; the secret appears in no repository object;
 * a failed restore (forced verify failure) leaves the folder exactly as it was; restore elsewhere
 * (--to-dir); `lifeboat diff` names the drift without printing contents unless asked.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { backupWorkflow, drillWorkflow, restoreWorkflow } from '../../workflows';
import type { RestoreResult } from '../../workflows/types';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir } from '../harness/env';
import { initRepository } from '../../repository';
import { runCli } from '../../client/program';
import { startWorkerFor } from './helpers';

const SECRET = `sk-live-${randomUUID()}`;
const base = scratchDir('files-src');
const app = path.join(base, 'srv', 'app');
let cfg: TestConfig;
let w: Awaited<ReturnType<typeof startWorkerFor>>;
const id = (kind: string) => `test-${kind}-${randomUUID().slice(0, 8)}`;

before(async () => {
  cfg = makeTestConfig({
    sources: [
      {
        name: 'appconf',
        type: 'files',
        root: app,
        paths: [`${app}/.env`, `${app}/docker-compose*.yml`, `${app}/conf`, `${app}/rules/**/*.yml`, `${app}/current`],
        exclude: ['**/*.bak'],
      },
    ],
  });
  await (await initRepository({ url: cfg.config.repository.url }, cfg.env[Object.keys(cfg.env)[0]])).close();
  w = await startWorkerFor(cfg.config);
});

after(async () => {
  await w?.stop();
});

/** Every entry below `dir` (Lifeboat's own files would show up too): type, bytes, mode, mtime (ms), link target. */
function tree(dir: string, dirMtimes = false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(dir, r);
      const st = lstatSync(p);
      const mtime = Math.floor(st.mtimeMs);
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(p)} ${mtime}`;
      else if (st.isDirectory()) {
        // Node sets times from a double of seconds: a folder's mtime comes back within a microsecond, so compared to 10 ms.
        out[r] = `dir ${(st.mode & 0o7777).toString(8)}${dirMtimes ? ` ${Math.round(st.mtimeMs / 10)}` : ''}`;
        walk(r);
      } else
        out[r] =
          `file ${(st.mode & 0o7777).toString(8)} ${mtime} ${st.uid}:${st.gid} ${readFileSync(p).toString('base64')}`;
    }
  };
  walk('');
  return out;
}

function seed() {
  rmSync(app, { recursive: true, force: true });
  mkdirSync(path.join(app, 'conf', 'nested', 'deeper'), { recursive: true });
  mkdirSync(path.join(app, 'rules', 'team-a', 'alerts'), { recursive: true });
  writeFileSync(path.join(app, '.env'), `DATABASE_URL=postgres://app@db/app\nAPI_KEY=${SECRET}\n`);
  chmodSync(path.join(app, '.env'), 0o600);
  writeFileSync(path.join(app, 'docker-compose.yml'), 'services:\n  redis:\n    image: redis:7\n');
  writeFileSync(path.join(app, 'docker-compose.prod.yml'), 'services:\n  redis:\n    restart: always\n');
  chmodSync(path.join(app, 'docker-compose.yml'), 0o644);
  writeFileSync(path.join(app, 'conf', 'redis.conf'), 'maxmemory 2gb\nappendonly yes\n');
  writeFileSync(path.join(app, 'conf', 'nested', 'deeper', 'app.ini'), '[x]\ny=1\n');
  writeFileSync(path.join(app, 'conf', 'old.bak'), 'excluded\n');
  writeFileSync(path.join(app, 'rules', 'team-a', 'alerts', 'cpu.yml'), 'alert: HighCPU\n');
  writeFileSync(path.join(app, 'rules', 'team-a', 'notes.txt'), 'not a rule\n');
  symlinkSync('conf/redis.conf', path.join(app, 'current'));
  // Distinct, old mtimes, so a restore that forgot them would show.
  const t = new Date('2024-03-01T10:20:30.456Z');
  for (const f of ['.env', 'docker-compose.yml', 'conf/redis.conf', 'conf/nested/deeper/app.ini'])
    utimesSync(path.join(app, f), t, t);
}

async function backup(): Promise<string> {
  const b = await w.client.workflow.execute(backupWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: id('backup-files'),
    args: [{ sources: ['appconf'], verify: 'read-data' }],
  });
  return b.recoveryPointId;
}

function repoObjects(dir: string): Buffer[] {
  const out: Buffer[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { ...process.env, ...cfg.env },
  };
  const code = await runCli(['--config', cfg.file, ...args], io);
  return { code, out, err };
}

test('files: backup → delete and alter → restore gives back bytes, modes, mtimes and links; the secret is in no repository object', async () => {
  seed();
  const want = tree(app);
  assert.ok(!('conf/old.bak' in want) || want['conf/old.bak'], 'fixture has the excluded file');
  const rp = await backup();

  // The secret's plaintext (and its base64) appears in no object of the repository.
  const repoDir = cfg.config.repository.kind === 'local' ? cfg.config.repository.path : '';
  const objects = repoObjects(repoDir);
  assert.ok(objects.length > 3, `repository has objects (${objects.length})`);
  for (const needle of [SECRET, Buffer.from(SECRET).toString('base64').slice(0, 24), 'DATABASE_URL=postgres'])
    assert.ok(!objects.some((o) => o.includes(needle)), `"${needle}" appears in a repository object`);

  // Drift: delete, alter content and mode, replace the link.
  rmSync(path.join(app, '.env'));
  writeFileSync(path.join(app, 'conf', 'redis.conf'), 'maxmemory 1gb\n');
  chmodSync(path.join(app, 'docker-compose.yml'), 0o666);
  rmSync(path.join(app, 'current'));
  symlinkSync('/etc/passwd', path.join(app, 'current'));
  rmSync(path.join(app, 'conf', 'nested'), { recursive: true });
  writeFileSync(path.join(app, 'docker-compose.override.yml'), 'new: true\n');

  // diff without contents: names and attributes only, no secret and no file text.
  const d = await cli(['diff', rp, '--source', 'appconf', '--json']);
  assert.equal(d.code, 0, d.err);
  const doc = JSON.parse(d.out) as { added: string[]; removed: string[]; changed: { path: string; what: string[] }[] };
  assert.deepEqual(doc.added, ['docker-compose.override.yml']);
  assert.deepEqual(doc.removed.sort(), ['.env', 'conf/nested', 'conf/nested/deeper', 'conf/nested/deeper/app.ini']);
  const changed = Object.fromEntries(doc.changed.map((c) => [c.path, c.what]));
  assert.deepEqual(
    changed['conf/redis.conf']?.filter((x) => x !== 'mtime'),
    ['content'],
  );
  assert.deepEqual(changed['docker-compose.yml'], ['mode']);
  assert.ok(changed.current?.includes('target'), JSON.stringify(changed));
  assert.ok(!d.out.includes(SECRET) && !d.out.includes('maxmemory'), 'diff printed contents without --show-content');
  const shown = await cli(['diff', rp, '--source', 'appconf', '--show-content']);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, /-maxmemory 2gb/);
  assert.match(shown.out, /\+maxmemory 1gb/);
  assert.ok(shown.out.includes(SECRET), 'with --show-content the removed .env is shown');

  const damaged = tree(app, true);
  const damagedRoot = lstatSync(app).mtimeMs;
  // A restore whose verification fails rolls back: the folder exactly as it was (the created and overwritten files too).
  const e = await w.client.workflow
    .execute(restoreWorkflow, {
      taskQueue: cfg.taskQueue,
      workflowId: id('restore-files-fail'),
      args: [{ recoveryPointId: rp, sources: ['appconf'], injectVerifyFailure: 'appconf' }],
    })
    .then(
      () => assert.fail('the restore with an injected verify failure should fail'),
      (x: unknown) => x,
    );
  assert.ok(e instanceof WorkflowFailedError, String(e));
  const cause = e.cause as { message: string; details?: unknown[] };
  assert.deepEqual((cause.details?.[0] as RestoreResult).rollbackFailures, [], cause.message);
  assert.deepEqual(tree(app, true), damaged, 'after the rollback: the drifted folder exactly as it was');
  assert.ok(Math.abs(lstatSync(app).mtimeMs - damagedRoot) < 0.01, 'after the rollback: even the folder mtimes');
  assert.ok(!readdirSync(cfg.config.worker.scratchDir).some((f) => f.startsWith('files-restore-')), 'journal dropped');

  const res = await w.client.workflow.execute(restoreWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: id('restore-files'),
    args: [{ recoveryPointId: rp, sources: ['appconf'] }],
  });
  assert.equal(res.ok, true, JSON.stringify(res));
  assert.ok(res.safetyRecoveryPointId, 'a safety backup was taken');
  const got = tree(app);
  // Files added since the point stay (a restore never deletes what the backup does not know).
  assert.ok(got['docker-compose.override.yml']);
  delete got['docker-compose.override.yml'];
  // Folder mtimes move with every change inside them; compared via the entries instead.
  assert.deepEqual(got, want, 'after restore: bytes, modes, mtimes and links of every entry');
  assert.equal(readlinkSync(path.join(app, 'current')), 'conf/redis.conf');
  assert.equal(lstatSync(path.join(app, '.env')).mode & 0o777, 0o600);
  assert.equal(lstatSync(path.join(app, 'docker-compose.yml')).mode & 0o777, 0o644);

  const clean = await cli(['diff', rp, '--source', 'appconf', '--json']);
  const cdoc = JSON.parse(clean.out) as { removed: string[]; changed: unknown[] };
  assert.deepEqual([cdoc.removed, cdoc.changed], [[], []], clean.out);
});

test('files: restore elsewhere (--to-dir) writes the selection below another folder and leaves the source alone', async () => {
  seed();
  const rp = await backup();
  const before = tree(app);
  const other = path.join(scratchDir('files-elsewhere'), 'copy');
  const r = await cli(['restore', rp, '--source', 'appconf', '--to-dir', other, '--wait', '--json']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.deepEqual(tree(app), before, 'the configured folder is untouched');
  const copy = tree(other);
  for (const [k, v] of Object.entries(before))
    if (!k.endsWith('.bak') && !k.includes('notes.txt')) assert.equal(copy[k], v, k);
  assert.equal(copy['conf/old.bak'], undefined, 'excluded file not restored');
  assert.equal(copy['rules/team-a/notes.txt'], undefined, 'a file outside the globs is not restored');
  const bad = await cli(['restore', rp, '--source', 'appconf', '--to-dir', 'relative/dir']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--to-dir "relative\/dir" must be an absolute folder path/);
});

test('files: a restore drill restores into a scratch folder, validates it against the backup and removes it', async () => {
  seed();
  const rp = await backup();
  const before = tree(app, true);
  const r = await w.client.workflow.execute(drillWorkflow, {
    taskQueue: cfg.taskQueue,
    workflowId: id('drill-files'),
    args: [{ recoveryPointId: rp, sources: ['appconf'], trigger: 'test' }],
  });
  assert.equal(r.verdict, 'passed', r.reasons.join('; '));
  const s = r.sources.find((x) => x.source === 'appconf')!;
  assert.ok(s.ok, JSON.stringify(s));
  assert.ok(s.target.startsWith(path.join(cfg.config.worker.scratchDir, 'drills', r.drillId)), s.target);
  assert.equal(existsSync(s.target), false, 'the scratch folder was removed');
  assert.deepEqual(tree(app, true), before, 'production files untouched by the drill');
});
