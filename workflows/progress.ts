import { defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import type { WorkflowProgress } from './types';

/** Every Lifeboat workflow answers this query (CLI progress, UI "Queries" tab). */
export const progressQuery = defineQuery<WorkflowProgress>('progress');

/**
 * Small tracker behind the progress query. Times come from the workflow
 * clock, so they are deterministic.
 */
export function trackProgress(initialPhase: string) {
  const now = () => new Date().toISOString();
  const progress: WorkflowProgress = {
    phase: initialPhase,
    sources: {},
    startedAt: workflowInfo().startTime.toISOString(),
    updatedAt: now(),
  };
  setHandler(progressQuery, () => progress);
  return {
    progress,
    phase(phase: string) {
      progress.phase = phase;
      progress.updatedAt = now();
    },
    source(name: string, status: string, detail?: string) {
      progress.sources[name] = detail === undefined ? { status } : { status, detail };
      progress.updatedAt = now();
    },
  };
}
