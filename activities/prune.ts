/**
 * Activities of pruneWorkflow: plan the retention policy, forget what it removes, delete the
 * data nothing references any more (the repository's prune protocol: locks, grace period,
 * condemned lists), record the outcome. Every step is idempotent, so a retry after a worker
 * crash repeats nothing harmful: forgetting a point already gone is skipped, and a retried
 * prune takes over the dead lock of its earlier attempt (same owner) instead of waiting for it.
 */
import { Context } from '@temporalio/activity';
import type { LifeboatConfig } from '../config';
import { LegalHoldError, RecoveryPointNotFoundError, type PruneProgress } from '../repository';
import { PRUNE_RECORD_KIND, type PruneActivities } from '../lib/prune';
import { asActivity } from './failures';
import type { RepositoryProvider } from './repository';
import { planConfiguredRetention } from './retention';

export interface PruneDeps {
  config: LifeboatConfig;
  repositories: RepositoryProvider;
}

/** What a prune heartbeat carries: visible in the UI and in `lifeboat progress`. */
export interface PruneHeartbeat {
  label: string;
  phase: PruneProgress['phase'];
  /** Objects deleted so far, and stored bytes freed. */
  objects: number;
  bytes: number;
  /** The same as objects, under the name the CLI's progress view reads. */
  items: number;
  totalItems?: number;
  totalBytes?: number;
}

export function createPruneActivities({ config, repositories }: PruneDeps): PruneActivities {
  return {
    planRetentionStep: ({ overrides }) =>
      asActivity(async () => {
        const plan = await planConfiguredRetention(await repositories.get(), config, overrides);
        return { timezone: plan.timezone, total: plan.points.length, remove: plan.remove };
      }),

    forgetPoints: ({ ids }) =>
      asActivity(async () => {
        const repo = await repositories.get();
        const forgotten: string[] = [];
        const skipped: { id: string; reason: string }[] = [];
        for (const id of ids) {
          Context.current().heartbeat({ label: 'forget', items: forgotten.length, bytes: 0 });
          try {
            const done = await repo.forget(id);
            if (done.forgotten) forgotten.push(id);
            // S3 Object Lock: the point stays listed and restorable until its retention ends.
            else
              skipped.push({ id, reason: `under S3 Object Lock until ${done.lockedUntil ?? 'its hold is removed'}` });
          } catch (e) {
            // A retry after a crash finds the points it already forgot gone: done, not a failure.
            if (e instanceof RecoveryPointNotFoundError) forgotten.push(id);
            // Held after the plan was made: a hold always wins.
            else if (e instanceof LegalHoldError) skipped.push({ id, reason: e.message });
            else throw e;
          }
        }
        return { forgotten, skipped };
      }),

    extendObjectLocks: () =>
      asActivity(async () => {
        const ctx = Context.current();
        ctx.heartbeat({ label: 'extend object locks', items: 0, bytes: 0 });
        // One request per live object: heartbeat while it runs (a retry simply starts over: idempotent).
        const timer = setInterval(() => ctx.heartbeat({ label: 'extend object locks', items: 0, bytes: 0 }), 2000);
        try {
          return await (await repositories.get()).extendObjectLocks();
        } finally {
          clearInterval(timer);
        }
      }),

    pruneData: (input) =>
      asActivity(async () => {
        const ctx = Context.current();
        const repo = await repositories.get();
        const started = Date.now();
        let latest: PruneHeartbeat = { label: 'prune', phase: 'planning', objects: 0, bytes: 0, items: 0 };
        ctx.heartbeat(latest);
        // Sent even while the prune waits for writers or lists a large repository.
        const timer = setInterval(() => ctx.heartbeat(latest), 2000);
        try {
          const report = await repo.prune({
            graceMs: input.graceMs,
            waitMs: input.waitMs,
            signal: ctx.cancellationSignal,
            // Stable across attempts: a retry takes over the dead lock of the attempt that crashed.
            owner: `${ctx.info.workflowExecution?.workflowId ?? ctx.info.workflowType}/${ctx.info.activityId}`,
            onProgress: (p) =>
              (latest = {
                label: `prune: ${p.phase}`,
                phase: p.phase,
                objects: p.deletedObjects,
                bytes: p.deletedBytes,
                items: p.deletedObjects,
                totalItems: p.plannedObjects || undefined,
                totalBytes: p.plannedBytes || undefined,
              }),
          });
          return {
            deletedObjects: report.deletedChunks + report.deletedIndexes + (report.takenOver?.deletedObjects ?? 0),
            freedBytes: report.deletedBytes,
            keptChunks: report.keptChunks,
            deletedLocks: report.deletedLocks,
            deletedTempFiles: report.deletedPartials,
            ...(report.deferred ? { deferred: report.deferred } : {}),
            ...(report.locked ? { locked: report.locked } : {}),
            attempts: ctx.info.attempt,
            durationMs: Date.now() - started,
          };
        } finally {
          clearInterval(timer);
        }
      }),

    recordPrune: ({ recordId, body }) =>
      asActivity(async () => {
        // Written once per run: a retried write keeps the first.
        await (await repositories.get()).records.put(PRUNE_RECORD_KIND, recordId, body);
      }),
  };
}
