// Node 20 is supported by the SDK versions we pin; the SDK's notice about future versions is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { processIo, runCli } from './program';

/** The `lifeboat` executable (bin/lifeboat): every command of client/program.ts, plus the demo. */
runCli(process.argv.slice(2), processIo(), {
  extend: (program) =>
    program
      .command('demo')
      .description(
        'run Lifeboat on embedded defaults: dev servers, a worker, a backup and a restore of all three stores; prints the Temporal UI address',
      )
      .option('--keep', 'keep the servers running for the Temporal UI until Ctrl-C (default on a terminal)')
      .option('--no-keep', 'stop everything when the demo is done')
      .option('--dir <path>', "folder for the dev servers' data")
      .option('--qdrant-url <url>', 'use this Qdrant instead of the bundled stand-in')
      // Loaded on use: the demo pulls in the dev servers and the worker.
      .action(async (o: { keep?: boolean; dir?: string; qdrantUrl?: string }) =>
        (require('./commands/demo') as typeof import('./commands/demo')).runDemo({
          keep: o.keep ?? Boolean(process.stdout.isTTY),
          dir: o.dir,
          qdrantUrl: o.qdrantUrl,
        }),
      ),
}).then(
  (code) => {
    // Exit once stdout has taken the last write (a piped --json document); a
    // lingering socket or timer must not keep a finished command alive.
    // A command that set process.exitCode itself (the demo) keeps it.
    const final = code === 0 && typeof process.exitCode === 'number' ? process.exitCode : code;
    process.stdout.write('', () => process.exit(final));
  },
  (e: unknown) => {
    process.stderr.write(`lifeboat: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
