/**
 * A real `lifeboat worker` process, configured as an operator would (S3 repository, tracing to an
 * OTLP/HTTP endpoint, LIFEBOAT_LOG_FORMAT=json), runs a backup started by `lifeboat backup --wait`:
 * - its traces reach an OTLP receiver as one trace: client start → workflow → activities → the
 *   activities' inner phases (read source, chunk, upload, commit);
 * - its log lines are JSON objects carrying workflow and activity ids, and hold no secret.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { initConfiguredRepository } from '../../runtime/configured-repository';
import type { BackupResult } from '../../workflows/types';
import { makeTestConfig, type TestConfig } from '../harness/config';
import { scratchDir, testEnv } from '../harness/env';
import { startRedis, type RedisServer } from '../servers/redis';
import { projectRoot } from '../servers/tools';
import { seedRedis, writeFaissIndex } from '../workflows/helpers';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver';

let receiver: OtlpReceiver;
let redis: RedisServer;
let cfg: TestConfig;
let worker: ChildProcess | undefined;
let workerExited: Promise<void>;
let logFile: string;
let backup: BackupResult;
let workflowId: string;
const secrets: Record<string, string> = {};

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  receiver = await startOtlpReceiver();
  const dir = scratchDir('obs-telemetry');
  redis = await startRedis(path.join(dir, 'redis'));
  await seedRedis(redis.url, 'telemetry');
  const faissFile = path.join(dir, 'faiss', 'vectors.index');
  mkdirSync(path.dirname(faissFile), { recursive: true });
  writeFaissIndex(faissFile, 5);

  const m = testEnv().minio;
  const tag = randomUUID().slice(0, 8).toUpperCase();
  const env = {
    pw: `LIFEBOAT_OBS_PW_${tag}`,
    key: `LIFEBOAT_OBS_S3_KEY_${tag}`,
    secret: `LIFEBOAT_OBS_S3_SECRET_${tag}`,
  };
  secrets.repositoryPassword = `pw-${randomUUID()}`;
  secrets.s3SecretAccessKey = m.secretAccessKey;
  process.env[env.key] = m.accessKeyId;
  process.env[env.secret] = m.secretAccessKey;
  cfg = makeTestConfig({
    sources: [
      { name: 'meta', type: 'redis', url: redis.url, db: 0 },
      { name: 'vectors', type: 'faiss', path: faissFile },
    ],
    passwordEnv: env.pw,
    password: secrets.repositoryPassword,
    extra: {
      repository: {
        url: `s3://${m.bucket}/telemetry-${tag.toLowerCase()}`,
        password: { env: env.pw },
        s3: {
          endpoint: m.endpoint,
          region: m.region,
          forcePathStyle: true,
          accessKeyId: { env: env.key },
          secretAccessKey: { env: env.secret },
        },
      },
      observability: {
        metrics: false,
        tracing: { otlpEndpoint: receiver.url, serviceName: 'lifeboat-worker-test' },
      },
    },
  });
  await (await initConfiguredRepository(cfg.config)).close();

  logFile = path.join(dir, 'worker.log');
  const fd = openSync(logFile, 'a');
  worker = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'client', 'cli.ts'), 'worker', '--config', cfg.file],
    {
      cwd: projectRoot,
      env: {
        ...process.env,
        ...cfg.env,
        [env.key]: m.accessKeyId,
        [env.secret]: m.secretAccessKey,
        LIFEBOAT_LOG_FORMAT: 'json',
        // DEBUG: the SDK's per-workflow and per-activity lines ("Workflow started", "Activity started").
        LIFEBOAT_LOG_LEVEL: 'DEBUG',
      },
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  const w = worker;
  workerExited = new Promise<void>((r) => w.once('exit', () => r()));

  // The operator's CLI traces too: its StartWorkflow span is the root. Without --wait the
  // process exits right after starting the workflow, so the span must be flushed before it does.
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'client', 'cli.ts'), 'backup', '--json', '--config', cfg.file],
    { cwd: projectRoot, env: { ...process.env, ...cfg.env } },
  );
  workflowId = (JSON.parse(stdout) as { operation: { workflowId: string } }).operation.workflowId;
  const connection = await Connection.connect({ address: cfg.config.temporal.address });
  try {
    const client = new Client({ connection, namespace: cfg.config.temporal.namespace });
    backup = await client.workflow.getHandle<() => Promise<BackupResult>>(workflowId).result();
  } finally {
    await connection.close();
  }
});

after(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill('SIGTERM');
    await Promise.race([workerExited, sleep(60_000)]);
    if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  }
  await receiver?.close();
  await redis?.stop();
});

/** The spans of one trace, with a way to walk up from any of them. */
function traceOf(spans: ReceivedSpan[], traceId: string) {
  const mine = spans.filter((s) => s.traceId === traceId);
  const byId = new Map(mine.map((s) => [s.spanId, s]));
  const ancestry = (s: ReceivedSpan): string[] => {
    const names: string[] = [];
    for (let p = s.parentSpanId && byId.get(s.parentSpanId); p; p = p.parentSpanId && byId.get(p.parentSpanId))
      names.push(p.name);
    return names;
  };
  return { spans: mine, byId, ancestry, named: (n: string) => mine.filter((s) => s.name === n) };
}

const EXPECTED = [
  'StartWorkflow:backupWorkflow',
  'RunWorkflow:backupWorkflow',
  'StartActivity:planBackup',
  'RunActivity:planBackup',
  'RunActivity:backupSource',
  'read source',
  'chunk',
  'upload',
  'RunActivity:commitRecoveryPoint',
  'commit',
  'RunActivity:reportOperation',
];

test('one trace holds the client start, the workflow, its activities and their inner phases', async () => {
  assert.ok(backup.recoveryPointId, 'the backup committed a recovery point');
  // The worker's batch processor exports every few seconds: wait for the whole trace.
  const deadline = Date.now() + 120_000;
  let t: ReturnType<typeof traceOf> | undefined;
  for (;;) {
    const run = receiver.spans.find(
      (s) => s.name === 'RunWorkflow:backupWorkflow' && s.attributes.workflowId === workflowId,
    );
    if (run) {
      t = traceOf(receiver.spans, run.traceId);
      const reads = t.named('read source').length;
      if (EXPECTED.every((n) => t!.named(n).length) && reads >= 2 && t.named('commit').length) break;
    }
    if (Date.now() > deadline)
      assert.fail(
        `trace incomplete after 120 s; received: ${[...new Set(receiver.spans.map((s) => s.name))].join(', ') || 'nothing'}\n` +
          `worker log tail:\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
      );
    await sleep(500);
  }
  assert.ok(
    receiver.contentTypes.every((c) => c.startsWith('application/json')),
    receiver.contentTypes.join(', '),
  );

  // One tree: a single root (the client's start span), every other span's parent in the same trace.
  const roots = t.spans.filter((s) => !s.parentSpanId || !t!.byId.has(s.parentSpanId));
  assert.deepEqual(
    roots.map((s) => s.name),
    ['StartWorkflow:backupWorkflow'],
    'exactly one root: every span connects to the client start span',
  );
  const [root] = roots;
  assert.equal(root.serviceName, 'lifeboat-worker-test');
  assert.deepEqual(t.ancestry(t.named('RunWorkflow:backupWorkflow')[0]), ['StartWorkflow:backupWorkflow']);

  // Each source's backup activity holds its read, and the read holds chunking and upload.
  const sources = t.named('RunActivity:backupSource');
  assert.equal(sources.length, 2, 'one backupSource activity per source');
  for (const a of sources) assert.equal(a.attributes.temporalWorkflowId, workflowId);
  const reads = t.named('read source');
  assert.deepEqual(reads.map((r) => r.attributes['lifeboat.source']).sort(), ['meta', 'vectors']);
  for (const r of reads) {
    const up = t.ancestry(r);
    assert.equal(up[0], 'RunActivity:backupSource', `read source of ${String(r.attributes['lifeboat.source'])}`);
    assert.ok(
      up.includes('RunWorkflow:backupWorkflow') && up.at(-1) === 'StartWorkflow:backupWorkflow',
      up.join(' < '),
    );
  }
  for (const phase of ['chunk', 'upload']) {
    const list = t.named(phase);
    assert.ok(list.length >= 2, `${phase}: at least one per source`);
    for (const s of list) assert.equal(t.ancestry(s)[0], 'read source', `${phase} runs inside read source`);
    assert.deepEqual(
      [...new Set(list.map((s) => s.attributes['lifeboat.source']))].sort(),
      ['meta', 'vectors'],
      `${phase} spans of both sources`,
    );
  }
  const chunkBytes = t.named('chunk').reduce((n, s) => n + Number(s.attributes['lifeboat.bytes'] ?? 0), 0);
  assert.equal(chunkBytes, backup.bytes, 'the chunk spans account for every byte backed up');

  const commit = t.named('commit');
  assert.equal(commit.length, 1);
  assert.equal(t.ancestry(commit[0])[0], 'RunActivity:commitRecoveryPoint');
  assert.equal(commit[0].statusCode !== 2, true, 'commit succeeded');
  assert.ok(t.ancestry(t.named('RunActivity:reportOperation')[0]).includes('RunWorkflow:backupWorkflow'));
});

test('LIFEBOAT_LOG_FORMAT=json: every worker log line is a JSON object; workflow and activity lines carry their ids; no secret', async () => {
  // SIGTERM: the worker logs its shutdown too, and every line is flushed.
  worker!.kill('SIGTERM');
  await Promise.race([workerExited, sleep(90_000)]);
  const text = readFileSync(logFile, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim());
  assert.ok(lines.length > 10, `only ${lines.length} log lines`);
  const notJson: string[] = [];
  const entries: Record<string, unknown>[] = [];
  for (const l of lines) {
    try {
      const e = JSON.parse(l) as unknown;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) notJson.push(l);
      else entries.push(e as Record<string, unknown>);
    } catch {
      notJson.push(l);
    }
  }
  assert.deepEqual(notJson, [], 'lines that are not JSON objects');
  for (const e of entries) {
    assert.ok(!Number.isNaN(Date.parse(e.time as string)), `no time: ${JSON.stringify(e)}`);
    assert.match(String(e.level), /^(TRACE|DEBUG|INFO|WARN|ERROR)$/, JSON.stringify(e));
    assert.equal(typeof e.message, 'string', JSON.stringify(e));
  }
  // Activity lines: the activity's own ids and its workflow's.
  const backupSource = entries.filter((e) => e.activityType === 'backupSource' && e.workflowId === workflowId);
  assert.ok(backupSource.length >= 2, 'a line per backupSource activity');
  for (const e of backupSource) {
    assert.equal(typeof e.activityId, 'string');
    assert.equal(typeof e.workflowRunId, 'string');
  }
  assert.deepEqual([...new Set(backupSource.map((e) => e.message))].sort(), ['Activity completed', 'Activity started']);
  // Workflow lines: the workflow's ids.
  const wf = entries.filter((e) => e.workflowType === 'backupWorkflow' && e.workflowId === workflowId && !e.activityId);
  assert.ok(
    wf.some((e) => e.message === 'Workflow started' && typeof e.runId === 'string'),
    'a "Workflow started" line with workflowId and runId',
  );
  // The repository password and the S3 secret key, in any form a log could hold them.
  for (const [name, secret] of Object.entries(secrets))
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])
      assert.ok(!text.includes(form), `the worker log holds the ${name}`);
});
