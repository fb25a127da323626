/**
 * Typed errors shared across Lifeboat. Each carries the context a user needs
 * to act on it; `code` is stable and machine-readable (CLI exit codes and
 * Temporal non-retryable failure types are derived from it).
 */
export class LifeboatError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
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
