import type { Command } from 'commander';
import { formatBytes } from '../../lib/format';
import type { CommandContext, CommandOutcome } from '../cli-context';
import type { RepositoryStatsReport } from '../types';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export function renderStats(s: RepositoryStatsReport): string {
  const lines = [
    `repository ${s.repository}`,
    `  stored        ${formatBytes(s.bytes)} in ${s.objects} objects (data ${formatBytes(s.chunkBytes)}: ${s.chunks} chunks, ${s.packs} packs)`,
    `  points        ${s.recoveryPoints} (${s.safetyPoints} restore safety points)`,
    `  logical       ${formatBytes(s.logicalBytes)}; dedup ratio ${s.dedupRatio.toFixed(2)}x`,
    '  source                 points  logical      oldest                      newest',
  ];
  for (const x of s.sources)
    lines.push(
      `  ${x.source.padEnd(22)} ${String(x.recoveryPoints).padStart(6)}  ${formatBytes(x.logicalBytes).padEnd(11)}  ${(x.oldest?.id ?? '—').padEnd(26)}  ${x.newest?.id ?? '—'}`,
    );
  return lines.join('\n');
}

export async function statsCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const stats = await (await ctx.client()).stats();
  return { document: { ok: true, stats }, text: renderStats(stats) };
}

export function registerStats(program: Command, run: CommandRunner): void {
  program
    .command('stats')
    .description('repository size, objects, logical bytes per source, dedup ratio, oldest and newest point per source')
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => statsCommand(ctx)));
}
