import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../../config/duration';
import { formatBytes } from '../../lib/format';
import type { PruneResult } from '../../lib/prune';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { EXIT_CODES } from '../exit-codes';
import { watchOperation } from '../progress-view';
import { renderStarted } from '../render';
import { operationDocument } from './backup';
import { planTable } from './forget';
import { jsonOption, waitOption } from './options';
import type { CommandRunner } from './runner';

export interface PruneCommandOptions {
  dryRun?: boolean;
  wait?: boolean;
  grace?: number;
}

export function renderPrune(r: PruneResult): string {
  const lines = [
    `prune ${r.ok ? 'done' : 'DEFERRED'}: ${r.pointsRemoved} recovery points removed (${r.pointsKept} kept), ${r.deletedObjects} objects and ${formatBytes(r.freedBytes)} freed in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  stale locks removed: ${r.deletedLocks}, temp files removed: ${r.deletedTempFiles}`,
  ];
  for (const s of r.skipped) lines.push(`  kept ${s.id}: ${s.reason}`);
  if (r.deferred) lines.push(`  ${r.deferred.reason}`, ...r.deferred.locks.map((l) => `    ${l}`));
  lines.push(`  record: records/prune/${r.recordId}`);
  return lines.join('\n');
}

export async function pruneCommand(ctx: CommandContext, o: PruneCommandOptions): Promise<CommandOutcome> {
  const client = await ctx.client();
  if (o.dryRun) {
    if (o.wait) ctx.log('--wait has no effect with --dry-run: the plan is computed here, without a workflow');
    const { retention, data } = await client.prunePlan({ ...(o.grace !== undefined ? { graceMs: o.grace } : {}) });
    const objects = data.deletedChunks + data.deletedIndexes;
    const summary = [
      `dry run, nothing removed: would forget ${retention.remove.length} of ${retention.points.length} recovery points, then delete ${objects} objects (${formatBytes(data.deletedBytes)}): ${data.deletedChunks} chunks, ${data.deletedIndexes} artifact indexes; ${data.keptChunks} chunks stay referenced`,
      `would also remove ${data.deletedLocks} stale locks and ${data.deletedPartials} temp files`,
    ];
    return {
      document: { ok: true, dryRun: true, timezone: retention.timezone, plan: retention.points, data },
      text: `${planTable(retention.points)}\n${summary.join('\n')}`,
    };
  }
  const handle = await client.prune({ trigger: 'cli', ...(o.grace !== undefined ? { graceMs: o.grace } : {}) });
  if (!o.wait) return { document: { ok: true, operation: operationDocument(handle) }, text: renderStarted(handle) };
  ctx.log(`pruning the repository (workflow ${handle.workflowId})`);
  const result = ctx.json ? await handle.result() : await watchOperation(handle, ctx.io.stderr);
  return {
    document: { ok: result.ok, operation: operationDocument(handle), result },
    text: renderPrune(result),
    // Deferred: running writers did not acknowledge it in time, so no data was deleted.
    exitCode: result.ok ? EXIT_CODES.ok : EXIT_CODES.failedNothingChanged,
  };
}

function parseGrace(value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new InvalidArgumentError('expected a duration such as 24h, 2h or 30m');
  }
}

export function registerPrune(program: Command, run: CommandRunner): void {
  program
    .command('prune')
    .description(
      'apply the retention policy (forget), then delete data no recovery point references, stale locks and temp files; safe while backups run',
    )
    .option('--dry-run', 'print what would be removed (points, objects, bytes, locks, temp files) and remove nothing')
    .option(
      '--grace <duration>',
      'keep unreferenced data younger than this (artifacts of backups not committed yet); default 24h',
      parseGrace,
    )
    .addOption(waitOption())
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => pruneCommand(ctx, cmd.opts<PruneCommandOptions>())));
}
