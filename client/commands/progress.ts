import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { renderProgress } from '../render';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export async function progressCommand(ctx: CommandContext, workflowId: string): Promise<CommandOutcome> {
  const progress = await (await ctx.client()).progress(workflowId);
  return { document: { ok: true, progress }, text: renderProgress(progress) };
}

export function registerProgress(program: Command, run: CommandRunner): void {
  program
    .command('progress')
    .description('show where a running (or finished) backup, restore or verification is')
    .argument('<workflow-id>', 'the workflow id printed when it started, e.g. lifeboat-backup-all')
    .addOption(jsonOption())
    .action((id: string, _o, cmd: Command) => run(cmd, (ctx) => progressCommand(ctx, id)));
}
