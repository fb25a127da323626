import type { ErrorCode } from './error-codes';

/**
 * Typed errors shared across Lifeboat. Each carries the context a user needs
 * to act on it; `code` is stable and machine-readable (CLI exit codes and
 * Temporal non-retryable failure types are derived from it).
 */
export class LifeboatError extends Error {
  /**
   * Whether trying again may succeed (a network blip) or not (bad input:
   * wrong password, unknown id, corrupted data). Activities turn
   * non-retryable errors into non-retryable Temporal failures.
   * @default false
   */
  readonly retryable: boolean;

  constructor(
    message: string,
    readonly code: ErrorCode,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options?.retryable ?? false;
  }
}

/** A required external tool or server could not be found or started. */
export class ServerStartError extends LifeboatError {
  constructor(
    readonly server: string,
    message: string,
    readonly logTail = '',
  ) {
    super(`${server}: ${message}${logTail ? `\n--- last lines of its log ---\n${logTail}` : ''}`, 'SERVER_START');
  }
}

/**
 * How deep cause chains are followed. Temporal nests a workflow failure → child/activity failure →
 * application failure → (rarely) its cause; 10 covers every real chain and stops a cyclic one.
 */
export const CAUSE_CHAIN_DEPTH = 10;

/** `e`, its cause, the cause's cause … (objects only, at most {@link CAUSE_CHAIN_DEPTH}). */
export function* causeChain(e: unknown): Generator<object> {
  let cur = e;
  for (let depth = 0; cur && typeof cur === 'object' && depth < CAUSE_CHAIN_DEPTH; depth++) {
    yield cur;
    cur = (cur as { cause?: unknown }).cause;
  }
}
