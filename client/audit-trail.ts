/**
 * The client's side of the audit trail (repository/audit.ts): the CLI's direct operations —
 * forget, hold/unhold, key changes, schedule changes, DR declare/approve/reject/abort — append an
 * entry from the process that did them (its OS user and host), workflows append from the worker
 * (activities/audit.ts). Appending is best effort: the operation already happened, so a failed
 * append is reported as a warning and never turns a done operation into an error.
 */
import { LifeboatError } from '../lib/errors';
import type { AuditEntryInput, AuditOutcome, Repository } from '../repository';

/** Errors that mean "refused, nothing was done" rather than "failed". */
const REFUSALS = new Set([
  'USAGE',
  'LEGAL_HOLD',
  'REPOSITORY_KEY_REFUSED',
  'DR_REQUEST_REJECTED',
  'DR_INCIDENT_CLOSED',
]);

export const auditOutcomeOf = (e: unknown): AuditOutcome =>
  e instanceof LifeboatError && REFUSALS.has(e.code) ? 'refused' : 'failure';

export type AuditWarn = (message: string) => void;
const defaultWarn: AuditWarn = (m) => process.emitWarning(m, { code: 'LIFEBOAT_AUDIT' });

/** Appends one entry; a failure is a warning (see the module comment). */
export async function recordAudit(
  repo: () => Promise<Repository>,
  input: AuditEntryInput,
  warn: AuditWarn = defaultWarn,
): Promise<void> {
  try {
    await (await repo()).audit.append(input);
  } catch (e) {
    warn(`audit entry for ${input.operation} (${input.outcome}) not written: ${(e as Error).message}`);
  }
}

/**
 * Runs `op` and records its outcome: success with what `describe` says of the result, or
 * refused/failure with the error message. Rethrows the operation's error unchanged.
 */
export async function audited<T>(
  repo: () => Promise<Repository>,
  entry: Omit<AuditEntryInput, 'outcome'>,
  op: () => Promise<T>,
  describe: (r: T) => Partial<AuditEntryInput> = () => ({}),
  warn?: AuditWarn,
): Promise<T> {
  let result: T;
  try {
    result = await op();
  } catch (e) {
    await recordAudit(
      repo,
      {
        ...entry,
        outcome: auditOutcomeOf(e),
        details: { ...entry.details, error: (e as Error)?.message ?? String(e) },
      },
      warn,
    );
    throw e;
  }
  await recordAudit(repo, { ...entry, outcome: 'success', ...describe(result) }, warn);
  return result;
}
