import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { appendOperationAudit, auditEntryOfReport } from '../../activities/audit';
import { createNotifyActivities } from '../../activities/notify';
import { RepositoryProvider } from '../../activities/repository';
import { runCli } from '../../client/program';
import { AUDIT_GENESIS, AuditChainBrokenError, initRepository, type Repository } from '../../repository';
import { memoryIo, testConfig } from '../client/helpers';

const FAST = { scrypt: { N: 1024, r: 8, p: 1 } };
const entryFile = (url: string, seq: number) => path.join(url, 'records', 'audit', String(seq).padStart(12, '0'));

async function repoWith(url: string, n: number): Promise<Repository> {
  const repo = await initRepository({ url }, 'audit-pw', FAST);
  for (let i = 1; i <= n; i++)
    await repo.audit.append({ operation: 'forget', outcome: 'success', points: [`p${i}`], summary: `entry ${i}` });
  return repo;
}

function runChild(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'audit-append-child.ts'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('audit trail: encrypted, hash-chained, append-only log in the repository', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-audit-'));
  const closers: (() => Promise<void>)[] = [];
  after(async () => Promise.all(closers.map((c) => c())));

  test('entries chain (each carries the previous MAC), record who/what/when, are ciphertext on disk', async () => {
    const url = path.join(dir, 'a');
    const repo = await repoWith(url, 0);
    closers.push(() => repo.close());
    const a = await repo.audit.append({
      operation: 'dr.approve',
      outcome: 'success',
      sources: ['sessions'],
      points: ['20261201T000000Z-aaaaaaaa'],
      summary: 'approved plan 2 of incident INC-SECRET-77',
      who: { workflowId: 'lifeboat-dr-INC-SECRET-77', approver: 'alice' },
    });
    const b = await repo.audit.append({ operation: 'hold', outcome: 'refused', details: { error: 'x' } });
    assert.equal(a.seq, 1);
    assert.equal(a.prev, AUDIT_GENESIS);
    assert.equal(b.seq, 2);
    assert.equal(b.prev, a.mac);
    assert.deepEqual(a.who, {
      user: os.userInfo().username,
      host: os.hostname(),
      workflowId: 'lifeboat-dr-INC-SECRET-77',
      approver: 'alice',
    });
    const listed = await repo.audit.list();
    assert.deepEqual(listed, [a, b]);
    assert.deepEqual(
      (await repo.audit.list({ since: new Date(Date.now() + 60_000) })).map((e) => e.seq),
      [],
    );
    const v = await repo.audit.verify();
    assert.deepEqual(v, { ok: true, entries: 2, head: { seq: 2, mac: b.mac } });
    for (const f of [1, 2]) assert.ok(!readFileSync(entryFile(url, f)).includes('INC-SECRET-77'));
  });

  test('a flipped byte in an entry: --verify names that entry', async () => {
    const url = path.join(dir, 'tamper');
    const repo = await repoWith(url, 4);
    closers.push(() => repo.close());
    const blob = readFileSync(entryFile(url, 3));
    blob[blob.length - 20] ^= 0x40;
    writeFileSync(entryFile(url, 3), blob);
    const v = await repo.audit.verify();
    assert.equal(v.ok, false);
    assert.equal(v.broken?.entry, 'records/audit/000000000003');
    assert.match(v.broken?.problem ?? '', /does not authenticate/);
    assert.deepEqual(v.head, { seq: 2, mac: (await repo.audit.list())[1].mac });
    await assert.rejects(repo.audit.verifyOrThrow(), (e: unknown) => {
      assert.ok(e instanceof AuditChainBrokenError);
      assert.match(e.message, /records\/audit\/000000000003/);
      return true;
    });
  });

  test('an entry rewritten by someone holding the key (valid encryption, changed content): its MAC names it', async () => {
    const url = path.join(dir, 'edit');
    const repo = await repoWith(url, 3);
    closers.push(() => repo.close());
    const e2 = (await repo.audit.list())[1];
    await repo.records.put('audit', '000000000002', { ...e2, outcome: 'failure' }, { overwrite: true });
    const v = await repo.audit.verify();
    assert.equal(v.broken?.entry, 'records/audit/000000000002');
    assert.match(v.broken?.problem ?? '', /MAC does not match/);
  });

  test('a deleted entry: --verify names the missing one; a later append does not hide it', async () => {
    const url = path.join(dir, 'delete');
    const repo = await repoWith(url, 4);
    closers.push(() => repo.close());
    rmSync(entryFile(url, 2));
    await repo.audit.append({ operation: 'forget', outcome: 'success' });
    const v = await repo.audit.verify();
    assert.equal(v.broken?.entry, 'records/audit/000000000002');
    assert.match(v.broken?.problem ?? '', /missing \(removed\)/);
    // Deleting the first entry is caught too.
    const url2 = path.join(dir, 'delete-first');
    const repo2 = await repoWith(url2, 2);
    closers.push(() => repo2.close());
    rmSync(entryFile(url2, 1));
    assert.equal((await repo2.audit.verify()).broken?.entry, 'records/audit/000000000001');
  });

  test('reordered entries (two swapped): --verify names the first out of place', async () => {
    const url = path.join(dir, 'reorder');
    const repo = await repoWith(url, 4);
    closers.push(() => repo.close());
    const tmp = `${entryFile(url, 2)}.swap`;
    renameSync(entryFile(url, 2), tmp);
    renameSync(entryFile(url, 3), entryFile(url, 2));
    renameSync(tmp, entryFile(url, 3));
    const v = await repo.audit.verify();
    assert.equal(v.broken?.entry, 'records/audit/000000000002');
  });

  test('two processes appending at once: one unbroken chain holding every entry of both', async () => {
    const url = path.join(dir, 'concurrent');
    const repo = await repoWith(url, 1);
    closers.push(() => repo.close());
    const n = 25;
    const [x, y] = await Promise.all([
      runChild([url, 'audit-pw', String(n), 'x']),
      runChild([url, 'audit-pw', String(n), 'y']),
    ]);
    assert.equal(x.code, 0, x.stderr);
    assert.equal(y.code, 0, y.stderr);
    const v = await repo.audit.verify();
    assert.equal(v.ok, true, JSON.stringify(v.broken));
    assert.equal(v.entries, 1 + 2 * n);
    const summaries = (await repo.audit.list()).map((e) => e.summary).sort();
    const want = ['entry 1', ...['x', 'y'].flatMap((t) => Array.from({ length: n }, (_, i) => `${t}-${i}`))].sort();
    assert.deepEqual(summaries, want);
  });

  test('workflow outcomes: reportOperation appends them once per activity (retries do not duplicate)', async () => {
    const url = path.join(dir, 'report');
    await (await repoWith(url, 0)).close();
    process.env.LB_AUDIT_PW = 'audit-pw';
    const config = testConfig({ repoUrl: url, passwordEnv: 'LB_AUDIT_PW' });
    const repos = new RepositoryProvider(config);
    closers.push(() => repos.close());
    const acts = createNotifyActivities({ config, audit: (r) => appendOperationAudit(repos, r) });
    const report = {
      operation: 'backup' as const,
      outcome: 'success' as const,
      durationMs: 1234,
      sources: ['sessions'],
      summary: 'backup 20261201T000000Z-12345678 of sessions succeeded',
      details: { workflowId: 'lifeboat-backup-sessions-1', recoveryPointId: '20261201T000000Z-12345678', bytes: 10 },
    };
    await acts.reportOperation(report);
    const repo = await repos.get();
    const [e] = await repo.audit.list();
    assert.equal(e.operation, 'backup');
    assert.equal(e.outcome, 'success');
    assert.deepEqual(e.sources, ['sessions']);
    assert.deepEqual(e.points, ['20261201T000000Z-12345678']);
    assert.equal(e.who.workflowId, 'lifeboat-backup-sessions-1');
    assert.equal(e.details.bytes, 10);
    // Same activity retried: the dedup key makes it one entry.
    const entry = auditEntryOfReport(report, 'run-1/7');
    await repo.audit.append(entry);
    await repo.audit.append(entry);
    assert.equal((await repo.audit.list()).length, 2);
    assert.equal(auditEntryOfReport({ ...report, details: { approver: 'bob' } }).who?.approver, 'bob');
  });

  test('the CLI: forget/hold/key changes are recorded; audit --json, --since, --verify exits 5 naming the entry', async () => {
    const url = path.join(dir, 'cli');
    const repo = await initRepository({ url }, 'cli-audit-pw', FAST);
    const art = await repo.writeArtifact(Readable.from([Buffer.from('hello')]), {
      source: 'sessions',
      kind: 'redis-logical',
      name: 'db0',
    });
    const { written: _w, ...ref } = art;
    const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
    await repo.close();
    process.env.LB_AUDIT_CLI_PW = 'cli-audit-pw';
    const config = testConfig({ repoUrl: url, passwordEnv: 'LB_AUDIT_CLI_PW' });
    const cli = async (...args: string[]) => {
      const { io, out } = memoryIo();
      const code = await runCli(args, io, { config });
      return { code, doc: out.stdout ? (JSON.parse(out.stdout) as Record<string, any>) : undefined, err: out.stderr };
    };
    // A refused operation is recorded as refused.
    assert.notEqual((await cli('forget', '20990101T000000Z-00000000', '--json')).code, 0);
    assert.equal((await cli('hold', rp.id, '--reason', 'legal case 42', '--json')).code, 0);
    assert.notEqual((await cli('forget', rp.id, '--json')).code, 0, 'held: refused');
    process.env.LB_AUDIT_NEW = 'second-key-pw';
    assert.equal(
      (await cli('key', 'add', '--new-password-env', 'LB_AUDIT_NEW', '--scrypt-n', '1024', '--json')).code,
      0,
    );
    const listed = await cli('audit', '--json');
    assert.equal(listed.code, 0, listed.err);
    const ops = (listed.doc?.entries as { operation: string; outcome: string }[]).map(
      (e) => `${e.operation}:${e.outcome}`,
    );
    assert.deepEqual(ops, ['forget:failure', ...(rp ? ['hold:success', 'forget:refused'] : []), 'key.add:success']);
    for (const e of listed.doc?.entries ?? []) assert.equal(e.who.user, os.userInfo().username);
    assert.equal((await cli('audit', '--since', '1h', '--json')).doc?.entries.length, ops.length);
    assert.equal((await cli('audit', '--since', '2099-01-01', '--json')).doc?.entries.length, 0);
    assert.equal((await cli('audit', '--since', 'yesterday-ish', '--json')).code, 2);
    const ok = await cli('audit', '--verify', '--json');
    assert.equal(ok.code, 0);
    assert.equal(ok.doc?.verify.ok, true);

    rmSync(entryFile(url, 2));
    const bad = await cli('audit', '--verify', '--json');
    assert.equal(bad.code, 5);
    assert.equal(bad.doc?.ok, false);
    assert.equal(bad.doc?.verify.broken.entry, 'records/audit/000000000002');
    const { io, out } = memoryIo();
    assert.equal(await runCli(['audit', '--verify'], io, { config }), 5);
    assert.match(out.stdout, /audit trail BROKEN at records\/audit\/000000000002/);
  });
});
