import { LifeboatError } from '../lib/errors';
import type { ConfigProblem, SecretRef } from './types';

function formatProblem(p: ConfigProblem): string {
  return `- ${p.path}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`;
}

/**
 * Everything wrong with a config at once, so a user fixes it in one pass
 * rather than one error per run.
 */
export class ConfigError extends LifeboatError {
  constructor(
    readonly problems: readonly ConfigProblem[],
    /** File path or '<inline>'. */
    readonly origin: string,
    options?: { cause?: unknown },
  ) {
    const head =
      problems.length === 1
        ? `Lifeboat config ${origin} has a problem:`
        : `Lifeboat config ${origin} has ${problems.length} problems:`;
    super(`${head}\n${problems.map(formatProblem).join('\n')}`, 'CONFIG_INVALID', options);
  }
}

/** A human name for a secret reference; never the secret. */
export function describeSecretRef(ref: SecretRef): string {
  return ref.env !== undefined ? `environment variable ${ref.env}` : `file ${ref.file}`;
}

export const SECRET_FAILURES = {
  envUnset: 'env-unset',
  empty: 'empty',
  unreadable: 'unreadable',
  notAFile: 'not-a-file',
  tooLarge: 'too-large',
  /** Readable by the file's group or by everyone, and the reference does not allow it (issue 14). */
  insecurePermissions: 'insecure-permissions',
} as const;
export type SecretFailure = (typeof SECRET_FAILURES)[keyof typeof SECRET_FAILURES];

/** A secret reference could not be resolved. Names the reference, never a value. */
export class SecretError extends LifeboatError {
  constructor(
    readonly ref: SecretRef,
    readonly reason: SecretFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${describeSecretRef(ref)}: ${message}`, 'SECRET_UNAVAILABLE', options);
  }
}

/** A duration string like "1h30m" could not be read. */
export class InvalidDurationError extends LifeboatError {
  constructor(
    readonly input: unknown,
    message: string,
  ) {
    super(message, 'DURATION_INVALID');
  }
}

/** A size like "2GiB" could not be read. */
export class InvalidSizeError extends LifeboatError {
  constructor(
    readonly input: unknown,
    message: string,
  ) {
    super(message, 'SIZE_INVALID');
  }
}

/** Source names that are not in the config. */
export class UnknownSourceError extends LifeboatError {
  constructor(
    /** The names asked for that do not exist. */
    readonly unknown: readonly string[],
    /** The configured source names. */
    readonly known: readonly string[],
    hint = '',
  ) {
    const what =
      unknown.length === 1
        ? `unknown source "${unknown[0]}"`
        : `unknown sources ${unknown.map((n) => `"${n}"`).join(', ')}`;
    const known_ = known.length ? `configured sources: ${known.join(', ')}` : 'the config has no sources';
    super(`${what}${hint}; ${known_}`, 'SOURCE_UNKNOWN');
  }
}
