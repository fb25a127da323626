/** The compliance report as Markdown: a summary table, then one section per source with its evidence. */
import { formatDuration } from '../../lib/format';
import type { ComplianceReport, SourceReport } from './compute';

export const fmtMs = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : formatDuration(Math.max(1, Math.round(v)));
/** Rounded down, so that a share just short of 100 % never prints as 100 %. */
export const fmtPct = (v: number | null) => (v === null ? '—' : `${Math.floor(v * 100) / 100} %`);
/** Markdown table cells must not break the row. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export const verdictMark = (v: SourceReport['verdict']) =>
  v === 'meets targets' ? 'OK' : v === 'breach' ? 'BREACH' : 'UNPROVEN';

function sourceSection(s: SourceReport): string[] {
  const r = s.rpo;
  const lines = [
    `## ${s.source} (${s.type}) — ${verdictMark(s.verdict)}`,
    '',
    ...s.problems.map((p) => `- ${p}`),
    ...(s.problems.length ? [''] : []),
    `### RPO (target ${fmtMs(r.targetMs)})`,
    '',
    r.from
      ? `Within target ${fmtPct(r.compliancePct)} of the time from ${r.from} to ${r.to} (${fmtMs(r.withinMs)} of ${fmtMs(r.withinMs + r.breachMs)}); newest good point now ${fmtMs(r.currentAgeMs)} old, at worst ${fmtMs(r.worstAgeMs)}. Good points: ${r.basis}; ${r.goodPointsInPeriod} of the ${r.pointsInPeriod} recovery points made in the period.`
      : 'No recovery point of this source: not protected.',
    '',
  ];
  if (r.breaches.length) {
    lines.push('| breach from | to | duration | age of newest good point |', '|---|---|---|---|');
    for (const b of r.breaches)
      lines.push(
        `| ${b.from} | ${b.to} | ${fmtMs(b.durationMs)} | ${b.worstAgeMs === null ? 'no good point' : fmtMs(b.worstAgeMs)} |`,
      );
    lines.push('');
  }
  const d = s.drills;
  const t = s.rto;
  lines.push(
    `### Drills and RTO (target ${fmtMs(t.targetMs)})`,
    '',
    `${d.run} drill(s): ${d.passed} passed, ${d.failed} failed, ${d.cancelled} cancelled. RTO median ${fmtMs(t.medianMs)}, max ${fmtMs(t.maxMs)}: ${t.withinTarget} within target, ${t.overTarget} over${t.state === 'unproven' ? ' (unproven: no drill restored this source)' : ''}.`,
    '',
  );
  if (d.list.length) {
    lines.push('| drill | finished | recovery point | verdict | RTO |', '|---|---|---|---|---|');
    for (const x of d.list)
      lines.push(
        `| ${x.drillId} | ${x.finishedAt} | ${x.recoveryPointId ?? '—'} | ${x.verdict}${x.sourceOk ? '' : ' (this source failed)'} | ${fmtMs(x.rtoMs)}${x.rtoMs !== undefined && x.rtoMs > t.targetMs ? ' **over target**' : ''} |`,
      );
    lines.push('');
  }
  lines.push('### Verification', '', `${s.verify.passed} passed, ${s.verify.failed} failed.`, '');
  lines.push('### Legal holds', '');
  if (s.holds.length) for (const h of s.holds) lines.push(`- ${h.recoveryPointId} since ${h.since}: ${h.reason}`);
  else lines.push('None.');
  lines.push('', '### Failures', '');
  if (s.failures.length)
    for (const f of s.failures) lines.push(`- ${f.time} ${f.kind} ${f.id}: ${cell(f.reasons.join('; '))}`);
  else lines.push('None.');
  lines.push('');
  return lines;
}

export function renderMarkdown(r: ComplianceReport): string {
  const lines = [
    `# Lifeboat compliance report`,
    '',
    `Period ${r.since} to ${r.until}; generated ${r.generatedAt}. Overall: ${r.ok ? 'no source in breach' : '**a source is in breach**'}.`,
    '',
    '| source | verdict | RPO within target | RPO target | drills (passed/run) | RTO median | RTO max | RTO target | verify failed | holds |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.sources.map(
      (s) =>
        `| ${s.source} | ${verdictMark(s.verdict)} | ${fmtPct(s.rpo.compliancePct)} | ${fmtMs(s.rpo.targetMs)} | ${s.drills.passed}/${s.drills.run} | ${fmtMs(s.rto.medianMs)} | ${fmtMs(s.rto.maxMs)} | ${fmtMs(s.rto.targetMs)} | ${s.verify.failed} | ${s.holds.length} |`,
    ),
    '',
    ...r.sources.flatMap(sourceSection),
  ];
  if (r.repository.damagedPoints.length || r.repository.damagedRecords.length) {
    lines.push('## Repository damage', '');
    for (const p of r.repository.damagedPoints) lines.push(`- recovery point ${p.id}: ${cell(p.reason)}`);
    for (const x of r.repository.damagedRecords) lines.push(`- record ${x.object}: ${cell(x.error)}`);
    lines.push('');
  }
  return lines.join('\n');
}
