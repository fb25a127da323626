/**
 * Inline SVG charts of the HTML report, with no script and no external file:
 * the RPO timeline of a source (age of its newest good point over time, the
 * target as a dashed line, breaches in red) and its drills' RTOs as bars
 * against the target. People should see a breach, not read for it.
 */
import type { DrillEntry, RpoFigures, RtoFigures } from './compute';
import { fmtMs } from './markdown';

export const COLORS = { ok: '#2e7d32', breach: '#c62828', breachFill: '#ffcdd2', target: '#ef6c00', axis: '#555' };

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const W = 760;
const H = 180;
const M = { left: 64, right: 16, top: 14, bottom: 30 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
const n = (v: number) => (Math.round(v * 10) / 10).toString();
const day = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

function frame(title: string, body: string[], yMax: number, from: number, to: number): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="${COLORS.axis}"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PH}" stroke="${COLORS.axis}"/>`,
    `<text x="${M.left - 4}" y="${M.top + 4}" font-size="11" text-anchor="end">${escapeXml(fmtMs(yMax))}</text>`,
    `<text x="${M.left - 4}" y="${M.top + PH}" font-size="11" text-anchor="end">0</text>`,
    ...(to > from
      ? [
          `<text x="${M.left}" y="${H - 8}" font-size="11">${day(from)}Z</text>`,
          `<text x="${M.left + PW}" y="${H - 8}" font-size="11" text-anchor="end">${day(to)}Z</text>`,
        ]
      : []),
    ...body,
    '</svg>',
  ].join('\n');
}

function targetLine(y: number, label: string): string[] {
  return [
    `<line class="target" x1="${M.left}" y1="${n(y)}" x2="${M.left + PW}" y2="${n(y)}" stroke="${COLORS.target}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
    `<text x="${M.left + PW - 2}" y="${n(y - 4)}" font-size="11" text-anchor="end" fill="${COLORS.target}">${escapeXml(label)}</text>`,
  ];
}

/**
 * The RPO timeline of one source over [from, to] (the report's period, so the
 * sources line up). Each segment of the saw-tooth is drawn green below the
 * target and red above it; breach intervals are shaded over the full height.
 */
export function rpoTimelineSvg(source: string, rpo: RpoFigures, from: number, to: number): string {
  const span = Math.max(1, to - from);
  const ages = rpo.timeline.map((v) => v.ageMs ?? 0);
  const yMax = Math.max(rpo.targetMs * 1.25, ...ages, 1);
  const x = (t: number) => M.left + ((Math.min(Math.max(t, from), to) - from) / span) * PW;
  const y = (age: number) => M.top + PH - (Math.min(age, yMax) / yMax) * PH;
  const body: string[] = [];
  for (const b of rpo.breaches) {
    const x0 = x(Date.parse(b.from));
    const x1 = x(Date.parse(b.to));
    body.push(
      `<rect class="breach" x="${n(x0)}" y="${M.top}" width="${n(Math.max(1, x1 - x0))}" height="${PH}" fill="${COLORS.breachFill}"><title>${escapeXml(`RPO breach ${b.from} – ${b.to} (${fmtMs(b.durationMs)})${b.worstAgeMs === null ? ': no good recovery point' : `, newest good point ${fmtMs(b.worstAgeMs)} old`}`)}</title></rect>`,
    );
  }
  body.push(...targetLine(y(rpo.targetMs), `RPO target ${fmtMs(rpo.targetMs)}`));
  for (let i = 0; i + 1 < rpo.timeline.length; i += 2) {
    const a = rpo.timeline[i];
    const b = rpo.timeline[i + 1];
    const t0 = Date.parse(a.t);
    const t1 = Date.parse(b.t);
    if (a.ageMs === null || b.ageMs === null) continue; // no good point: only the shaded breach shows
    // Split where the age crosses the target, so the part over it is red.
    const cross = a.ageMs < rpo.targetMs && b.ageMs > rpo.targetMs ? t0 + (rpo.targetMs - a.ageMs) : undefined;
    const seg = (s: number, sa: number, e: number, ea: number, over: boolean) =>
      `<line class="${over ? 'age-over' : 'age-ok'}" x1="${n(x(s))}" y1="${n(y(sa))}" x2="${n(x(e))}" y2="${n(y(ea))}" stroke="${over ? COLORS.breach : COLORS.ok}" stroke-width="2"/>`;
    if (cross !== undefined) {
      body.push(seg(t0, a.ageMs, cross, rpo.targetMs, false), seg(cross, rpo.targetMs, t1, b.ageMs, true));
    } else body.push(seg(t0, a.ageMs, t1, b.ageMs, a.ageMs > rpo.targetMs));
    // The drop to 0 at the next good point.
    if (i + 2 < rpo.timeline.length && rpo.timeline[i + 2].ageMs !== null)
      body.push(
        `<line x1="${n(x(t1))}" y1="${n(y(b.ageMs))}" x2="${n(x(t1))}" y2="${n(y(rpo.timeline[i + 2].ageMs!))}" stroke="${COLORS.ok}" stroke-width="1" stroke-opacity="0.6"/>`,
      );
  }
  if (!rpo.timeline.length)
    body.push(
      `<text x="${M.left + PW / 2}" y="${M.top + PH / 2}" font-size="13" text-anchor="middle" fill="${COLORS.breach}">no recovery point</text>`,
    );
  return frame(`RPO timeline of ${source}: age of the newest good recovery point`, body, yMax, from, to);
}

/** The drills of one source as bars (RTO, green within the target, red over), failed drills as red crosses. */
export function rtoChartSvg(source: string, rto: RtoFigures, drills: readonly DrillEntry[]): string {
  const yMax = Math.max(rto.targetMs * 1.25, ...rto.measurements.map((m) => m.rtoMs), 1);
  const y = (v: number) => M.top + PH - (Math.min(v, yMax) / yMax) * PH;
  const slot = drills.length ? PW / drills.length : PW;
  const bw = Math.max(2, Math.min(28, slot * 0.6));
  const body: string[] = [];
  drills.forEach((d, i) => {
    const cx = M.left + slot * (i + 0.5);
    if (d.sourceOk && d.rtoMs !== undefined) {
      const over = d.rtoMs > rto.targetMs;
      body.push(
        `<rect class="${over ? 'rto-over' : 'rto-ok'}" x="${n(cx - bw / 2)}" y="${n(y(d.rtoMs))}" width="${n(bw)}" height="${n(M.top + PH - y(d.rtoMs))}" fill="${over ? COLORS.breach : COLORS.ok}"><title>${escapeXml(`${d.drillId}: RTO ${fmtMs(d.rtoMs)} (${over ? 'over' : 'within'} target ${fmtMs(rto.targetMs)})`)}</title></rect>`,
      );
    } else {
      const yy = M.top + PH - 10;
      body.push(
        `<g class="drill-failed" stroke="${COLORS.breach}" stroke-width="2.5"><title>${escapeXml(`${d.drillId}: ${d.verdict}${d.reasons.length ? ` — ${d.reasons.join('; ')}` : ''}`)}</title><line x1="${n(cx - 6)}" y1="${n(yy - 6)}" x2="${n(cx + 6)}" y2="${n(yy + 6)}"/><line x1="${n(cx - 6)}" y1="${n(yy + 6)}" x2="${n(cx + 6)}" y2="${n(yy - 6)}"/></g>`,
      );
    }
  });
  body.push(...targetLine(y(rto.targetMs), `RTO target ${fmtMs(rto.targetMs)}`));
  if (!drills.length)
    body.push(
      `<text x="${M.left + PW / 2}" y="${M.top + PH / 2}" font-size="13" text-anchor="middle" fill="${COLORS.target}">no drill in the period: RTO unproven</text>`,
    );
  const first = drills.length ? Date.parse(drills[0].finishedAt) : 0;
  const last = drills.length ? Date.parse(drills[drills.length - 1].finishedAt) : 0;
  return frame(`Drill RTOs of ${source}`, body, yMax, first, last);
}
