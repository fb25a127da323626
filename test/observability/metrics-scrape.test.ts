import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { backupWorkflow, restoreWorkflow, verifyWorkflow } from '../../workflows';
import { createActivities } from '../../activities';
import { RepositoryProvider } from '../../activities/repository';
import { createLifeboatWorker } from '../../workers/worker';
import { startObservability, type Observability } from '../../observability';
import { LifeboatMetrics } from '../../observability/metrics';
import { projectRoot } from '../servers/tools';
import { dashboardExpressions, metricNames, ruleExpressions } from './promql-names';
import { startReceivers, type Receivers } from './notification-receivers';
import type { BackupResult } from '../../workflows/types';
import { makeStores, seedQdrant, seedRedis, writeFaissIndex, type Stores } from '../workflows/helpers';

let stores: Stores;
let obs: Observability;
let repos: RepositoryProvider;
let stop: () => Promise<void>;
let client: Client;
let backup: BackupResult;
let receivers: Receivers;

/** `name{labels} value` lines of a Prometheus text exposition, by metric name. */
function parse(text: string): Map<string, { labels: Record<string, string>; value: number }[]> {
  const out = new Map<string, { labels: Record<string, string>; value: number }[]>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    const list = out.get(m[1]) ?? [];
    list.push({ labels, value: Number(m[3]) });
    out.set(m[1], list);
  }
  return out;
}

const scrape = async () => {
  const r = await fetch(obs.metricsUrl!);
  assert.equal(r.status, 200);
  return parse(await r.text());
};
const value = (m: ReturnType<typeof parse>, name: string, labels: Record<string, string>) =>
  m.get(name)?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

before(async () => {
  // The harness turns metrics off for every other test's worker; this one serves them (on a free port, below).
  receivers = await startReceivers({ hook: () => ({ status: 200, body: '{}' }) });
  process.env.LIFEBOAT_SCRAPE_TEST_HOOK = `${receivers.base}/hook`;
  stores = await makeStores('obs', [], {
    observability: {
      metrics: { listen: '127.0.0.1:9464' },
      notifications: [
        { name: 'ops', kind: 'webhook', url: { env: 'LIFEBOAT_SCRAPE_TEST_HOOK' }, events: ['backup.failed'] },
      ],
    },
  });
  await seedRedis(stores.redis.url, 'obs');
  mkdirSync(stores.faissDir, { recursive: true });
  writeFaissIndex(stores.faissFile, 3);
  await seedQdrant(stores.qdrant, stores.collection, 3);
  const config = stores.cfg.config;
  repos = new RepositoryProvider(config);
  // TTL 0: every scrape reads the repository, so the test sees the new point at once.
  obs = await startObservability(config, () => repos.get(), { listen: '127.0.0.1:0', stateTtlMs: 0 });
  const activities = createActivities({ config, repositories: repos });
  const { worker, connection: nc } = await createLifeboatWorker({
    address: config.temporal.address,
    taskQueue: config.temporal.taskQueue,
    activities,
    preferBundle: false,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
  stop = async () => {
    worker.shutdown();
    await running;
    await activities.closeActivities();
    await nc.close();
    await connection.close();
  };
  backup = await client.workflow.execute(backupWorkflow, {
    taskQueue: config.temporal.taskQueue,
    workflowId: `test-obs-backup-${randomUUID().slice(0, 8)}`,
    args: [{}],
  });
  // A backup that fails (unknown source): counted as a backup failure and an activity error.
  await assert.rejects(
    client.workflow.execute(backupWorkflow, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `test-obs-bad-${randomUUID().slice(0, 8)}`,
      args: [{ sources: ['no-such-source'] }],
    }),
  );
  // What the drill workflow writes (repository records are the one place features report to).
  await (
    await repos.get()
  ).records.put('drills', '20261201T120000Z-test', { ok: true, sources: ['meta'], rtoMs: 4200 });
  // What prune and a DR incident write.
  const repo = await repos.get();
  await repo.records.put('prune', '20261201T130000Z-test', { ok: true, reclaimedBytes: 4096 });
  await repo.records.put('incidents', '20261201T140000Z-test', { phase: 'completed', ok: true, rtoMs: 90_000 });
  // A restore of one source (reports its outcome like every operation), and one that fails at pre-flight.
  await client.workflow.execute(restoreWorkflow, {
    taskQueue: config.temporal.taskQueue,
    workflowId: `test-obs-restore-${randomUUID().slice(0, 8)}`,
    args: [{ recoveryPointId: backup.recoveryPointId, sources: ['meta'] }],
  });
  await assert.rejects(
    client.workflow.execute(restoreWorkflow, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `test-obs-restore-bad-${randomUUID().slice(0, 8)}`,
      args: [{ recoveryPointId: 'nosuchpoint' }],
    }),
  );
  await client.workflow.execute(verifyWorkflow, {
    taskQueue: config.temporal.taskQueue,
    workflowId: `test-obs-verify-${randomUUID().slice(0, 8)}`,
    args: [{ recoveryPointId: backup.recoveryPointId, readData: true }],
  });
});

after(async () => {
  await stop?.();
  await obs?.close();
  await repos?.close();
  await stores?.stop();
  await receivers?.close();
});

test('after a backup, the state gauges describe the new recovery point of every source', async () => {
  const m = await scrape();
  const rp = await (await repos.get()).getRecoveryPoint(backup.recoveryPointId);
  const when = Date.parse(rp.time) / 1000;
  for (const [source, type, items] of [
    ['meta', 'redis', 507],
    ['vectors', 'faiss', 300],
    ['docs', 'qdrant', 200],
  ] as const) {
    const s = backup.sources.find((x) => x.source === source)!;
    assert.equal(value(m, 'vector_store_last_backup_timestamp', { source, type }), when, source);
    assert.equal(value(m, 'backup_last_success_timestamp', { source }), when, source);
    assert.equal(value(m, 'vector_store_vector_count', { source, type }), items, source);
    assert.equal(value(m, 'vector_store_backup_size_bytes', { source, type }), s.bytes, source);
    const age = value(m, 'vector_store_backup_age_seconds', { source, type })!;
    assert.ok(age >= 0 && age < 3600, `${source}: age ${age}`);
    // dev profile targets (config/presets.ts), in seconds.
    const src = stores.cfg.config.sources.find((x) => x.name === source)!;
    assert.equal(value(m, 'lifeboat_rpo_target_seconds', { source }), src.targets.rpo / 1000);
    assert.equal(value(m, 'lifeboat_rto_target_seconds', { source }), src.targets.rto / 1000);
    assert.ok(value(m, 'lifeboat_backup_bytes_per_second', { source })! > 0, source);
    assert.equal(value(m, 'vector_store_backup_success_total', { source }), 1, source);
    assert.equal(value(m, 'vector_store_backup_failure_total', { source }), 0, source);
    assert.equal(value(m, 'vector_store_backup_duration_seconds_count', { source, type }), 1, source);
  }
  assert.equal(value(m, 'lifeboat_operations_total', { operation: 'backup', outcome: 'success' }), 1);
  assert.equal(value(m, 'lifeboat_operations_total', { operation: 'verify', outcome: 'success' }), 1);
  assert.equal(value(m, 'lifeboat_operations_total', { operation: 'verify', outcome: 'failure' }), 0);
  assert.equal(value(m, 'lifeboat_operations_total', { operation: 'restore', outcome: 'success' }), 1);
  assert.equal(value(m, 'lifeboat_operations_total', { operation: 'restore', outcome: 'failure' }), 1);
  for (const operation of ['backup', 'restore', 'verify'])
    assert.ok(
      value(m, 'lifeboat_operation_duration_seconds_count', { operation, outcome: 'success' })! >= 1,
      `${operation} duration recorded`,
    );
  // Operations that did not run here are exported at zero, so increase() sees their first failure.
  for (const operation of ['drill', 'prune', 'dr'])
    for (const outcome of ['success', 'failure'])
      assert.equal(value(m, 'lifeboat_operations_total', { operation, outcome }), 0, `${operation} ${outcome}`);
  assert.equal(value(m, 'lifeboat_repository_recovery_points', {}), 1);
  assert.equal(value(m, 'lifeboat_operations_total', { operation: 'backup', outcome: 'failure' }), 1);
  assert.equal(
    value(m, 'vector_store_operation_errors_total', { operation: 'planBackup', error_type: 'PLAN_INVALID' }),
    1,
  );
  assert.equal(value(m, 'lifeboat_drill_rto_seconds', { source: 'meta' }), 4.2);
  assert.equal(value(m, 'lifeboat_drill_last_success', { source: 'meta' }), 1);
  assert.equal(value(m, 'lifeboat_drill_last_success', { source: 'docs' }), undefined, 'the drill did not cover docs');
  assert.equal(value(m, 'lifeboat_prune_last_success', {}), 1);
  assert.equal(value(m, 'lifeboat_prune_reclaimed_bytes', {}), 4096);
  assert.equal(value(m, 'lifeboat_dr_last_success', {}), 1);
  assert.equal(value(m, 'lifeboat_dr_last_rto_seconds', {}), 90);
  assert.equal(value(m, 'lifeboat_dr_open_incidents', {}), 0);
  // The failed backup was delivered to the webhook; nothing failed.
  assert.equal(receivers.requests('hook').length, 1);
  assert.equal(value(m, 'lifeboat_notifications_total', { destination: 'ops', outcome: 'delivered' }), 1);
  assert.equal(value(m, 'lifeboat_notifications_total', { destination: 'ops', outcome: 'failed' }), 0);
  assert.ok(value(m, 'lifeboat_repository_size_bytes', {})! > 0);
  assert.ok(value(m, 'lifeboat_repository_dedup_ratio', {})! > 0);
  assert.equal(
    value(m, 'vector_store_operation_duration_seconds_count', {
      operation: 'backupSource',
      source: 'meta',
      outcome: 'success',
    }),
    1,
  );
  assert.ok(value(m, 'vector_store_operation_duration_seconds_count', { operation: 'commitRecoveryPoint' })! >= 1);
});

test('a freshly started process (another worker, or this one restarted) reports the same state', async () => {
  const fresh = new LifeboatMetrics();
  fresh.configure(stores.cfg.config, () => repos.get(), 0);
  const text = await fresh.registry.metrics();
  const m = parse(text);
  const live = await scrape();
  for (const name of [
    'vector_store_last_backup_timestamp',
    'vector_store_vector_count',
    'vector_store_backup_size_bytes',
    'lifeboat_repository_recovery_points',
    'lifeboat_repository_size_bytes',
  ]) {
    assert.ok(m.get(name)?.length, `${name} missing from a fresh registry`);
    assert.deepEqual(m.get(name), live.get(name), name);
  }
});

test('every metric the dashboard and the alert rules use is exported by the live worker, with the SDK metrics', async () => {
  const m = await scrape();
  const read = (f: string) => readFileSync(path.join(projectRoot, f), 'utf8');
  const uses = [
    ...ruleExpressions(read('deploy/prometheus/alerts.yml')).map((r) => ({ where: `alert ${r.rule}`, expr: r.expr })),
    ...dashboardExpressions(read('deploy/grafana/lifeboat.json')).map((p) => ({
      where: `panel "${p.panel}"`,
      expr: p.expr,
    })),
  ];
  assert.ok(uses.length >= 20, `only ${uses.length} expressions found`);
  const missing: string[] = [];
  const names = new Set<string>();
  for (const u of uses) {
    const used = metricNames(u.expr);
    assert.ok(used.length, `${u.where} reads no metric: ${u.expr}`);
    for (const n of used) {
      // `up` is Prometheus' own series about the scrape, not something the worker exports.
      if (n === 'up') continue;
      names.add(n);
      if (!m.get(n)?.length) missing.push(`${n} (${u.where})`);
    }
  }
  assert.deepEqual(missing, [], `used but not exported: ${missing.join(', ')}`);
  assert.ok(names.size >= 20, `only ${names.size} metric names found`);
  for (const n of ['vector_store_backup_age_seconds', 'lifeboat_rpo_target_seconds', 'lifeboat_drill_rto_seconds'])
    assert.ok(names.has(n), `${n} is used`);

  // The Temporal SDK's own worker metrics, on the same endpoint: task-queue polling and activity latency.
  const temporal = [...m.keys()].filter((n) => n.startsWith('temporal_'));
  for (const n of [
    'temporal_activity_execution_latency_bucket',
    'temporal_activity_schedule_to_start_latency_bucket',
    'temporal_workflow_task_execution_latency_bucket',
    'temporal_num_pollers',
  ])
    assert.ok(temporal.includes(n), `${n} missing; temporal_* exported: ${temporal.join(', ')}`);
  const activityLatency = m
    .get('temporal_activity_execution_latency_count')
    ?.filter((x) => x.labels.activity_type === 'backupSource')
    .reduce((a, x) => a + x.value, 0);
  assert.ok(activityLatency! >= 3, `backupSource latency observations: ${activityLatency}`);
});
