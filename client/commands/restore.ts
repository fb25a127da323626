import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { watchOperation } from '../progress-view';
import { renderRestore, renderStarted } from '../render';
import { checkTargetFlags } from '../restore-targets';
import { operationDocument } from './backup';
import { jsonOption, parseNonNegativeInt, sourceOption, splitList, waitOption } from './options';
import type { CommandRunner } from './runner';

export interface RestoreCommandOptions {
  source?: string[];
  toRedis?: string;
  toRedisDb?: number;
  toCollection?: string;
  toPath?: string;
  toDir?: string;
  /** From --no-safety-backup. @default true */
  safetyBackup?: boolean;
  checkConsistency?: boolean;
  wait?: boolean;
}

export async function restoreCommand(
  ctx: CommandContext,
  id: string,
  o: RestoreCommandOptions,
): Promise<CommandOutcome> {
  const opts = {
    sources: splitList(o.source),
    toRedis: o.toRedis,
    toRedisDb: o.toRedisDb,
    toCollection: o.toCollection,
    toPath: o.toPath,
    toDir: o.toDir,
    safetyBackup: o.safetyBackup !== false,
    trigger: 'cli',
    ...(o.checkConsistency ? { checkConsistency: true } : {}),
  };
  // Bad flags are reported before the config, the repository or Temporal are touched.
  checkTargetFlags(opts);
  const client = await ctx.client();
  const handle = await client.restore(id, opts);
  if (!opts.safetyBackup) ctx.log('warning: --no-safety-backup: a failed restore cannot roll the targets back');
  if (!o.wait) return { document: { ok: true, operation: operationDocument(handle) }, text: renderStarted(handle) };
  ctx.log(`restoring ${handle.recoveryPointId} (${handle.sources.join(', ')}) — workflow ${handle.workflowId}`);
  const result = ctx.json ? await handle.result() : await watchOperation(handle, ctx.io.stderr);
  return { document: { ok: true, operation: operationDocument(handle), result }, text: renderRestore(result) };
}

export function registerRestore(program: Command, run: CommandRunner): void {
  program
    .command('restore')
    .description('restore a recovery point (a restoreWorkflow: safety backup, restore, verify, roll back on failure)')
    .argument('<id>', 'recovery point id, a unique prefix of one, or "latest"')
    .addOption(sourceOption('source to restore'))
    .option(
      '--to-redis <url>',
      "restore the selected Redis source into this instance (redis://host:port, no password: the source's configured one is used)",
    )
    .option('--to-redis-db <n>', 'restore the selected Redis source into this db', parseNonNegativeInt)
    .option('--to-collection <name>', 'restore the selected Qdrant source into this collection')
    .option('--to-path <path>', 'restore the selected FAISS source to this absolute path')
    .option('--to-dir <dir>', 'restore the selected files source below this absolute folder')
    .option('--no-safety-backup', 'skip the safety backup of the targets (faster; a failure cannot be rolled back)')
    .option(
      '--check-consistency',
      'after verifying, check the consistency links of the restored sources; a disagreement rolls the restore back',
    )
    .addOption(waitOption())
    .addOption(jsonOption())
    .action((id: string, _o, cmd: Command) =>
      run(cmd, (ctx) => restoreCommand(ctx, id, cmd.opts<RestoreCommandOptions>())),
    );
}
