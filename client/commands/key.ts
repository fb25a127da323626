import { InvalidArgumentError, Option, type Command } from 'commander';
import { readSecret } from '../../config/secrets';
import type { SecretRef } from '../../config/types';
import type { KeyInfo, Repository, ScryptParams } from '../../repository';
import { openConfiguredRepository } from '../../runtime/configured-repository';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { audited } from '../audit-trail';
import { UsageError } from '../errors';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

interface NewPasswordOptions {
  newPasswordFile?: string;
  newPasswordEnv?: string;
  scryptN?: number;
  scryptR?: number;
  scryptP?: number;
}

function parsePositiveInt(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return Number(v);
}

/** The new password, from a file or a variable: never from the command line (shell history, `ps`). */
async function newPassword(o: NewPasswordOptions): Promise<string> {
  if (Boolean(o.newPasswordFile) === Boolean(o.newPasswordEnv))
    throw new UsageError(
      'give the new password with exactly one of --new-password-file PATH or --new-password-env VAR (never on the command line)',
      '--new-password-file',
    );
  const ref: SecretRef = o.newPasswordFile ? { file: o.newPasswordFile } : { env: o.newPasswordEnv as string };
  return (await readSecret(ref)).value;
}

const scryptOf = (o: NewPasswordOptions): Partial<ScryptParams> => ({
  ...(o.scryptN !== undefined ? { N: o.scryptN } : {}),
  ...(o.scryptR !== undefined ? { r: o.scryptR } : {}),
  ...(o.scryptP !== undefined ? { p: o.scryptP } : {}),
});

function row(k: KeyInfo): string {
  const kdf = `scrypt N=${k.kdf.N} r=${k.kdf.r} p=${k.kdf.p}`;
  return `${k.current ? '*' : ' '} ${k.id}  ${k.created}  ${k.user ?? '-'}@${k.host}  ${kdf}`;
}

/** Opens the configured repository for one key command and closes it after. */
async function withRepository<T>(ctx: CommandContext, body: (repo: Repository) => Promise<T>): Promise<T> {
  const repo = await openConfiguredRepository(await ctx.config());
  try {
    return await body(repo);
  } finally {
    await repo.close();
  }
}

export const keyCommands = {
  list: (ctx: CommandContext): Promise<CommandOutcome> =>
    withRepository(ctx, async (repo) => {
      const keys = await repo.keyring.list();
      return {
        document: { ok: true, repository: repo.id, keys },
        text: ['  id                                created                   user@host  kdf', ...keys.map(row)].join(
          '\n',
        ),
      };
    }),
  add: (ctx: CommandContext, o: NewPasswordOptions): Promise<CommandOutcome> =>
    withRepository(ctx, async (repo) => {
      const pw = await newPassword(o);
      const key = await audited(
        async () => repo,
        { operation: 'key.add' },
        () => repo.keyring.add(pw, { scrypt: scryptOf(o) }),
        (k) => ({ summary: `added key ${k.id}`, details: { key: k.id, kdf: k.kdf } }),
      );
      return {
        document: { ok: true, repository: repo.id, added: key },
        text: `added key ${key.id}: that password now opens repository ${repo.id} too`,
      };
    }),
  remove: (ctx: CommandContext, id: string): Promise<CommandOutcome> =>
    withRepository(ctx, async (repo) => {
      const key = await audited(
        async () => repo,
        { operation: 'key.remove', details: { key: id } },
        () => repo.keyring.remove(id),
        (k) => ({ summary: `removed key ${k.id}`, details: { key: k.id } }),
      );
      return {
        document: { ok: true, repository: repo.id, removed: key },
        text: `removed key ${key.id}: its password no longer opens repository ${repo.id}`,
      };
    }),
  passwd: (ctx: CommandContext, o: NewPasswordOptions): Promise<CommandOutcome> =>
    withRepository(ctx, async (repo) => {
      const pw = await newPassword(o);
      const r = await audited(
        async () => repo,
        { operation: 'key.passwd', details: { key: repo.keyId } },
        () => repo.keyring.passwd(pw, { scrypt: scryptOf(o) }),
        (x) => ({
          summary: `replaced key ${x.removed} with ${x.added.id}`,
          details: { removed: x.removed, added: x.added.id, kdf: x.added.kdf },
        }),
      );
      return {
        document: { ok: true, repository: repo.id, ...r },
        text: `replaced key ${r.removed} with ${r.added.id}; now point repository.password in the config at the new password`,
      };
    }),
};

function passwordOptions(cmd: Command): Command {
  return cmd
    .option('--new-password-file <path>', 'file holding the new password (chmod 600)')
    .option('--new-password-env <var>', 'environment variable holding the new password')
    .addOption(
      new Option('--scrypt-n <n>', 'scrypt cost N of the new key (power of two; default 32768)').argParser(
        parsePositiveInt,
      ),
    )
    .addOption(new Option('--scrypt-r <n>', 'scrypt block size r (default 8)').argParser(parsePositiveInt))
    .addOption(new Option('--scrypt-p <n>', 'scrypt parallelism p (default 1)').argParser(parsePositiveInt));
}

export function registerKey(program: Command, run: CommandRunner): void {
  const key = program
    .command('key')
    .description("manage the repository's passwords (keys): several per repository, each revocable on its own");
  key
    .command('list')
    .description('list the keys: id, creation time, user@host, KDF parameters; * marks the one in use')
    .addOption(jsonOption())
    .action((_o, c: Command) => run(c, (ctx) => keyCommands.list(ctx)));
  passwordOptions(
    key.command('add').description('add a password that opens the repository (the data is not re-encrypted)'),
  )
    .addOption(jsonOption())
    .action((o: NewPasswordOptions, c: Command) => run(c, (ctx) => keyCommands.add(ctx, o)));
  key
    .command('remove')
    .description('remove a key by id (or unique prefix); the last key and the key in use are refused')
    .argument('<id>', 'key id from lifeboat key list')
    .addOption(jsonOption())
    .action((id: string, _o, c: Command) => run(c, (ctx) => keyCommands.remove(ctx, id)));
  passwordOptions(
    key
      .command('passwd')
      .description('replace the key in use with a new password (and, with --scrypt-*, new KDF parameters)'),
  )
    .addOption(jsonOption())
    .action((o: NewPasswordOptions, c: Command) => run(c, (ctx) => keyCommands.passwd(ctx, o)));
}
