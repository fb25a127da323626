import { ErrorCode } from '../lib/error-codes';
import {
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ArtifactHandle, BackupPlan, LifeboatActivities } from '../activities/types';
import { holdTargets } from './target-locks';
import type { BackupInput, BackupResult, SourceBackupResult } from './types';
import { trackProgress } from './progress';
import { mapLimit } from './limit';
import { SA } from './search-attributes';
import { surfaceFailure } from './failures';
import { reportOutcome } from './report';

const short = proxyActivities<LifeboatActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

// Long streaming work: no overall deadline worth guessing, but a worker that
// dies is noticed within the heartbeat timeout and the activity retried.
const long = proxyActivities<LifeboatActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const fmtBytes = (n: number) =>
  n >= 1 << 30
    ? `${(n / (1 << 30)).toFixed(2)} GiB`
    : n >= 1 << 20
      ? `${(n / (1 << 20)).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(1)} KiB`;

/**
 * One recovery point covering the chosen sources: each source streamed into
 * the repository (in parallel, bounded), the manifest committed last, then
 * verified. Nothing is visible in the repository until the commit.
 */
export async function backupWorkflow(input: BackupInput = {}): Promise<BackupResult> {
  try {
    const result = await backup(input);
    await reportOutcome({
      operation: 'backup',
      sources: result.sources.map((s) => s.source),
      summary: `backup ${result.recoveryPointId} of ${result.sources.map((s) => s.source).join(', ')} succeeded`,
      details: { recoveryPointId: result.recoveryPointId, bytes: result.bytes, newBytes: result.newBytes },
    });
    return result;
  } catch (e) {
    const failure = surfaceFailure(e);
    await reportOutcome({
      operation: 'backup',
      error: failure,
      sources: input.sources,
      summary: `backup of ${input.sources?.join(', ') || 'every source'} failed: ${failure instanceof Error ? failure.message : String(failure)}`,
    });
    throw failure;
  }
}

async function backup(input: BackupInput): Promise<BackupResult> {
  const t = trackProgress('planning');
  upsertSearchAttributes([{ key: SA.kind, value: 'backup' }]);
  const plan = await short.planBackup({ sources: input.sources });
  upsertSearchAttributes([{ key: SA.source, value: plan.sources.map((s) => s.name) }]);
  // A backup read while a restore writes the same target would commit a torn point: hold the targets.
  const release = await holdTargets(plan.targets ?? [], 'backup');
  try {
    return await backupHeld(input, plan, t);
  } finally {
    await CancellationScope.nonCancellable(release);
  }
}

async function backupHeld(
  input: BackupInput,
  plan: BackupPlan,
  t: ReturnType<typeof trackProgress>,
): Promise<BackupResult> {
  for (const s of plan.sources) t.source(s.name, 'pending');

  t.phase('backing up');
  setCurrentDetails(`Backing up ${plan.sources.map((s) => s.name).join(', ')}`);
  const backupId = workflowInfo().workflowId;
  const outputs = await mapLimit(plan.sources, plan.parallelism, async (s) => {
    t.source(s.name, 'backing-up');
    try {
      const out = await long.backupSource.executeWithOptions({ summary: `Back up ${s.type} source ${s.name}` }, [
        { source: s.name, backupId },
      ]);
      t.source(
        s.name,
        'backed-up',
        `${fmtBytes(out.summary.bytes)}, ${out.summary.items} items, ${fmtBytes(out.summary.newBytes)} new`,
      );
      return out;
    } catch (e) {
      t.source(s.name, 'failed', e instanceof Error ? e.message : String(e));
      throw e;
    }
  });

  t.phase('committing');
  const artifacts: ArtifactHandle[] = outputs.flatMap((o) => o.artifacts);
  const { id } = await short.commitRecoveryPoint({
    artifacts,
    tags: input.tags ?? [],
    labels: { trigger: input.trigger ?? 'cli', workflowId: workflowInfo().workflowId, runId: workflowInfo().runId },
  });
  upsertSearchAttributes([{ key: SA.recoveryPoint, value: id }]);

  const verify = input.verify ?? plan.verify;
  if (verify !== 'none') {
    t.phase(`verifying (${verify})`);
    const report = await long.verifyRecoveryPoint({ id, readData: verify === 'read-data' });
    if (!report.ok) {
      await reportOutcome({
        operation: 'verify',
        outcome: 'failure',
        sources: plan.sources.map((s) => s.name),
        summary: `recovery point ${id} failed verification right after the backup: ${report.problems.slice(0, 3).join('; ')}`,
        details: { recoveryPointId: id },
      });
      throw ApplicationFailure.nonRetryable(
        `recovery point ${id} failed verification: ${report.problems.slice(0, 5).join('; ')}; run 'lifeboat verify ${id} --read-data' for the full report`,
        ErrorCode.VERIFICATION_FAILED,
      );
    }
  }

  const sources: SourceBackupResult[] = outputs.map((o) => o.summary);
  const result: BackupResult = {
    recoveryPointId: id,
    sources,
    bytes: sources.reduce((a, s) => a + s.bytes, 0),
    newBytes: sources.reduce((a, s) => a + s.newBytes, 0),
    durationMs: Date.now() - workflowInfo().startTime.getTime(),
    verified: verify,
  };
  t.phase('done');
  setCurrentDetails(`Recovery point ${id}: ${fmtBytes(result.bytes)} (${fmtBytes(result.newBytes)} new)`);
  return result;
}
