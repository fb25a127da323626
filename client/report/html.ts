/** The compliance report as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched). */
import type { ComplianceReport, SourceReport } from './compute';
import { fmtMs, fmtPct, verdictMark } from './markdown';
import { COLORS, escapeXml as esc, rpoTimelineSvg, rtoChartSvg } from './svg';

const verdictClass = (v: SourceReport['verdict']) =>
  v === 'meets targets' ? 'ok' : v === 'breach' ? 'breach' : 'unproven';

const CSS = `
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1000px; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; font-size: 14px; vertical-align: top; }
th { background: #f3f3f3; }
.ok { color: ${COLORS.ok}; font-weight: 600; }
.breach { color: ${COLORS.breach}; font-weight: 700; }
.unproven { color: ${COLORS.target}; font-weight: 600; }
tr.breach td { background: ${COLORS.breachFill}; }
section { border-top: 2px solid #ddd; margin-top: 1.5em; }
code { font-size: 13px; }
`;

function table(header: string[], rows: string[][], rowClass?: (i: number) => string): string {
  return [
    '<table>',
    `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`,
    ...rows.map((r, i) => `<tr${rowClass?.(i) ? ` class="${rowClass(i)}"` : ''}>${r.join('')}</tr>`),
    '</table>',
  ].join('\n');
}
const td = (s: string, cls?: string) => `<td${cls ? ` class="${cls}"` : ''}>${esc(s)}</td>`;

function sourceSection(r: ComplianceReport, s: SourceReport): string {
  const from = Date.parse(r.since);
  const to = Date.parse(r.until);
  const p = s.rpo;
  const parts = [
    `<section id="source-${esc(s.source)}">`,
    `<h2>${esc(s.source)} <small>(${esc(s.type)})</small> — <span class="${verdictClass(s.verdict)}">${verdictMark(s.verdict)}</span></h2>`,
    s.problems.length ? `<ul>${s.problems.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '',
    `<h3>RPO: within target ${fmtPct(p.compliancePct)} of the time (target ${esc(fmtMs(p.targetMs))})</h3>`,
    `<p>${
      p.from
        ? esc(
            `From ${p.from} to ${p.to}; newest good point now ${fmtMs(p.currentAgeMs)} old, at worst ${fmtMs(p.worstAgeMs)}. Good points: ${p.basis}; ${p.goodPointsInPeriod} of ${p.pointsInPeriod} points made in the period.`,
          )
        : '<span class="breach">No recovery point of this source: not protected.</span>'
    }</p>`,
    rpoTimelineSvg(s.source, p, from, to),
    p.breaches.length
      ? table(
          ['breach from', 'to', 'duration', 'age of newest good point'],
          p.breaches.map((b) => [
            td(b.from),
            td(b.to),
            td(fmtMs(b.durationMs)),
            td(b.worstAgeMs === null ? 'no good point' : fmtMs(b.worstAgeMs)),
          ]),
          () => 'breach',
        )
      : '',
    `<h3>Drills: ${s.drills.passed} of ${s.drills.run} passed; RTO median ${esc(fmtMs(s.rto.medianMs))}, max ${esc(fmtMs(s.rto.maxMs))} (target ${esc(fmtMs(s.rto.targetMs))})</h3>`,
    rtoChartSvg(s.source, s.rto, s.drills.list),
    s.drills.list.length
      ? table(
          ['drill', 'finished', 'recovery point', 'verdict', 'RTO'],
          s.drills.list.map((d) => [
            td(d.drillId),
            td(d.finishedAt),
            td(d.recoveryPointId ?? '—'),
            td(`${d.verdict}${d.sourceOk ? '' : ' (this source failed)'}`, d.verdict === 'passed' ? 'ok' : 'breach'),
            td(fmtMs(d.rtoMs), d.rtoMs !== undefined && d.rtoMs > s.rto.targetMs ? 'breach' : undefined),
          ]),
          (i) => (s.drills.list[i].verdict === 'passed' ? '' : 'breach'),
        )
      : '',
    `<h3>Verification: ${s.verify.passed} passed, ${s.verify.failed} failed</h3>`,
    `<h3>Legal holds: ${s.holds.length}</h3>`,
    s.holds.length
      ? table(
          ['recovery point', 'since', 'reason'],
          s.holds.map((h) => [td(h.recoveryPointId), td(h.since), td(h.reason)]),
        )
      : '',
    `<h3>Failures: ${s.failures.length}</h3>`,
    s.failures.length
      ? table(
          ['time', 'kind', 'id', 'reasons'],
          s.failures.map((f) => [td(f.time), td(f.kind), td(f.id), td(f.reasons.join('; '))]),
          () => 'breach',
        )
      : '',
    '</section>',
  ];
  return parts.filter(Boolean).join('\n');
}

export function renderHtml(r: ComplianceReport): string {
  const summary = table(
    [
      'source',
      'verdict',
      'RPO within target',
      'RPO target',
      'drills passed/run',
      'RTO median',
      'RTO max',
      'RTO target',
      'verify failed',
      'holds',
    ],
    r.sources.map((s) => [
      `<td><a href="#source-${esc(s.source)}">${esc(s.source)}</a></td>`,
      td(verdictMark(s.verdict), verdictClass(s.verdict)),
      td(fmtPct(s.rpo.compliancePct), s.rpo.breachMs > 0 || s.rpo.compliancePct === null ? 'breach' : 'ok'),
      td(fmtMs(s.rpo.targetMs)),
      td(`${s.drills.passed}/${s.drills.run}`, s.drills.passed < s.drills.run ? 'breach' : undefined),
      td(fmtMs(s.rto.medianMs)),
      td(fmtMs(s.rto.maxMs), s.rto.state === 'breach' ? 'breach' : undefined),
      td(fmtMs(s.rto.targetMs)),
      td(String(s.verify.failed), s.verify.failed ? 'breach' : undefined),
      td(String(s.holds.length)),
    ]),
    (i) => (r.sources[i].verdict === 'breach' ? 'breach' : ''),
  );
  const damage = [
    ...r.repository.damagedPoints.map((p) => `<li>recovery point ${esc(p.id)}: ${esc(p.reason)}</li>`),
    ...r.repository.damagedRecords.map((x) => `<li>record ${esc(x.object)}: ${esc(x.error)}</li>`),
  ];
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>Lifeboat compliance report ${esc(r.since)} – ${esc(r.until)}</title>`,
    `<style>${CSS}</style></head><body>`,
    '<h1>Lifeboat compliance report</h1>',
    `<p>Period ${esc(r.since)} to ${esc(r.until)}; generated ${esc(r.generatedAt)}. Overall: ${r.ok ? '<span class="ok">no source in breach</span>' : '<span class="breach">a source is in breach</span>'}.</p>`,
    summary,
    ...r.sources.map((s) => sourceSection(r, s)),
    damage.length ? `<section><h2 class="breach">Repository damage</h2><ul>${damage.join('')}</ul></section>` : '',
    '</body></html>',
    '',
  ].join('\n');
}
