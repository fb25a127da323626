import type { LifeboatConfig } from '../config/types';
import type { ExitCode } from './exit-codes';
import type { LifeboatClient, LifeboatClientOptions } from './types';

/** Where the CLI writes: the real process streams, or buffers in tests. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
  /** Read for LIFEBOAT_CONFIG. @default process.env */
  env: Readonly<Record<string, string | undefined>>;
}

/** What a command produced: one JSON document for --json, text otherwise. */
export interface CommandOutcome {
  /** Printed as the single JSON document with --json. Always has `ok`. */
  document: { ok: boolean } & Record<string, unknown>;
  /** Printed on stdout without --json; may be empty. */
  text: string;
  /** @default EXIT_CODES.ok */
  exitCode?: ExitCode;
}

/** What every command gets. Config and client are loaded on first use, so --help and usage errors need neither. */
export interface CommandContext {
  readonly io: CliIo;
  readonly json: boolean;
  config(): Promise<LifeboatConfig>;
  client(): Promise<LifeboatClient>;
  /** A line on stderr (never stdout, which --json keeps for the document). */
  log(line: string): void;
}

export interface RunCliOptions {
  /** Passed to createLifeboatClient (tests inject servers, schedule prefixes). */
  clientOptions?: LifeboatClientOptions;
  /** Use this config instead of loading one (tests). */
  config?: LifeboatConfig;
}
