import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { EXIT_CODES } from '../exit-codes';
import type { StatusReport } from '../status';
import { formatDuration } from '../../lib/format';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

const ms = (v: number | undefined) => (v === undefined ? '—' : formatDuration(Math.max(1, Math.round(v))));

export function renderStatus(r: StatusReport): string {
  const lines = r.sources.map((s) => {
    const newest = s.newestPoint ? `newest ${s.newestPoint.id} (age ${ms(s.newestPoint.ageMs)})` : 'no recovery point';
    const rpo = `RPO ${ms(s.rpoMs)} vs target ${ms(s.rpoTargetMs)} ${s.rpoState.toUpperCase()}${s.rpoPoint ? ` [${s.rpoPoint.basis} point ${s.rpoPoint.id}]` : ''}`;
    const d = s.lastDrill;
    const drill = d
      ? `last drill ${d.drillId} ${d.verdict.toUpperCase()}, RTO ${ms(d.rtoMs)} vs target ${ms(s.rtoTargetMs)} ${d.rtoState.toUpperCase()}${d.verdict !== 'passed' && d.reasons.length ? ` (${d.reasons.join('; ')})` : ''}`
      : `no drill yet (RTO target ${ms(s.rtoTargetMs)})`;
    return `${s.ok ? 'ok    ' : 'BREACH'} ${s.source} (${s.type}): ${newest}; ${rpo}; ${drill}`;
  });
  return lines.join('\n') || 'no sources configured';
}

export async function statusCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const report = await (await ctx.client()).status();
  return {
    document: { ...report },
    text: renderStatus(report),
    // A monitoring probe: non-zero when any source breaches its RPO or its last drill failed.
    exitCode: report.ok ? EXIT_CODES.ok : EXIT_CODES.failedNothingChanged,
  };
}

export function registerStatus(program: Command, run: CommandRunner): void {
  program
    .command('status')
    .description(
      'RPO and RTO state of every source (reads the repository directly; no worker needed); exit 5 on a breach',
    )
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => statusCommand(ctx)));
}
