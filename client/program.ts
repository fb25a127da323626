import { Command, CommanderError } from 'commander';
import type { LifeboatConfig } from '../config/types';
import type { CliIo, CommandContext, CommandOutcome, RunCliOptions } from './cli-context';
import { registerAudit } from './commands/audit';
import { registerBackup } from './commands/backup';
import { registerCheck } from './commands/check';
import { registerCodecServer } from './commands/codec-server';
import { registerDr, registerWebhook } from './commands/dr';
import { registerDrill } from './commands/drill';
import { registerDiff } from './commands/diff';
import { registerReindex } from './commands/reindex';
import { registerForget } from './commands/forget';
import { registerHold } from './commands/hold';
import { registerInit } from './commands/init';
import { registerKey } from './commands/key';
import { registerList } from './commands/list';
import { allOptions } from './commands/options';
import { registerProgress } from './commands/progress';
import { registerRestore } from './commands/restore';
import type { CommandRunner } from './commands/runner';
import { registerSchedules } from './commands/schedules';
import { registerStatus } from './commands/status';
import { registerReport } from './commands/report';
import { registerPrune } from './commands/prune';
import { registerStats } from './commands/stats';
import { registerVerify } from './commands/verify';
import { registerWorker } from './commands/worker';
import { errorDocument, exitCodeFor } from './error-mapping';
import { RestoreFailedError, VerificationFailedError } from './errors';
import { EXIT_CODES, type ExitCode } from './exit-codes';
import { renderRestore } from './render';
import type { LifeboatClient } from './types';

/**
 * JSON that survives odd values (bigints, cycles) rather than crashing the one document a script waits for.
 * Only a real cycle (an object inside itself) is cut: the same object reached twice by different paths
 * (shared arrays between sources) is printed in full each time. `stack` holds the path from the root to
 * the value's holder, which JSON.stringify passes as `this` while it walks depth first.
 */
export function toJson(doc: unknown): string {
  const stack: object[] = [];
  return JSON.stringify(doc, function (this: unknown, _k: string, v: unknown) {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return { name: v.name, message: v.message };
    if (v && typeof v === 'object') {
      while (stack.length > 0 && stack[stack.length - 1] !== this) stack.pop();
      if (stack.includes(v)) return '[circular]';
      stack.push(v);
    }
    return v;
  });
}

/**
 * Builds the `lifeboat` command tree. `run` executes a command body; the
 * caller decides how outcomes are printed. Extra commands (the demo) can be
 * added to the returned program.
 */
export function buildProgram(io: CliIo, run: CommandRunner): Command {
  const program = new Command('lifeboat')
    .description('Backup, restore and disaster recovery for Redis, FAISS and Qdrant on Temporal')
    .option('--config <path>', 'config file (default: $LIFEBOAT_CONFIG)')
    .showHelpAfterError('(run with --help for usage)')
    // Set before the subcommands are added: they inherit both.
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  registerInit(program, run);
  registerBackup(program, run);
  registerRestore(program, run);
  registerList(program, run);
  registerVerify(program, run);
  registerForget(program, run);
  registerHold(program, run);
  registerSchedules(program, run);
  registerProgress(program, run);
  registerWorker(program, run);
  registerCodecServer(program, run);
  registerDr(program, run);
  registerWebhook(program, run);
  registerDrill(program, run);
  registerStatus(program, run);
  registerReport(program, run);
  registerPrune(program, run);
  registerStats(program, run);
  registerCheck(program, run);
  registerKey(program, run);
  registerAudit(program, run);
  registerDiff(program, run);
  registerReindex(program, run);
  return program;
}

function printError(io: CliIo, json: boolean, e: unknown): ExitCode {
  const code = exitCodeFor(e);
  if (e instanceof CommanderError) {
    // Commander already wrote its message (and help) to stderr.
    if (json && code !== EXIT_CODES.ok)
      io.stdout.write(
        `${toJson({ ok: false, exitCode: code, error: { name: 'UsageError', code: 'USAGE', message: e.message } })}\n`,
      );
    return code;
  }
  if (json) io.stdout.write(`${toJson(errorDocument(e))}\n`);
  const msg = e instanceof Error ? e.message : String(e);
  io.stderr.write(`lifeboat: ${msg}\n`);
  if (!json && e instanceof RestoreFailedError) io.stderr.write(`${renderRestore(e.result)}\n`);
  if (!json && e instanceof VerificationFailedError) for (const p of e.problems) io.stderr.write(`  - ${p}\n`);
  if (code === EXIT_CODES.unexpected && e instanceof Error && e.stack && io.env.LIFEBOAT_DEBUG)
    io.stderr.write(`${e.stack}\n`);
  return code;
}

/**
 * Runs the CLI on user arguments (without node and script) and returns the
 * exit code instead of exiting, so tests can call it in-process.
 * `extend` adds commands that print on their own (the demo).
 */
export async function runCli(
  args: readonly string[],
  io: CliIo,
  opts: RunCliOptions & { extend?: (program: Command) => void } = {},
): Promise<ExitCode> {
  const json = args.includes('--json');
  let outcome: CommandOutcome | undefined;
  const run: CommandRunner = async (cmd, body) => {
    const o = allOptions<Record<string, unknown>>(cmd);
    let config: Promise<LifeboatConfig> | undefined;
    let client: LifeboatClient | undefined;
    const ctx: CommandContext = {
      io,
      json: Boolean(o.json),
      config: () =>
        (config ??= (async () => {
          const c =
            opts.config ??
            (await (require('../config/load') as typeof import('../config/load')).loadConfig(
              o.config ?? io.env.LIFEBOAT_CONFIG,
            ));
          for (const w of c.warnings) io.stderr.write(`lifeboat: config warning: ${w}\n`);
          return c;
        })()),
      // Required on use (not imported): --help and usage errors stay fast, without the Temporal SDK and the repository.
      client: async () =>
        (client ??= (require('./api') as typeof import('./api')).createLifeboatClient(
          await ctx.config(),
          opts.clientOptions,
        )),
      log: (line) => io.stderr.write(`${line}\n`),
    };
    try {
      outcome = await body(ctx);
    } finally {
      await client?.close();
    }
  };
  const program = buildProgram(io, run);
  opts.extend?.(program);
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (e) {
    return printError(io, json, e);
  }
  if (!outcome) return EXIT_CODES.ok;
  if (json) io.stdout.write(`${toJson(outcome.document)}\n`);
  else if (outcome.text) io.stdout.write(`${outcome.text}\n`);
  return outcome.exitCode ?? EXIT_CODES.ok;
}

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
