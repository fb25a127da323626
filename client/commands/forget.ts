import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export async function forgetCommand(ctx: CommandContext, id: string): Promise<CommandOutcome> {
  const rp = await (await ctx.client()).forget(id);
  return {
    document: { ok: true, forgotten: rp },
    text: `forgot recovery point ${rp.id}; its data is deleted by the next prune unless other recovery points share it`,
  };
}

export function registerForget(program: Command, run: CommandRunner): void {
  program
    .command('forget')
    .description('remove a recovery point (refused while under legal hold); prune frees its data later')
    .argument('<id>', 'recovery point id or a unique prefix of one')
    .addOption(jsonOption())
    .action((id: string, _o, cmd: Command) => run(cmd, (ctx) => forgetCommand(ctx, id)));
}
