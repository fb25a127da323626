import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDuration } from '../../config/duration';
import type { RetentionDecision } from '../../activities/retention';
import type { RetentionOverrides } from '../../lib/prune';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { UsageError } from '../errors';
import { jsonOption, parseNonNegativeInt } from './options';
import type { CommandRunner } from './runner';

export interface ForgetPolicyOptions {
  policy?: boolean;
  confirm?: boolean;
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: number;
  keepTag?: string[];
}

const RULE_FLAGS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

export async function forgetCommand(ctx: CommandContext, id: string): Promise<CommandOutcome> {
  const rp = await (await ctx.client()).forget(id);
  if (rp.lockedUntil)
    return {
      document: { ok: true, forgotten: null, locked: { id: rp.id, until: rp.lockedUntil } },
      text: `recovery point ${rp.id} is under S3 Object Lock until ${rp.lockedUntil}: it stays listed and restorable; forget it again after that (retention does)`,
    };
  return {
    document: { ok: true, forgotten: rp },
    text: `forgot recovery point ${rp.id}; its data is deleted by the next prune unless other recovery points share it`,
  };
}

/** The command line's rules, over the config's. */
export function overridesOf(o: ForgetPolicyOptions): RetentionOverrides {
  const out: RetentionOverrides = {};
  for (const k of RULE_FLAGS) if (o[k] !== undefined) out[k] = o[k];
  if (o.keepWithin !== undefined) out.keepWithin = o.keepWithin;
  if (o.keepTag?.length) out.keepTags = o.keepTag;
  return out;
}

export function planTable(plan: readonly Pick<RetentionDecision, 'id' | 'keep' | 'reasons'>[]): string {
  const lines = plan.map((d) => `${d.keep ? 'keep  ' : 'remove'}  ${d.id}  ${d.reasons.join('; ')}`);
  return ['action  recovery point                     reasons', ...lines].join('\n');
}

export async function forgetPolicyCommand(ctx: CommandContext, o: ForgetPolicyOptions): Promise<CommandOutcome> {
  const client = await ctx.client();
  const planned = await client.retentionPlan(overridesOf(o));
  const plan = planned.points.map(({ id, time, keep, reasons }) => ({ id, time, keep, reasons }));
  const forgotten: string[] = [];
  const locked: { id: string; until: string }[] = [];
  if (o.confirm) {
    for (const id of planned.remove) {
      const r = await client.forget(id);
      if (r.lockedUntil) locked.push({ id, until: r.lockedUntil });
      else forgotten.push(id);
    }
  }
  const lockedNote = locked.length
    ? `; ${locked.length} kept under S3 Object Lock (until ${locked.map((l) => l.until).sort()[locked.length - 1]}), forgotten by a later run`
    : '';
  const summary = o.confirm
    ? `forgot ${forgotten.length} of ${plan.length} recovery points; prune frees their data${lockedNote}`
    : `would forget ${planned.remove.length} of ${plan.length} recovery points; nothing removed (add --confirm to remove them)`;
  return {
    document: {
      ok: true,
      confirmed: Boolean(o.confirm),
      timezone: planned.timezone,
      plan,
      forgotten,
      ...(locked.length ? { locked } : {}),
    },
    text: `${planTable(plan)}\n${summary}`,
  };
}

function parseWithin(value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new InvalidArgumentError('expected a duration such as 30d, 12h or 1d12h');
  }
}

export function registerForget(program: Command, run: CommandRunner): void {
  const cmd = program
    .command('forget')
    .description(
      'remove a recovery point by id, or plan (and with --confirm apply) the retention policy; held points are never removed; prune frees the data later',
    )
    .argument('[id]', 'recovery point id or a unique prefix of one')
    .option('--policy', "plan the config's retention policy (per source) and print keep/remove for every point")
    .option('--confirm', 'with --policy or --keep-*: really forget the points the plan removes');
  for (const k of RULE_FLAGS) {
    const flag = `--keep-${k.slice(4).toLowerCase()} <n>`;
    cmd.addOption(new Option(flag, `override the policy's ${k} (0 = off)`).argParser(parseNonNegativeInt));
  }
  cmd
    .addOption(new Option('--keep-within <duration>', 'keep points younger than this, e.g. 30d').argParser(parseWithin))
    .addOption(
      new Option('--keep-tag <tag...>', 'keep points carrying this tag (repeatable)').argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .addOption(jsonOption())
    .action((id: string | undefined, o: ForgetPolicyOptions, c: Command) =>
      run(c, (ctx) => {
        const planning =
          o.policy || RULE_FLAGS.some((k) => o[k] !== undefined) || o.keepWithin !== undefined || o.keepTag;
        if (id && planning)
          throw new UsageError('give either a recovery point id or --policy/--keep-*, not both', 'ID');
        if (planning) return forgetPolicyCommand(ctx, o);
        if (o.confirm) throw new UsageError('--confirm applies a policy; add --policy or --keep-* rules', '--confirm');
        if (!id) throw new UsageError('give a recovery point id, or --policy to plan the retention policy', 'ID');
        return forgetCommand(ctx, id);
      }),
    );
}
