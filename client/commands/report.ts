import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import { UsageError } from '../errors';
import { parsePeriod, renderHtml, renderMarkdown, type ComplianceReport } from '../report';
import { verdictMark } from '../report/markdown';
import { jsonOption } from './options';
import type { CommandRunner } from './runner';

export const REPORT_FORMATS = ['markdown', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportCommandOptions {
  since?: string;
  until?: string;
  format?: ReportFormat;
  out?: string;
}

export function renderReport(r: ComplianceReport, format: ReportFormat): string {
  if (format === 'html') return renderHtml(r);
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  return renderMarkdown(r);
}

export async function reportCommand(ctx: CommandContext, o: ReportCommandOptions): Promise<CommandOutcome> {
  const format = o.format ?? 'markdown';
  if (!REPORT_FORMATS.includes(format))
    throw new UsageError(
      `--format ${format} is not a report format; use one of ${REPORT_FORMATS.join(', ')}`,
      '--format',
    );
  const period = parsePeriod(o.since, o.until, new Date());
  const report = await (await ctx.client()).report(period);
  const rendered = renderReport(report, format);
  let text = rendered;
  if (o.out) {
    const file = path.resolve(o.out);
    // Written whole or not at all: a half-written report on a web share would mislead.
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, rendered, { mode: 0o644 });
    await rename(tmp, file);
    text = [
      `report written to ${file} (${format}, ${report.since} to ${report.until})`,
      ...report.sources.map(
        (s) => `  ${verdictMark(s.verdict).padEnd(8)} ${s.source}: ${s.problems.join('; ') || 'meets its RPO and RTO'}`,
      ),
    ].join('\n');
  }
  return {
    document: { ok: report.ok, ...(o.out ? { out: path.resolve(o.out), format } : {}), report },
    text,
  };
}

export function registerReport(program: Command, run: CommandRunner): void {
  program
    .command('report')
    .description(
      'compliance report per source over a period: RPO compliance, drills and RTO vs target, verify results, legal holds, failures (reads the repository; no worker needed)',
    )
    .option('--since <when>', 'start of the period: a duration back from now ("30d", "12h") or a date', '30d')
    .option('--until <when>', 'end of the period: a date, or a duration back from now (default: now)')
    .addOption(
      new Option('--format <format>', 'markdown, json or html (inline SVG charts)')
        .choices(REPORT_FORMATS)
        .default('markdown'),
    )
    .option('--out <file>', 'write the report to this file instead of stdout')
    .addOption(jsonOption())
    .action((_o, cmd: Command) => run(cmd, (ctx) => reportCommand(ctx, cmd.opts<ReportCommandOptions>())));
}
