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
