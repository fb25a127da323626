import type { Command } from 'commander';
import { EXIT_CODES } from '../exit-codes';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { watchOperation } from '../progress-view';
import { renderStarted, renderVerify } from '../render';
import { operationDocument } from './backup';
import { jsonOption, parsePercent, waitOption } from './options';
import type { CommandRunner } from './runner';

export interface VerifyCommandOptions {
  readData?: boolean;
  subset?: number;
  wait?: boolean;
}

export async function verifyCommand(
  ctx: CommandContext,
  id: string | undefined,
  o: VerifyCommandOptions,
): Promise<CommandOutcome> {
  const client = await ctx.client();
  const handle = await client.verify(id, {
    readData: o.readData || o.subset !== undefined,
    ...(o.subset !== undefined ? { subsetPercent: o.subset } : {}),
  });
  if (!o.wait) return { document: { ok: true, operation: operationDocument(handle) }, text: renderStarted(handle) };
  const what = handle.recoveryPointId ? `recovery point ${handle.recoveryPointId}` : 'repository';
  ctx.log(`verifying ${what} (workflow ${handle.workflowId})`);
  const result = ctx.json ? await handle.result() : await watchOperation(handle, ctx.io.stderr);
  return {
    document: { ok: result.ok, operation: operationDocument(handle), result },
    text: renderVerify(result, what),
    // Problems found: nothing was changed, but the recovery point cannot be trusted.
    exitCode: result.ok ? EXIT_CODES.ok : EXIT_CODES.failedNothingChanged,
  };
}

export function registerVerify(program: Command, run: CommandRunner): void {
  program
    .command('verify')
    .description('check a recovery point (or the whole repository): structure, or a full read-back with --read-data')
    .argument('[id]', 'recovery point id, unique prefix or "latest" (default: every recovery point)')
    .option('--read-data', 'download, decrypt and re-hash the data, not only check it exists')
    .option('--subset <pct>', 'with --read-data: read this percentage of the data (implies --read-data)', parsePercent)
    .addOption(waitOption())
    .addOption(jsonOption())
    .action((id: string | undefined, _o, cmd: Command) =>
      run(cmd, (ctx) => verifyCommand(ctx, id, cmd.opts<VerifyCommandOptions>())),
    );
}
