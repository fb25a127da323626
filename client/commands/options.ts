import { InvalidArgumentError, Option, type Command } from 'commander';

/** Shared option definitions and parsers of the CLI commands. */

export const jsonOption = () => new Option('--json', 'print exactly one JSON document on stdout (logs go to stderr)');
export const waitOption = () =>
  new Option('--wait', 'wait for the end, showing progress (default: print the workflow id and return)');
export const sourceOption = (what: string) => new Option('--source <name...>', `${what} (repeatable; default: all)`);

/** "a,b" and repeated flags both give a list; empty items are dropped. */
export function splitList(values: readonly string[] | undefined): string[] | undefined {
  const out = (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return out.length ? out : undefined;
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number from 0, e.g. 3');
  return Number(value);
}

export function parsePercent(value: string): number {
  const n = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(n) || n <= 0 || n > 100)
    throw new InvalidArgumentError('expected a percentage above 0 and at most 100, e.g. 10');
  return n;
}

/** Options of a command merged with the program's (--config). */
export function allOptions<T>(cmd: Command): T & { config?: string; json?: boolean } {
  return cmd.optsWithGlobals<T & { config?: string; json?: boolean }>();
}
