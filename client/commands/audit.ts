import type { Command } from 'commander';
import { parseDuration } from '../../config/duration';
import type { AuditEntry } from '../../repository';
import { openConfiguredRepository } from '../../runtime/configured-repository';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { UsageError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

interface AuditOptions {
  since?: string;
  verify?: boolean;
}

/** `--since` as an ISO time or a duration back from now (7d, 12h). */
export function parseSince(v: string, now = Date.now()): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return new Date(t);
  } else {
    try {
      return new Date(now - parseDuration(v));
    } catch {
      // fall through to the usage error
    }
  }
  throw new UsageError(
    `--since ${JSON.stringify(v)} is neither an ISO time (2026-12-01T00:00Z) nor a duration (7d, 12h)`,
    '--since',
  );
}

function line(e: AuditEntry): string {
  const who = `${e.who.user || '?'}@${e.who.host}${e.who.approver ? ` approver=${e.who.approver}` : ''}`;
  const what = [
    e.sources.length ? `sources=${e.sources.join(',')}` : '',
    e.points.length ? `points=${e.points.join(',')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const wf = e.who.workflowId ? ` workflow=${e.who.workflowId}` : '';
  return `${String(e.seq).padStart(5)}  ${e.time}  ${e.operation.padEnd(16)} ${e.outcome.padEnd(9)} ${who}${wf}${what ? ` ${what}` : ''}${e.summary ? `  ${e.summary}` : ''}`;
}

export async function auditCommand(ctx: CommandContext, o: AuditOptions): Promise<CommandOutcome> {
  const since = o.since ? parseSince(o.since) : undefined;
  const repo = await openConfiguredRepository(await ctx.config());
  try {
    const entries = await repo.audit.list(since ? { since } : {});
    const text = entries.map(line).join('\n') || 'no audit entries';
    if (!o.verify) return { document: { ok: true, repository: repo.id, entries }, text };
    const report = await repo.audit.verify();
    const verdict = report.broken
      ? `audit trail BROKEN at ${report.broken.entry}: ${report.broken.problem}`
      : `audit trail intact: ${report.entries} entries${report.head ? `, head #${report.head.seq} ${report.head.mac} (keep a copy of it elsewhere to detect a truncated tail)` : ''}`;
    return {
      document: { ok: report.ok, repository: repo.id, entries, verify: report },
      text: `${text}\n${verdict}`,
      ...(report.ok ? {} : { exitCode: EXIT_CODES.failedNothingChanged }),
    };
  } finally {
    await repo.close();
  }
}

export function registerAudit(program: Command, run: CommandRunner): void {
  program
    .command('audit')
    .description(
      "show the repository's audit trail (who did what, when, with which outcome); --verify checks its hash chain",
    )
    .option('--since <time>', 'only entries from this ISO time, or this long ago (7d, 12h)')
    .option('--verify', 'check every entry and the chain; exit 5 naming the first removed, edited or reordered entry')
    .addOption(jsonOption())
    .action((o: AuditOptions, c: Command) => run(c, (ctx) => auditCommand(ctx, o)));
}
