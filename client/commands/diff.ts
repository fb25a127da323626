import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { UsageError } from '../errors';
import { openConfiguredRepository } from '../../runtime/configured-repository';
import { diffFilesSource, renderFilesDiff } from '../files-diff';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export interface DiffCommandOptions {
  source?: string;
  showContent?: boolean;
}

/**
 * `lifeboat diff ID --source NAME`: which files of a files source changed since a recovery point.
 * Runs where the files are (the worker's machine) and reads the repository directly, like list.
 */
export async function diffCommand(ctx: CommandContext, id: string, o: DiffCommandOptions): Promise<CommandOutcome> {
  if (!o.source) throw new UsageError('diff needs --source NAME (a files source of the config)', '--source');
  const config = await ctx.config();
  const s = config.sources.find((x) => x.name === o.source);
  if (!s)
    throw new UsageError(
      `unknown source "${o.source}"; configured sources: ${config.sources.map((x) => x.name).join(', ')}`,
      '--source',
    );
  if (s.type !== 'files')
    throw new UsageError(`diff compares files sources; ${s.name} is a ${s.type} source`, '--source');
  const rp = await (await ctx.client()).show(id);
  const repo = await openConfiguredRepository(config);
  try {
    const report = await diffFilesSource(repo, rp, s, { showContent: o.showContent });
    return {
      document: {
        ok: true,
        recoveryPointId: report.recoveryPointId,
        source: report.source,
        root: report.root,
        added: report.added.map((e) => e.path),
        removed: report.removed.map((e) => e.path),
        changed: report.changed.map((c) => ({ path: c.path, what: c.what })),
        ...(report.content ? { content: report.content } : {}),
      },
      text: renderFilesDiff(report),
    };
  } finally {
    await repo.close();
  }
}

export function registerDiff(program: Command, run: CommandRunner): void {
  program
    .command('diff')
    .description(
      'files changed since a recovery point (config drift) for a files source; contents only with --show-content',
    )
    .argument('<id>', 'recovery point id, a unique prefix of one, or "latest"')
    .option('--source <name>', 'the files source to compare')
    .option('--show-content', 'also print the changed lines (may show secrets: .env files)')
    .addOption(jsonOption())
    .action((id: string, _o, cmd: Command) => run(cmd, (ctx) => diffCommand(ctx, id, cmd.opts<DiffCommandOptions>())));
}
