import { proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { LifeboatActivities } from '../activities/types';
import { trackProgress } from './progress';
import { SA } from './search-attributes';
import { surfaceFailure } from './failures';
import { reportOutcome } from './report';

export interface VerifyInput {
  /** Recovery point id (or unique prefix); absent: the whole repository. */
  recoveryPointId?: string;
  /** Download, decrypt and re-hash every chunk, not just check they exist. @default false */
  readData?: boolean;
  /** With readData: check this percentage of chunks. @default 100 */
  subsetPercent?: number;
}

export interface VerifyResult {
  ok: boolean;
  problems: string[];
  checkedObjects: number;
}

const { verifyRecoveryPoint } = proxyActivities<LifeboatActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5 },
});

/** Structure check or full read-back of a recovery point (or the whole repository). */
export async function verifyWorkflow(input: VerifyInput = {}): Promise<VerifyResult> {
  const t = trackProgress('verifying');
  upsertSearchAttributes([{ key: SA.kind, value: 'verify' }]);
  if (input.recoveryPointId) upsertSearchAttributes([{ key: SA.recoveryPoint, value: input.recoveryPointId }]);
  const report = await verifyRecoveryPoint({
    id: input.recoveryPointId,
    readData: input.readData ?? false,
    subsetPercent: input.subsetPercent,
  }).catch(async (e: unknown) => {
    const failure = surfaceFailure(e);
    await reportOutcome({
      operation: 'verify',
      error: failure,
      summary: `verify of ${input.recoveryPointId ?? 'the repository'} could not run: ${failure instanceof Error ? failure.message : String(failure)}`,
    });
    throw failure;
  });
  await reportOutcome({
    operation: 'verify',
    outcome: report.ok ? 'success' : 'failure',
    summary: report.ok
      ? `verify of ${input.recoveryPointId ?? 'the repository'} passed (${report.checkedObjects} objects)`
      : `verify of ${input.recoveryPointId ?? 'the repository'} found ${report.problems.length} problems: ${report.problems.slice(0, 3).join('; ')}`,
    details: { recoveryPointId: input.recoveryPointId, readData: input.readData ?? false },
  });
  t.phase(report.ok ? 'ok' : 'problems found');
  setCurrentDetails(
    report.ok
      ? `OK: ${report.checkedObjects} objects checked`
      : `${report.problems.length} problems: ${report.problems.slice(0, 3).join('; ')}`,
  );
  return report;
}
