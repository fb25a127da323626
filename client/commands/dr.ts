import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';
import type { DrClient } from '../dr';
import type { DrPlan, DrReport, DrStatus } from '../../lib/dr';
import { jsonOption, parseNonNegativeInt, sourceOption, splitList } from './options';
import type { CommandRunner } from './runner';

const mins = (ms: number | undefined) => (ms === undefined ? '?' : `${(ms / 60_000).toFixed(1)} min`);

export function renderPlan(p: DrPlan | undefined): string {
  if (!p) return 'no plan yet (still assessing)';
  const lines = [`plan v${p.version} (${p.sharedPoint ? 'one recovery point for all' : 'per-source points'})`];
  for (const g of p.groups) lines.push(`  group ${g.index}: ${g.sources.join(', ')} ← ${g.recoveryPointId}`);
  for (const r of p.recoveries)
    lines.push(
      `  ${r.source}: ${r.recoveryPointId} (${r.pointTime}), data loss ≈ ${mins(r.expectedDataLossMs)} (target ${mins(r.rpoTargetMs)}); ${r.why}`,
    );
  if (p.leftAlone.length) lines.push(`  left alone (healthy): ${p.leftAlone.join(', ')}`);
  lines.push(
    `  expected RTO: ${p.expectedRtoMs !== undefined ? mins(p.expectedRtoMs) : 'unknown'} (${p.expectedRtoBasis})`,
  );
  for (const x of p.problems) lines.push(`  problem: ${x}`);
  return lines.join('\n');
}

function renderStatus(s: DrStatus & { workflowStatus: string; workflowId: string; uiUrl?: string }): string {
  const lines = [
    `incident ${s.incidentId} (${s.severity}) — ${s.phase} [${s.workflowStatus}] workflow ${s.workflowId}`,
    `  ${s.detail}`,
    ...(s.uiUrl ? [`  UI: ${s.uiUrl}`] : []),
  ];
  for (const a of s.assessment) lines.push(`  ${a.source}: ${a.health} — ${a.evidence.join('; ')}`);
  if (s.plan) lines.push(renderPlan(s.plan).replace(/^/gm, '  '));
  if (s.approvedBy) lines.push(`  approved by ${s.approvedBy}`);
  for (const g of s.groups)
    lines.push(`  group ${g.index} ${g.sources.join(', ')}: ${g.status}${g.error ? ` (${g.error})` : ''}`);
  for (const e of s.escalations) lines.push(`  escalation: ${e}`);
  return lines.join('\n');
}

export function renderReport(r: DrReport): string {
  const lines = [
    `incident ${r.incidentId}: ${r.outcome}${r.reason ? ` — ${r.reason}` : ''}`,
    `  approved by ${r.approvedBy ?? '-'}${r.approvedPlanVersion ? ` (plan v${r.approvedPlanVersion})` : ''}`,
    `  RTO ${mins(r.rtoMs)} (target ${mins(r.rtoTargetMs)}), restore alone ${mins(r.restoreMs)}`,
  ];
  for (const d of r.dataLoss)
    lines.push(
      `  ${d.source}: from ${d.recoveryPointId}, data loss ${mins(d.windowMs)} (target ${mins(d.rpoTargetMs)})`,
    );
  for (const v of r.validation) lines.push(`  ${v.source}: ${v.ok ? 'valid' : 'INVALID'} — ${v.detail}`);
  return lines.join('\n');
}

async function withDr<T>(ctx: CommandContext, f: (dr: DrClient) => Promise<T>): Promise<T> {
  const { createDrClient } = require('../dr') as typeof import('../dr');
  const dr = createDrClient(await ctx.config());
  try {
    return await f(dr);
  } finally {
    await dr.close();
  }
}

interface DeclareFlags {
  incident: string;
  severity: string;
  source?: string[];
  before?: string;
  as?: string;
  reason?: string;
  wait?: boolean;
}

export function registerDr(program: Command, run: CommandRunner): void {
  const dr = program
    .command('dr')
    .description('disaster recovery: declare an incident, review and approve its plan, follow it, read the report');
  dr.command('declare')
    .description('declare a disaster (a second declaration of the same incident joins the running one)')
    .requiredOption('--incident <id>', 'incident id, e.g. INC-1042')
    .requiredOption('--severity <sev>', 'sev1, sev2, sev3 or sev4')
    .addOption(sourceOption('affected source (named sources are recovered even when they look healthy)'))
    .option('--before <time>', 'recover to a point taken before this ISO time (corruption found at …)')
    .option('--as <name>', 'who declares it', process.env.USER ?? 'cli')
    .option('--reason <text>', 'why')
    .addOption(jsonOption())
    .action((_o, cmd: Command) =>
      run(cmd, async (ctx) => {
        const f = cmd.opts<DeclareFlags>();
        const r = await withDr(ctx, (c) =>
          c.declare({
            incidentId: f.incident,
            severity: f.severity,
            sources: splitList(f.source),
            before: f.before,
            declaredBy: f.as,
            reason: f.reason,
            via: 'cli',
          }),
        );
        return {
          document: { ok: true, ...r },
          text: `${r.joined ? 'joined running' : 'declared'} incident ${r.incidentId}: workflow ${r.workflowId}${r.uiUrl ? `\n  ${r.uiUrl}` : ''}\nnext: lifeboat dr plan ${r.incidentId}`,
        };
      }),
    );
  dr.command('status')
    .description('phase, assessment, plan, groups and escalations of an incident')
    .argument('<incident>')
    .addOption(jsonOption())
    .action((incident: string, _o, cmd: Command) =>
      run(cmd, async (ctx): Promise<CommandOutcome> => {
        const s = await withDr(ctx, (c) => c.status(incident));
        return { document: { ok: true, status: s }, text: renderStatus(s) };
      }),
    );
  dr.command('plan')
    .description('the current plan (its version is what dr approve --plan-version names)')
    .argument('<incident>')
    .addOption(jsonOption())
    .action((incident: string, _o, cmd: Command) =>
      run(cmd, async (ctx) => {
        const p = await withDr(ctx, (c) => c.plan(incident));
        return { document: { ok: true, plan: p ?? null }, text: renderPlan(p) };
      }),
    );
  dr.command('approve')
    .description('approve the plan (refused if --plan-version is not the current plan)')
    .argument('<incident>')
    .requiredOption('--as <name>', 'approver, recorded in the history and the report')
    .option('--plan-version <n>', 'the plan version you reviewed (default: the current one)', parseNonNegativeInt)
    .option('--comment <text>')
    .addOption(jsonOption())
    .action((incident: string, _o, cmd: Command) =>
      run(cmd, async (ctx) => {
        const f = cmd.opts<{ as: string; planVersion?: number; comment?: string }>();
        const r = await withDr(ctx, (c) => c.approve(incident, f));
        return {
          document: { ok: true, incidentId: incident, ...r },
          text: `approved plan v${r.approvedPlanVersion} of ${incident}; follow with: lifeboat dr status ${incident}`,
        };
      }),
    );
  dr.command('reject')
    .description('reject the plan: the incident ends, nothing is changed')
    .argument('<incident>')
    .requiredOption('--as <name>')
    .requiredOption('--reason <text>')
    .addOption(jsonOption())
    .action((incident: string, _o, cmd: Command) =>
      run(cmd, async (ctx) => {
        await withDr(ctx, (c) => c.reject(incident, cmd.opts<{ as: string; reason: string }>()));
        return { document: { ok: true, incidentId: incident, rejected: true }, text: `rejected ${incident}` };
      }),
    );
  dr.command('abort')
    .description('abort at any phase: before recovery nothing changes; after, every restored store is rolled back')
    .argument('<incident>')
    .requiredOption('--as <name>')
    .requiredOption('--reason <text>')
    .addOption(jsonOption())
    .action((incident: string, _o, cmd: Command) =>
      run(cmd, async (ctx) => {
        const r = await withDr(ctx, (c) => c.abort(incident, cmd.opts<{ as: string; reason: string }>()));
        return {
          document: { ok: true, incidentId: incident, abortedInPhase: r.phase },
          text: `aborting ${incident} (was ${r.phase}); follow with: lifeboat dr status ${incident}`,
        };
      }),
    );
  dr.command('report')
    .description('the stored incident report (records/incidents/<id>)')
    .argument('<incident>')
    .addOption(jsonOption())
    .action((incident: string, _o, cmd: Command) =>
      run(cmd, async (ctx) => {
        const r = await withDr(ctx, (c) => c.report(incident));
        if (!r) {
          const { OperationNotFoundError } = require('../errors') as typeof import('../errors');
          throw new OperationNotFoundError(`incident report ${incident}`);
        }
        return { document: { ok: true, report: r }, text: renderReport(r) };
      }),
    );
  dr.command('list')
    .description('incidents on this task queue, newest first')
    .addOption(jsonOption())
    .action((_o, cmd: Command) =>
      run(cmd, async (ctx) => {
        const l = await withDr(ctx, (c) => c.list());
        return {
          document: { ok: true, incidents: l },
          text: l.length
            ? l
                .map((i) => `${i.incidentId}\t${i.severity ?? ''}\t${i.phase ?? ''}\t${i.status}\t${i.startedAt}`)
                .join('\n')
            : 'no incidents',
        };
      }),
    );
}

export function registerWebhook(program: Command, run: CommandRunner): void {
  program
    .command('webhook')
    .description('HTTP endpoint for incident tooling (generic JSON, Alertmanager, PagerDuty V3) until SIGINT/SIGTERM')
    .option('--listen <host:port>', 'address to listen on (default: dr.webhook.listen)')
    .action((_o, cmd: Command) =>
      run(cmd, async (ctx) => {
        const { startWebhookServer } = require('../webhook') as typeof import('../webhook');
        const srv = await startWebhookServer(await ctx.config(), {
          listen: cmd.opts<{ listen?: string }>().listen,
          log: ctx.log,
        });
        ctx.log(`lifeboat webhook listening on ${srv.url} (POST /v1/incidents, /v1/alertmanager, /v1/pagerduty)`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop).once('SIGTERM', stop);
        });
        await srv.close();
        return { document: { ok: true, stopped: true }, text: 'webhook stopped' };
      }),
    );
}
