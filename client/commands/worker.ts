import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { TemporalUnreachableError } from '../errors';
import type { CommandRunner } from './runner';

/**
 * Runs the worker until SIGINT/SIGTERM: the first signal stops polling and
 * lets running activities finish (Temporal retries anything cut off on
 * another worker); a second one exits at once.
 */
export async function workerCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const config = await ctx.config();
  // Loaded here, not at start-up: the worker pulls in every adapter and the SDK's native runtime.
  const { runWorker } = require('../../workers/main') as typeof import('../../workers/main');
  const { workerLogLine } = require('../../observability/logging') as typeof import('../../observability/logging');
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      ctx.log(
        workerLogLine('WARN', `${sig} again: exiting now; interrupted activities are retried by the next worker`),
      );
      process.exit(130);
    }
    ctx.log(
      workerLogLine('INFO', `${sig}: finishing running activities, then stopping (${sig} again to exit at once)`),
    );
    stop.abort();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const { address, namespace, taskQueue } = config.temporal;
  ctx.log(
    workerLogLine(
      'INFO',
      `lifeboat worker: task queue ${taskQueue}, namespace ${namespace}, Temporal ${address}, ${config.sources.length} source(s); Ctrl-C stops it`,
      { taskQueue, namespace, temporalAddress: address, sources: config.sources.map((s) => s.name) },
    ),
  );
  try {
    await runWorker(config, { signal: stop.signal });
  } catch (e) {
    if (e instanceof Error && (e.name === 'TransportError' || /connect|transport/i.test(e.message)))
      throw new TemporalUnreachableError(address, namespace, e);
    throw e;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  return { document: { ok: true, stopped: true }, text: workerLogLine('INFO', 'worker stopped') };
}

export function registerWorker(program: Command, run: CommandRunner): void {
  program
    .command('worker')
    .description('run the Lifeboat worker (every workflow and activity) until SIGINT/SIGTERM')
    .action((_o, cmd: Command) => run(cmd, (ctx) => workerCommand(ctx)));
}
