/**
 * Process exit codes of the `lifeboat` CLI, one per kind of failure, so
 * scripts and incident tooling can react without parsing messages.
 * Documented in docs/cli.md; never renumber them.
 */
export const EXIT_CODES = {
  /** Done (or, without --wait, started). */
  ok: 0,
  /** A bug or an error Lifeboat has no better name for. */
  unexpected: 1,
  /** Bad command line, bad or missing config, unresolvable secret. Nothing was done. */
  usage: 2,
  /** Unknown recovery point, source, schedule or workflow. */
  notFound: 3,
  /** A backup of the same sources is already running. */
  alreadyRunning: 4,
  /** The operation failed but nothing is left changed: a restore was rolled back, a backup committed nothing, verification found problems, a held recovery point was not forgotten. */
  failedNothingChanged: 5,
  /** A restore failed AND rolling back a target failed: a human must restore it from the safety recovery point. */
  rollbackFailed: 6,
  /** Temporal or the repository cannot be reached. */
  unreachable: 7,
  /** The repository password is wrong. */
  wrongPassword: 8,
} as const;

export type ExitCodeName = keyof typeof EXIT_CODES;
export type ExitCode = (typeof EXIT_CODES)[ExitCodeName];
