import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { watchOperation } from '../progress-view';
import { renderBackup, renderStarted } from '../render';
import type { BackupOptions, OperationHandle } from '../types';
import { jsonOption, sourceOption, splitList, waitOption } from './options';
import type { CommandRunner } from './runner';

export interface BackupCommandOptions {
  source?: string[];
  tag?: string[];
  wait?: boolean;
}

/** A handle's identity as it appears in --json documents. */
export function operationDocument(h: OperationHandle<unknown>) {
  return {
    kind: h.kind,
    workflowId: h.workflowId,
    runId: h.runId,
    startedAt: h.startedAt.toISOString(),
    sources: h.sources,
    ...(h.recoveryPointId ? { recoveryPointId: h.recoveryPointId } : {}),
  };
}

export async function backupCommand(ctx: CommandContext, o: BackupCommandOptions): Promise<CommandOutcome> {
  const client = await ctx.client();
  const opts: BackupOptions = { sources: splitList(o.source), tags: splitList(o.tag), trigger: 'cli' };
  const handle = await client.backup(opts);
  if (!o.wait) return { document: { ok: true, operation: operationDocument(handle) }, text: renderStarted(handle) };
  ctx.log(`backing up ${handle.sources.join(', ')} (workflow ${handle.workflowId})`);
  const result = ctx.json ? await handle.result() : await watchOperation(handle, ctx.io.stderr);
  return { document: { ok: true, operation: operationDocument(handle), result }, text: renderBackup(result) };
}

export function registerBackup(program: Command, run: CommandRunner): void {
  program
    .command('backup')
    .description('back up sources into one new recovery point (a backupWorkflow)')
    .addOption(sourceOption('source to back up'))
    .option('--tag <tag...>', 'tag the recovery point (repeatable)')
    .addOption(waitOption())
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => backupCommand(ctx, cmd.opts<BackupCommandOptions>())));
}
