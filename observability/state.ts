/**
 * State gauges are computed from the repository, never from what this process happened to see:
 * right after a worker restart they are already right, and every worker reports the same values.
 * Other features report here by writing records (repository/records.ts): `records/drills`,
 * `records/prune`, `records/incidents`. The fields read from a record body are all optional
 * ({@link OutcomeRecordFields}); docs/observability.md lists them.
 */
import type { LifeboatConfig } from '../config';
import { POINT_TAGS } from '../lib/domain';
import type { Repository, RecoveryPoint } from '../repository';

/** What the metrics read from a drill, prune or incident record body (every field optional). */
export interface OutcomeRecordFields {
  /** true: passed/succeeded. Else derived from `status`/`verdict`/`outcome`. */
  ok?: boolean;
  status?: string;
  verdict?: string;
  outcome?: string;
  /** Sources the record is about (a drill restores some or all of them). */
  sources?: string[] | { source?: string; name?: string; rtoMs?: number; durationMs?: number; ok?: boolean }[];
  source?: string;
  /** Measured recovery time of the whole drill/incident, in ms. */
  rtoMs?: number;
  durationMs?: number;
  /** ISO time it finished; @default the record's write time. */
  finishedAt?: string;
  /** Incidents: the current phase ("declared", "awaiting-approval", ..., "completed", "aborted"). */
  phase?: string;
  /** Prune: bytes freed. */
  reclaimedBytes?: number;
  freedBytes?: number;
}

const SUCCESS = /^(ok|pass|passed|success|succeeded|completed|complete|done|recovered)$/i;
const FAILURE = /^(fail|failed|failure|error|errored|aborted|rolled-back|rollback-failed|timed-out|cancelled)$/i;
/** Incident phases that are over; anything else counts as open. */
const CLOSED_PHASE = /^(completed|complete|done|aborted|failed|rolled-back|closed|resolved|cancelled)$/i;

/** true/false when the record says so, undefined when it does not tell. */
export function recordOk(b: OutcomeRecordFields): boolean | undefined {
  if (typeof b.ok === 'boolean') return b.ok;
  for (const s of [b.status, b.verdict, b.outcome]) {
    if (typeof s !== 'string') continue;
    if (SUCCESS.test(s)) return true;
    if (FAILURE.test(s)) return false;
  }
  return undefined;
}

export interface SourceState {
  name: string;
  type: string;
  rpoTargetSeconds: number;
  rtoTargetSeconds: number;
  /** Unix seconds of the newest recovery point (not a safety one) holding this source. */
  lastBackupTimestamp?: number;
  lastBackupSizeBytes?: number;
  /** Keys (Redis), vectors (FAISS), points (Qdrant) in the newest recovery point. */
  lastBackupItems?: number;
  lastBackupBytesPerSecond?: number;
  /** Recovery points holding this source. */
  recoveryPoints: number;
  drillTimestamp?: number;
  drillOk?: boolean;
  drillRtoSeconds?: number;
}

export interface RepositoryState {
  computedAt: number;
  sources: SourceState[];
  recoveryPoints: number;
  sizeBytes: number;
  chunkBytes: number;
  /** Plain bytes referenced by every recovery point over the chunk bytes stored (1 = no dedup). */
  dedupRatio: number;
  prune: { timestamp?: number; ok?: boolean; reclaimedBytes?: number; runs: number };
  incidents: {
    open: number;
    total: number;
    byPhase: Record<string, number>;
    lastTimestamp?: number;
    lastOk?: boolean;
    lastRtoSeconds?: number;
  };
  drills: { total: number; failed: number };
  /** Records that could not be read (damaged): named so an alert can point at them. */
  damagedRecords: number;
}

const secs = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);

function itemsOf(a: RecoveryPoint['artifacts'][number]): number {
  const m = (a.metadata ?? {}) as Record<string, unknown>;
  if (typeof m.sourceItems === 'number') return m.sourceItems;
  const redis = m.redis as { keys?: number } | undefined;
  const faiss = m.faiss as { header?: { ntotal?: number } } | undefined;
  const qdrant = m.qdrant as { meta?: { pointsCount?: number } } | undefined;
  return redis?.keys ?? faiss?.header?.ntotal ?? qdrant?.meta?.pointsCount ?? 0;
}

function recordSources(b: OutcomeRecordFields): { name: string; rtoMs?: number; ok?: boolean }[] {
  if (Array.isArray(b.sources))
    return b.sources.flatMap((s) =>
      typeof s === 'string'
        ? [{ name: s }]
        : typeof (s.source ?? s.name) === 'string'
          ? [{ name: (s.source ?? s.name)!, rtoMs: s.rtoMs ?? s.durationMs, ok: s.ok }]
          : [],
    );
  return typeof b.source === 'string' ? [{ name: b.source }] : [];
}

async function listRecords(repo: Repository, kind: string) {
  // Older repositories (or a backend without records yet) simply have none.
  const { records, damaged } = await repo.records.list<OutcomeRecordFields>(kind);
  return { records: records.filter((r) => typeof r.body === 'object' && r.body !== null), damaged: damaged.length };
}

/** One pass over the repository: points, stats and the records other features write. */
export async function computeRepositoryState(repo: Repository, config: LifeboatConfig): Promise<RepositoryState> {
  const points = (await repo.listRecoveryPoints()).filter((rp) => !rp.tags.includes(POINT_TAGS.safety));
  // Newest first, as listRecoveryPoints returns them; sort anyway so this never depends on it.
  points.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const stats = await repo.stats();
  const logical = points.reduce((n, rp) => n + rp.artifacts.reduce((m, a) => m + a.size, 0), 0);
  const [drills, prune, incidents] = await Promise.all([
    listRecords(repo, 'drills'),
    listRecords(repo, 'prune'),
    listRecords(repo, 'incidents'),
  ]);

  const sources: SourceState[] = config.sources.map((s) => {
    const holding = points.filter((rp) => rp.artifacts.some((a) => a.source === s.name));
    const st: SourceState = {
      name: s.name,
      type: s.type,
      rpoTargetSeconds: s.targets.rpo / 1000,
      rtoTargetSeconds: s.targets.rto / 1000,
      recoveryPoints: holding.length,
    };
    const newest = holding[0];
    if (newest) {
      const arts = newest.artifacts.filter((a) => a.source === s.name);
      st.lastBackupTimestamp = Date.parse(newest.time) / 1000;
      st.lastBackupSizeBytes = arts.reduce((n, a) => n + a.size, 0);
      const first = (arts[0]?.metadata ?? {}) as Record<string, unknown>;
      st.lastBackupItems =
        typeof first.sourceItems === 'number' ? first.sourceItems : arts.reduce((n, a) => n + itemsOf(a), 0);
      const ms = first.sourceDurationMs;
      if (typeof ms === 'number' && ms > 0) st.lastBackupBytesPerSecond = st.lastBackupSizeBytes / (ms / 1000);
    }
    // The newest drill that covered this source (a drill naming no sources covers all of them).
    for (let i = drills.records.length - 1; i >= 0; i--) {
      const r = drills.records[i];
      const list = recordSources(r.body);
      const mine = list.length ? list.find((x) => x.name === s.name) : { name: s.name };
      if (!mine) continue;
      st.drillTimestamp = secs(r.body.finishedAt) ?? secs(r.time);
      st.drillOk = mine.ok ?? recordOk(r.body);
      const rto = mine.rtoMs ?? r.body.rtoMs ?? r.body.durationMs;
      if (typeof rto === 'number') st.drillRtoSeconds = rto / 1000;
      break;
    }
    return st;
  });

  const lastPrune = prune.records.at(-1);
  const byPhase: Record<string, number> = {};
  let open = 0;
  for (const r of incidents.records) {
    const phase = typeof r.body.phase === 'string' ? r.body.phase : (r.body.status ?? 'unknown');
    byPhase[phase] = (byPhase[phase] ?? 0) + 1;
    if (!CLOSED_PHASE.test(phase)) open++;
  }
  const lastIncident = incidents.records.at(-1);
  const lastRto = lastIncident?.body.rtoMs ?? lastIncident?.body.durationMs;
  return {
    computedAt: Date.now() / 1000,
    sources,
    recoveryPoints: points.length,
    sizeBytes: stats.bytes,
    chunkBytes: stats.chunkBytes,
    dedupRatio: stats.chunkBytes > 0 ? logical / stats.chunkBytes : 1,
    prune: {
      runs: prune.records.length,
      timestamp: lastPrune ? (secs(lastPrune.body.finishedAt) ?? secs(lastPrune.time)) : undefined,
      ok: lastPrune ? recordOk(lastPrune.body) : undefined,
      reclaimedBytes: lastPrune ? (lastPrune.body.reclaimedBytes ?? lastPrune.body.freedBytes) : undefined,
    },
    incidents: {
      open,
      total: incidents.records.length,
      byPhase,
      lastTimestamp: lastIncident ? (secs(lastIncident.body.finishedAt) ?? secs(lastIncident.time)) : undefined,
      lastOk: lastIncident ? recordOk(lastIncident.body) : undefined,
      lastRtoSeconds: typeof lastRto === 'number' ? lastRto / 1000 : undefined,
    },
    drills: { total: drills.records.length, failed: drills.records.filter((r) => recordOk(r.body) === false).length },
    damagedRecords: drills.damaged + prune.damaged + incidents.damaged,
  };
}
