import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { renderScheduleReport, renderSchedules } from '../render';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export async function schedulesApplyCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const report = await (await ctx.client()).schedules.apply();
  return { document: { ok: true, ...report }, text: renderScheduleReport(report) };
}

export async function schedulesListCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const schedules = await (await ctx.client()).schedules.list();
  return { document: { ok: true, schedules }, text: renderSchedules(schedules) };
}

export async function schedulesPauseCommand(
  ctx: CommandContext,
  paused: boolean,
  name: string | undefined,
): Promise<CommandOutcome> {
  const s = (await ctx.client()).schedules;
  const ids = paused ? await s.pause(name) : await s.unpause(name);
  const verb = paused ? 'paused' : 'unpaused';
  return {
    document: { ok: true, [verb]: ids },
    text: ids.length
      ? `${verb} ${ids.join(', ')}${paused ? " (`schedules apply` resets this to the config's paused: setting)" : ''}`
      : `nothing to ${verb.slice(0, -1)}: no schedule is applied yet`,
  };
}

export function registerSchedules(program: Command, run: CommandRunner): void {
  const s = program.command('schedules').description("Temporal Schedules from the config's schedules: section");
  s.command('apply')
    .description('create or update the configured schedules, delete managed ones no longer configured (idempotent)')
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => schedulesApplyCommand(ctx)));
  s.command('list')
    .description('show managed schedules: when they run, paused or not, next run')
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => schedulesListCommand(ctx)));
  s.command('pause')
    .description('pause one schedule (backup, verify, ...) or all of them')
    .argument('[name]', 'schedule name from the config (default: all)')
    .addOption(jsonOption())
    .action((name: string | undefined, _o, cmd: Command) => run(cmd, (ctx) => schedulesPauseCommand(ctx, true, name)));
  s.command('unpause')
    .description('unpause one schedule or all of them')
    .argument('[name]', 'schedule name from the config (default: all)')
    .addOption(jsonOption())
    .action((name: string | undefined, _o, cmd: Command) => run(cmd, (ctx) => schedulesPauseCommand(ctx, false, name)));
}
