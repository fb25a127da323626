/**
 * Workflow operations in the audit trail: the outcome report every workflow sends when it ends
 * (workflows/report.ts → reportOperation) is appended to the repository's audit log
 * (repository/audit.ts) by the worker, so backup, verify, restore, drill, prune and DR are recorded
 * with their workflow id, sources, recovery points and outcome whichever client started them.
 */
import { Context } from '@temporalio/activity';
import type { AuditEntryInput } from '../repository';
import type { RepositoryProvider } from './repository';
import type { OperationReport } from './types';

const POINT_KEYS = ['recoveryPointId', 'safetyRecoveryPointId', 'pointId'] as const;
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** The audit entry of an operation report (pure; exported for tests). */
export function auditEntryOfReport(r: OperationReport, activity?: string): AuditEntryInput {
  const d = r.details ?? {};
  const points = POINT_KEYS.map((k) => str(d[k])).filter((p): p is string => Boolean(p));
  const approver = str(d.approver) ?? str(d.approvedBy);
  const workflowId = str(d.workflowId);
  // Facts only: numbers, short strings and the error message; anything bulky stays in the history.
  const details: Record<string, unknown> = { durationMs: r.durationMs };
  for (const [k, v] of Object.entries(d))
    if (
      k !== 'workflowId' &&
      (typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 2000))
    )
      details[k] = v;
  return {
    operation: r.operation,
    outcome: r.outcome,
    sources: r.sources ?? [],
    points,
    summary: r.summary,
    who: { ...(workflowId ? { workflowId } : {}), ...(approver ? { approver } : {}) },
    details,
    ...(activity ? { dedupKey: activity } : {}),
  };
}

/** Appends a report to the audit trail; a retried activity does not append it twice. */
export async function appendOperationAudit(repos: RepositoryProvider, r: OperationReport): Promise<void> {
  let key: string | undefined;
  try {
    const info = Context.current().info;
    key = `${info.workflowExecution?.runId ?? info.workflowExecution?.workflowId ?? ''}/${info.activityId}`;
  } catch {
    key = undefined; // called outside an activity (tests)
  }
  await (await repos.get()).audit.append(auditEntryOfReport(r, key));
}
