import { ErrorCode } from '../lib/error-codes';
import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReindexActivities, ReindexPlan } from '../activities/types';
import { ACTIVITY_PROFILES } from './activity-profiles';
import { progressQuery } from './progress';
import { SA } from './search-attributes';
import { surfaceFailure } from './failures';
import type { WorkflowProgress } from './types';

const short = proxyActivities<ReindexActivities>(ACTIVITY_PROFILES.short);
const streaming = proxyActivities<ReindexActivities>(ACTIVITY_PROFILES.streaming);

export interface ReindexInput {
  /** Redis source holding the records. */
  from: string;
  /** Qdrant (with alias) or FAISS source to rebuild. */
  to: string;
  /** Carried across continue-as-new; absent on the first run. */
  state?: ReindexState;
}

/** The checkpoint: everything a new run (or a new worker) needs to go on where the last batch ended. */
export interface ReindexState {
  reindexId: string;
  plan: ReindexPlan;
  cursor: string;
  batchNo: number;
  records: number;
  skipped: number;
  startedAtMs: number;
  runs: number;
}

export interface ReindexProgress {
  phase: string;
  records: number;
  total: number;
  batches: number;
  runs: number;
  /** Records per second since the reindex started. */
  ratePerSecond: number;
  /** Seconds left at that rate; null before the first batch. */
  etaSeconds: number | null;
}

export interface ReindexResult {
  records: number;
  skipped: number;
  target: string;
  previous: string | null;
  probes: number;
  durationMs: number;
  runs: number;
}

export const reindexProgressQuery = defineQuery<ReindexProgress>('reindexProgress');

/**
 * Rebuilds a vector store from Redis: plan (dimension checked before anything
 * is created), one activity per SCAN page (embedded, cached, written to the
 * new collection/file), checkpointed in workflow state and continued as new
 * every `batchesPerRun` batches so the history stays small; then the new
 * index is validated and switched in atomically. Any failure removes what was
 * built; the live store is untouched until the switch.
 */
export async function reindexWorkflow(input: ReindexInput): Promise<ReindexResult> {
  upsertSearchAttributes([
    { key: SA.kind, value: 'reindex' },
    { key: SA.source, value: [input.from, input.to] },
  ]);
  let phase = input.state ? 'embedding' : 'planning';
  let state = input.state;
  const progress = (): ReindexProgress => {
    const s = state;
    const elapsed = s ? (Date.now() - s.startedAtMs) / 1000 : 0;
    const rate = s && elapsed > 0 ? s.records / elapsed : 0;
    const total = s?.plan.total ?? 0;
    return {
      phase,
      records: s?.records ?? 0,
      total,
      batches: s?.batchNo ?? 0,
      runs: s?.runs ?? 1,
      ratePerSecond: Math.round(rate * 10) / 10,
      etaSeconds: rate > 0 ? Math.max(0, Math.round((total - (s?.records ?? 0)) / rate)) : null,
    };
  };
  setHandler(reindexProgressQuery, progress);
  setHandler(progressQuery, (): WorkflowProgress => {
    const p = progress();
    return {
      phase: p.phase,
      sources: {
        [input.to]: {
          status: p.phase,
          detail: `${p.records}/${p.total} records, ${p.ratePerSecond}/s, ETA ${p.etaSeconds ?? '?'} s`,
        },
      },
      startedAt: new Date(state?.startedAtMs ?? workflowInfo().startTime.getTime()).toISOString(),
      updatedAt: new Date().toISOString(),
    };
  });
  const reindexId = state?.reindexId ?? workflowInfo().runId.replace(/-/g, '').slice(-12);
  const ref = { reindexId, from: input.from, to: input.to };
  try {
    if (!state) {
      setCurrentDetails(`Planning the reindex of ${input.to} from ${input.from}`);
      const plan = await short.prepareReindex(ref);
      state = {
        reindexId,
        plan,
        cursor: '0',
        batchNo: 0,
        records: 0,
        skipped: 0,
        startedAtMs: Date.now(),
        runs: 1,
      };
    }
    const s = state;
    phase = 'embedding';
    let batchesThisRun = 0;
    while (!(s.batchNo > 0 && s.cursor === '0')) {
      if (batchesThisRun >= s.plan.batchesPerRun) {
        setCurrentDetails(`Checkpoint after ${s.records} records: continuing as new`);
        await continueAsNew<typeof reindexWorkflow>({ ...input, state: { ...s, runs: s.runs + 1 } });
      }
      const out = await streaming.reindexBatch.executeWithOptions(
        { summary: `Embed batch ${s.batchNo} (${s.records}/${s.plan.total})` },
        [{ ...ref, cursor: s.cursor, batchNo: s.batchNo, dimension: s.plan.dimension, target: s.plan.target }],
      );
      s.cursor = out.cursor;
      s.batchNo++;
      s.records += out.records;
      s.skipped += out.skipped;
      batchesThisRun++;
      setCurrentDetails(`${s.records}/${s.plan.total} records embedded`);
    }
    phase = 'validating';
    const done = await streaming.finishReindex({ ...ref, dimension: s.plan.dimension, target: s.plan.target });
    await short.cleanupReindex(ref);
    phase = 'done';
    setCurrentDetails(`Rebuilt ${done.target} from ${input.from}: ${done.records} records`);
    return {
      ...done,
      skipped: s.skipped,
      durationMs: Date.now() - s.startedAtMs,
      runs: s.runs,
    };
  } catch (e) {
    if (e instanceof ContinueAsNew) throw e;
    phase = 'failed';
    const target = state?.plan.target;
    await CancellationScope.nonCancellable(() => short.abortReindex({ ...ref, target }));
    const failure = surfaceFailure(e);
    const msg = failure instanceof Error ? failure.message : String(failure);
    setCurrentDetails(`Reindex failed, the live store untouched: ${msg}`);
    if (isCancellation(e) || failure instanceof ApplicationFailure) throw failure;
    throw ApplicationFailure.create({
      message: `reindex of ${input.to} from ${input.from} failed: ${msg}`,
      type: ErrorCode.PLAN_INVALID,
      nonRetryable: true,
    });
  }
}
