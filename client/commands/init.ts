import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export async function initCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const repo = await (await ctx.client()).init();
  return {
    document: { ok: true, repository: repo },
    text: `created repository ${repo.id} at ${repo.url}\nkeep its password safe: without it no recovery point can be read`,
  };
}

export function registerInit(program: Command, run: CommandRunner): void {
  program
    .command('init')
    .description('create the repository the config points at, encrypted with the configured password')
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => initCommand(ctx)));
}
