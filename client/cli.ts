import { Command } from 'commander';

// Node 20 is supported by the SDK versions we pin; the SDK's notice about future versions is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { runDemo } from './commands/demo';

const program = new Command('lifeboat').description('Backup, restore and disaster recovery for Redis, FAISS and Qdrant on Temporal');

program
  .command('demo')
  .description('run Lifeboat on embedded defaults: dev servers, a worker, a workflow; prints the Temporal UI address')
  .option('--keep', 'keep the servers running for the Temporal UI until Ctrl-C (default on a terminal)')
  .option('--no-keep', 'stop everything when the demo is done')
  .option('--dir <path>', 'folder for the dev servers\' data')
  .action(async (o: { keep?: boolean; dir?: string }) => runDemo({ keep: o.keep ?? Boolean(process.stdout.isTTY), dir: o.dir }));

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`lifeboat: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
