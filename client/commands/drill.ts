import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { EXIT_CODES } from '../exit-codes';
import { watchOperation } from '../progress-view';
import { renderStarted } from '../render';
import type { DrillRecord } from '../../lib/drill';
import { formatDuration } from '../../lib/format';
import { operationDocument } from './backup';
import { jsonOption, sourceOption, splitList, waitOption } from './options';
import type { CommandRunner } from './runner';

export interface DrillCommandOptions {
  source?: string[];
  point?: string;
  wait?: boolean;
}

const ms = (v: number | undefined) => (v === undefined ? '—' : formatDuration(Math.max(1, Math.round(v))));

export function renderDrill(r: DrillRecord): string {
  const lines = [
    `drill ${r.drillId}: ${r.verdict.toUpperCase()} — recovery point ${r.recoveryPointId ?? '(none)'}, RTO ${ms(r.rtoMs)} (target ${ms(r.rtoTargetMs)})`,
  ];
  for (const s of r.sources)
    lines.push(
      `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.source} (${s.type}) → ${s.target}: RTO ${ms(s.rtoMs)} (target ${ms(s.rtoTargetMs)})${s.validation ? `; ${s.validation}` : ''}${s.error ? `; ${s.error}` : ''}`,
    );
  for (const c of r.checks) lines.push(`  check ${c.name}: ${c.ok ? 'passed' : `FAILED (exit ${c.exitCode})`}`);
  lines.push(`  cleanup: ${r.cleanup.ok ? 'ok' : `FAILED: ${r.cleanup.failures.join('; ')}`}`);
  for (const reason of r.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n');
}

export async function drillCommand(ctx: CommandContext, o: DrillCommandOptions): Promise<CommandOutcome> {
  const client = await ctx.client();
  const handle = await client.drill({
    sources: splitList(o.source),
    ...(o.point ? { recoveryPointId: o.point } : {}),
    trigger: 'cli',
  });
  if (!o.wait) return { document: { ok: true, operation: operationDocument(handle) }, text: renderStarted(handle) };
  ctx.log(`drilling ${handle.sources.join(', ')} (workflow ${handle.workflowId})`);
  const result = ctx.json ? await handle.result() : await watchOperation(handle, ctx.io.stderr);
  return {
    document: { ok: result.ok, operation: operationDocument(handle), result },
    text: renderDrill(result),
    // A failed drill changed nothing in production (scratch targets only), but the recovery is not proven.
    exitCode: result.ok ? EXIT_CODES.ok : EXIT_CODES.failedNothingChanged,
  };
}

export function registerDrill(program: Command, run: CommandRunner): void {
  program
    .command('drill')
    .description('run a restore drill: restore into scratch targets, validate, time (RTO), clean up, record')
    .addOption(sourceOption('source to drill'))
    .option(
      '--point <id>',
      'recovery point id, unique prefix or "latest" (default: the newest holding every drilled source)',
    )
    .addOption(waitOption())
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => drillCommand(ctx, cmd.opts<DrillCommandOptions>())));
}
