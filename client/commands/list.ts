import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { renderPoint, renderPointList } from '../render';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export async function listCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const points = await (await ctx.client()).list();
  return { document: { ok: true, recoveryPoints: points }, text: renderPointList(points) };
}

export async function showCommand(ctx: CommandContext, id: string): Promise<CommandOutcome> {
  const rp = await (await ctx.client()).show(id);
  return { document: { ok: true, recoveryPoint: rp }, text: renderPoint(rp) };
}

export function registerList(program: Command, run: CommandRunner): void {
  program
    .command('list')
    .description('list recovery points, newest first (reads the repository directly; no worker needed)')
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => listCommand(ctx)));
  program
    .command('show')
    .description('show one recovery point: sources, artifacts, tags, labels, legal hold')
    .argument('<id>', 'recovery point id, a unique prefix of one, or "latest"')
    .addOption(jsonOption())
    .action((id: string, _o, cmd: Command) => run(cmd, (ctx) => showCommand(ctx, id)));
}
