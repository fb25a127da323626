/**
 * Lifeboat's Prometheus metrics (docs/observability.md lists each one). Two kinds:
 * - events (counters, histograms) recorded by this process: the activity interceptor records every
 *   activity's duration and outcome, `reportOperation` every workflow's outcome;
 * - state gauges computed from the repository at scrape time (cached briefly), so they are right
 *   after a restart and equal on every worker.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LifeboatConfig } from '../config';
import type { Repository } from '../repository';
import { computeRepositoryState, type RepositoryState } from './state';

export const OPERATIONS = ['backup', 'restore', 'verify', 'drill', 'prune', 'dr'] as const;
export const OUTCOMES = ['success', 'failure', 'cancelled'] as const;
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];

export class LifeboatMetrics {
  readonly registry = new Registry();
  private stateSource?: { config: LifeboatConfig; repository: () => Promise<Repository>; ttlMs: number };
  private cached?: { at: number; state: RepositoryState };
  private refreshing?: Promise<RepositoryState | undefined>;

  readonly backupDuration = new Histogram({
    name: 'vector_store_backup_duration_seconds',
    help: 'Duration of one source backup (the backupSource activity, successful attempts)',
    labelNames: ['source', 'type'],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly backupSuccess = new Counter({
    name: 'vector_store_backup_success_total',
    help: 'Backups that committed a recovery point holding this source (and verified it, when configured)',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly backupFailure = new Counter({
    name: 'vector_store_backup_failure_total',
    help: 'Backup workflows of this source that failed',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly operationDuration = new Histogram({
    name: 'vector_store_operation_duration_seconds',
    help: 'Duration of every activity attempt, by activity (operation), source and outcome',
    labelNames: ['operation', 'source', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly operationErrors = new Counter({
    name: 'vector_store_operation_errors_total',
    help: 'Failed activity attempts, by activity (operation), source and error type',
    labelNames: ['operation', 'source', 'error_type'],
    registers: [this.registry],
  });
  readonly workflowOutcomes = new Counter({
    name: 'lifeboat_operations_total',
    help: 'Finished Lifeboat operations (workflows) by operation and outcome',
    labelNames: ['operation', 'outcome'],
    registers: [this.registry],
  });
  readonly workflowDuration = new Histogram({
    name: 'lifeboat_operation_duration_seconds',
    help: 'Duration of finished Lifeboat operations (workflows), start to end',
    labelNames: ['operation', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'lifeboat_notifications_total',
    help: 'Notification deliveries by destination and outcome (delivered, failed)',
    labelNames: ['destination', 'kind', 'outcome'],
    registers: [this.registry],
  });
  readonly stateErrors = new Counter({
    name: 'lifeboat_state_refresh_errors_total',
    help: 'Failed reads of the repository for the state gauges',
    registers: [this.registry],
  });

  constructor() {
    const g = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: RepositoryState) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect: async function (this: Gauge) {
          const s = await self.state();
          this.reset();
          if (s) fill(this, s);
        },
      });
    const self = this;
    const perSource = (
      name: string,
      help: string,
      value: (x: RepositoryState['sources'][number], now: number) => number | undefined,
      withType = true,
    ) =>
      g(name, help, withType ? ['source', 'type'] : ['source'], (gauge, s) => {
        const now = Date.now() / 1000;
        for (const src of s.sources) {
          const v = value(src, now);
          if (v !== undefined && Number.isFinite(v))
            gauge.set(withType ? { source: src.name, type: src.type } : { source: src.name }, v);
        }
      });
    perSource(
      'vector_store_last_backup_timestamp',
      'Unix time of the newest recovery point holding this source',
      (x) => x.lastBackupTimestamp,
    );
    perSource(
      'backup_last_success_timestamp',
      'Unix time of the newest recovery point holding this source (seed 004 name)',
      (x) => x.lastBackupTimestamp,
      false,
    );
    perSource(
      'vector_store_backup_age_seconds',
      'Age of the newest recovery point holding this source (the measured RPO)',
      (x, now) => (x.lastBackupTimestamp === undefined ? undefined : now - x.lastBackupTimestamp),
    );
    perSource(
      'vector_store_backup_size_bytes',
      'Plain bytes of this source in its newest recovery point',
      (x) => x.lastBackupSizeBytes,
    );
    perSource(
      'vector_store_vector_count',
      'Items of this source in its newest recovery point: Redis keys, FAISS vectors, Qdrant points',
      (x) => x.lastBackupItems,
    );
    perSource(
      'lifeboat_backup_bytes_per_second',
      'Throughput of the last backup of this source (plain bytes over the source backup duration)',
      (x) => x.lastBackupBytesPerSecond,
    );
    perSource('lifeboat_rpo_target_seconds', 'Configured RPO target of this source', (x) => x.rpoTargetSeconds, false);
    perSource(
      'lifeboat_rpo_measured_seconds',
      'Measured RPO: age of the newest recovery point of this source',
      (x, now) => (x.lastBackupTimestamp === undefined ? undefined : now - x.lastBackupTimestamp),
      false,
    );
    perSource('lifeboat_rto_target_seconds', 'Configured RTO target of this source', (x) => x.rtoTargetSeconds, false);
    perSource(
      'lifeboat_drill_rto_seconds',
      'Measured RTO of the newest restore drill covering this source (records/drills)',
      (x) => x.drillRtoSeconds,
      false,
    );
    perSource(
      'lifeboat_drill_last_timestamp',
      'Unix time of the newest restore drill covering this source',
      (x) => x.drillTimestamp,
      false,
    );
    perSource(
      'lifeboat_drill_last_success',
      '1 when the newest restore drill covering this source passed, 0 when it failed',
      (x) => (x.drillOk === undefined ? undefined : Number(x.drillOk)),
      false,
    );
    perSource('lifeboat_source_recovery_points', 'Recovery points holding this source', (x) => x.recoveryPoints, false);
    const one = (name: string, help: string, value: (s: RepositoryState) => number | undefined) =>
      g(name, help, [], (gauge, s) => {
        const v = value(s);
        if (v !== undefined && Number.isFinite(v)) gauge.set(v);
      });
    one('lifeboat_repository_up', '1 when the last read of the repository for these gauges succeeded', () => 1);
    one('lifeboat_repository_size_bytes', 'Stored bytes of every object in the repository', (s) => s.sizeBytes);
    one('lifeboat_repository_chunk_bytes', 'Stored bytes of data chunks', (s) => s.chunkBytes);
    one(
      'lifeboat_repository_dedup_ratio',
      'Plain bytes referenced by all recovery points over the chunk bytes stored',
      (s) => s.dedupRatio,
    );
    one('lifeboat_repository_recovery_points', 'Recovery points (safety points excluded)', (s) => s.recoveryPoints);
    one('lifeboat_state_refresh_timestamp', 'Unix time the state gauges were computed', (s) => s.computedAt);
    one('lifeboat_prune_last_timestamp', 'Unix time of the newest prune record', (s) => s.prune.timestamp);
    one('lifeboat_prune_last_success', '1 when the newest prune succeeded, 0 when it failed', (s) =>
      s.prune.ok === undefined ? undefined : Number(s.prune.ok),
    );
    one('lifeboat_prune_reclaimed_bytes', 'Bytes freed by the newest prune', (s) => s.prune.reclaimedBytes);
    one('lifeboat_drills_total', 'Restore drill records in the repository', (s) => s.drills.total);
    one('lifeboat_drills_failed', 'Restore drill records that say the drill failed', (s) => s.drills.failed);
    one(
      'lifeboat_dr_open_incidents',
      'Disaster-recovery incidents not yet completed or aborted',
      (s) => s.incidents.open,
    );
    one(
      'lifeboat_dr_last_rto_seconds',
      'Recovery time of the newest incident record',
      (s) => s.incidents.lastRtoSeconds,
    );
    one('lifeboat_dr_last_success', '1 when the newest incident recovered, 0 when it failed or was aborted', (s) =>
      s.incidents.lastOk === undefined ? undefined : Number(s.incidents.lastOk),
    );
    one(
      'lifeboat_records_damaged',
      'Drill, prune and incident records that could not be read',
      (s) => s.damagedRecords,
    );
    g('lifeboat_dr_incidents', 'Disaster-recovery incident records by phase', ['phase'], (gauge, s) => {
      for (const [phase, n] of Object.entries(s.incidents.byPhase)) gauge.set({ phase }, n);
    });
  }

  /**
   * Where the state gauges come from, and series created at zero for every configured source and
   * operation, so `increase()` sees the first failure after a restart.
   */
  configure(config: LifeboatConfig, repository: () => Promise<Repository>, ttlMs = 15_000): void {
    this.stateSource = { config, repository, ttlMs };
    this.cached = undefined;
    for (const s of config.sources) {
      this.backupSuccess.inc({ source: s.name }, 0);
      this.backupFailure.inc({ source: s.name }, 0);
    }
    for (const operation of OPERATIONS)
      for (const outcome of OUTCOMES) this.workflowOutcomes.inc({ operation, outcome }, 0);
    for (const d of config.observability.notifications)
      for (const outcome of ['delivered', 'failed'])
        this.notifications.inc({ destination: d.name, kind: d.kind, outcome }, 0);
  }

  sourceType(name: string): string {
    return this.stateSource?.config.sources.find((s) => s.name === name)?.type ?? '';
  }

  /** Drops the cached state (after a backup, so the next scrape reads the new point). */
  invalidate(): void {
    this.cached = undefined;
  }

  /** The cached repository state, refreshed when older than the TTL; undefined when the repository cannot be read. */
  async state(): Promise<RepositoryState | undefined> {
    const src = this.stateSource;
    if (!src) return undefined;
    if (this.cached && Date.now() - this.cached.at < src.ttlMs) return this.cached.state;
    this.refreshing ??= (async () => {
      try {
        const state = await computeRepositoryState(await src.repository(), src.config);
        this.cached = { at: Date.now(), state };
        return state;
      } catch {
        // A repository that cannot be read shows as lifeboat_repository_up absent plus this counter.
        this.stateErrors.inc();
        this.cached = undefined;
        return undefined;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}

let singleton: LifeboatMetrics | undefined;
/** One registry per process: every worker in it records into the same metrics. */
export function lifeboatMetrics(): LifeboatMetrics {
  return (singleton ??= new LifeboatMetrics());
}
