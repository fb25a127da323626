import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { connectTemporal } from '../connection';
import { UsageError } from '../errors';
import { jsonOption, waitOption } from './options';
import type { CommandRunner } from './runner';
import type { reindexWorkflow } from '../../workflows/reindex';

export interface ReindexCommandOptions {
  from?: string;
  to?: string;
  wait?: boolean;
}

/** `lifeboat reindex --from REDIS --to QDRANT|FAISS [--wait]`: starts a reindexWorkflow (docs/operations.md). */
export async function reindexCommand(ctx: CommandContext, o: ReindexCommandOptions): Promise<CommandOutcome> {
  if (!o.from || !o.to)
    throw new UsageError('reindex needs --from REDIS_SOURCE and --to QDRANT_OR_FAISS_SOURCE', '--from');
  const config = await ctx.config();
  for (const [flag, name, types] of [
    ['--from', o.from, ['redis']],
    ['--to', o.to, ['qdrant', 'faiss']],
  ] as const) {
    const s = config.sources.find((x) => x.name === name);
    if (!s)
      throw new UsageError(
        `${flag} ${name}: unknown source; configured sources: ${config.sources.map((x) => x.name).join(', ')}`,
        flag,
      );
    if (!(types as readonly string[]).includes(s.type))
      throw new UsageError(`${flag} ${name} is a ${s.type} source; use a ${types.join(' or ')} source`, flag);
  }
  if (!config.reindex)
    throw new UsageError(
      'the config has no reindex: section (keys, textField, idField, embedding); see docs/operations.md',
      'reindex',
    );
  const t = await connectTemporal(config.temporal);
  try {
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const workflowId = `reindex-${o.to}-from-${o.from}-${stamp}`;
    const handle = await t.client.workflow.start<typeof reindexWorkflow>('reindexWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [{ from: o.from, to: o.to }],
      staticSummary: `Rebuild ${o.to} from ${o.from}`,
    });
    const started = { workflowId, runId: handle.firstExecutionRunId };
    if (!o.wait) return { document: { ok: true, operation: started }, text: `started reindex: workflow ${workflowId}` };
    ctx.log(`reindexing ${o.to} from ${o.from} — workflow ${workflowId}`);
    const result = await handle.result();
    return {
      document: { ok: true, operation: started, result },
      text: `rebuilt ${result.target}: ${result.records} records (${result.skipped} skipped), ${result.probes} probe queries, ${result.runs} run(s), ${Math.round(result.durationMs / 1000)} s`,
    };
  } finally {
    await t.connection.close();
  }
}

export function registerReindex(program: Command, run: CommandRunner): void {
  program
    .command('reindex')
    .description(
      'rebuild a Qdrant collection or FAISS index from Redis records through the embedding API (a reindexWorkflow)',
    )
    .option('--from <source>', 'the redis source holding the records')
    .option('--to <source>', 'the qdrant (with alias) or faiss source to rebuild')
    .addOption(waitOption())
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => reindexCommand(ctx, cmd.opts<ReindexCommandOptions>())));
}
