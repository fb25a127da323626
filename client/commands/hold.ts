import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export async function holdCommand(ctx: CommandContext, id: string, reason: string): Promise<CommandOutcome> {
  const rp = await (await ctx.client()).hold(id, reason);
  return {
    document: { ok: true, recoveryPoint: rp },
    text: `recovery point ${rp.id} is under legal hold: ${rp.hold?.reason ?? reason}; forget and retention leave it alone until \`lifeboat unhold ${rp.id}\``,
  };
}

export async function unholdCommand(ctx: CommandContext, id: string): Promise<CommandOutcome> {
  const rp = await (await ctx.client()).unhold(id);
  return {
    document: { ok: true, recoveryPoint: rp },
    text: `recovery point ${rp.id} is no longer held; retention applies to it again`,
  };
}

export function registerHold(program: Command, run: CommandRunner): void {
  program
    .command('hold')
    .description('put a recovery point under legal hold: it cannot be forgotten or pruned')
    .argument('<id>', 'recovery point id or a unique prefix of one')
    .requiredOption('--reason <text>', 'why it is held (kept with the recovery point)')
    .addOption(jsonOption())
    .action((id: string, _o, cmd: Command) =>
      run(cmd, (ctx) => holdCommand(ctx, id, cmd.opts<{ reason: string }>().reason)),
    );
  program
    .command('unhold')
    .description('release a legal hold')
    .argument('<id>', 'recovery point id or a unique prefix of one')
    .addOption(jsonOption())
    .action((id: string, _o, cmd: Command) => run(cmd, (ctx) => unholdCommand(ctx, id)));
}
