import { ApplicationFailure } from '@temporalio/activity';
import { LifeboatError } from '../lib/errors';

/**
 * Runs an activity body and converts Lifeboat's typed errors into Temporal
 * failures: bad input (wrong password, unknown id, corrupted data, dimension
 * mismatch) becomes non-retryable with the error's code as its type, so the
 * workflow stops at once with a message that names the problem; anything else
 * stays retryable.
 */
export async function asActivity<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toFailure(e);
  }
}

export function toFailure(e: unknown): unknown {
  if (e instanceof LifeboatError) {
    return ApplicationFailure.create({ message: e.message, type: e.code, nonRetryable: !e.retryable, cause: e });
  }
  return e;
}
