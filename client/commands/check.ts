import type { Command } from 'commander';
import type { ConsistencyReport, LinkReport } from '../../lib/consistency';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { EXIT_CODES } from '../exit-codes';
import { operationDocument } from './backup';
import { jsonOption, splitList } from './options';
import type { CommandRunner } from './runner';

export interface CheckCommandOptions {
  link?: string[];
}

function renderLink(l: LinkReport): string[] {
  const lines = [`${l.ok ? 'OK  ' : 'FAIL'} ${l.link} (${(l.durationMs / 1000).toFixed(1)} s)`];
  for (const s of l.stores) {
    const v = s.vectors
      ? `, dimension ${s.vectors.dimension}${s.vectors.readable ? `, ${s.vectors.checked} vectors checked` : ' (vectors not readable)'}`
      : '';
    lines.push(`       ${s.source} (${s.store}) ${s.where}: ${s.unique} ids${v}`);
  }
  if (l.comparison)
    lines.push(
      `       vectors compared: ${l.comparison.skipped ?? `${l.comparison.sampled} sampled, ${l.comparison.differing.count} differ`}`,
    );
  for (const p of l.problems) lines.push(`     - ${p}`);
  return lines;
}

/** The report as text: one block per link, each disagreement on its own line. */
export function renderConsistency(r: ConsistencyReport): string {
  const head = r.ok
    ? `Consistent: ${r.links.length} link(s) agree${r.note ? ` (${r.note})` : ''}`
    : `Inconsistent: ${r.problems.length} disagreement(s)`;
  return [head, ...r.links.flatMap(renderLink), `report: records/consistency/${r.id}`].join('\n');
}

export async function checkCommand(ctx: CommandContext, o: CheckCommandOptions): Promise<CommandOutcome> {
  const client = await ctx.client();
  const links = splitList(o.link);
  const handle = await client.check({ ...(links ? { links } : {}), trigger: 'cli' });
  ctx.log(`checking ${links?.join(', ') ?? 'every consistency link'} (workflow ${handle.workflowId})`);
  const result = await handle.result();
  return {
    document: { ok: result.ok, operation: operationDocument(handle), result },
    text: renderConsistency(result),
    // Disagreements found: nothing was changed, but the stores do not agree.
    exitCode: result.ok ? EXIT_CODES.ok : EXIT_CODES.failedNothingChanged,
  };
}

export function registerCheck(program: Command, run: CommandRunner): void {
  program
    .command('check')
    .description('check that the stores agree (consistency.links): ids missing in each store, duplicates, bad vectors')
    .option('--link <name...>', 'consistency link to check (repeatable; default: all)')
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => checkCommand(ctx, cmd.opts<CheckCommandOptions>())));
}
