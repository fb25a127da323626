import type { RecoveryPoint } from '../repository';
import type { BackupResult, RestoreResult } from '../workflows/types';
import type { VerifyResult } from '../workflows/verify';
import { formatBytes, formatCount, formatDuration, formatTable } from '../lib/format';
import type { OperationHandle, OperationProgress, ScheduleApplyReport, ScheduleInfo } from './types';

/** Human renderings of results; the --json documents carry the same data unformatted. */

const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const sourcesOfPoint = (rp: RecoveryPoint) => [...new Set(rp.artifacts.map((a) => a.source))];
const sizeOf = (rp: RecoveryPoint) => rp.artifacts.reduce((n, a) => n + a.size, 0);

export function renderPointList(points: readonly RecoveryPoint[]): string {
  if (!points.length) return 'no recovery points yet: run `lifeboat backup`';
  return formatTable(
    ['ID', 'TIME', 'SOURCES', 'SIZE', 'TAGS', 'HOLD'],
    points.map((rp) => [
      rp.id,
      time(rp.time),
      sourcesOfPoint(rp).join(','),
      formatBytes(sizeOf(rp)),
      rp.damaged ? 'DAMAGED' : rp.tags.join(','),
      rp.hold ? `held: ${rp.hold.reason}` : '',
    ]),
  ).concat(
    points
      .filter((rp) => rp.damaged)
      .map(
        (rp) =>
          `\n${rp.id} is DAMAGED and cannot be restored: ${rp.damaged} (restore another point; lifeboat forget ${rp.id} removes it)`,
      )
      .join(''),
  );
}

export function renderPoint(rp: RecoveryPoint): string {
  const lines = [
    `recovery point ${rp.id}`,
    `  time      ${time(rp.time)}`,
    `  host      ${rp.host}`,
    `  sources   ${sourcesOfPoint(rp).join(', ') || '(none)'}`,
    `  size      ${formatBytes(sizeOf(rp))} in ${rp.artifacts.length} artifact(s)`,
  ];
  if (rp.tags.length) lines.push(`  tags      ${rp.tags.join(', ')}`);
  if (rp.parent) lines.push(`  parent    ${rp.parent}`);
  for (const [k, v] of Object.entries(rp.labels)) lines.push(`  ${k.padEnd(9)} ${v}`);
  if (rp.hold)
    lines.push(
      `  HOLD      ${rp.hold.reason} (since ${time(rp.hold.time)}): cannot be forgotten until \`lifeboat unhold ${rp.id}\``,
    );
  lines.push(
    '',
    formatTable(
      ['SOURCE', 'KIND', 'NAME', 'SIZE', 'CHUNKS', 'SHA256'],
      rp.artifacts.map((a) => [a.source, a.kind, a.name, formatBytes(a.size), String(a.chunks), a.sha256.slice(0, 16)]),
    ),
  );
  return lines.join('\n');
}

export function renderStarted(h: OperationHandle<unknown>): string {
  const what =
    h.kind === 'restore'
      ? `restore of ${h.recoveryPointId} (${h.sources.join(', ')})`
      : h.kind === 'verify'
        ? `verification of ${h.recoveryPointId ?? 'the repository'}`
        : h.kind === 'prune'
          ? 'prune of the repository'
          : `backup of ${h.sources.join(', ')}`;
  return [
    `started ${what}`,
    `  workflow  ${h.workflowId}`,
    `  run       ${h.runId}`,
    `follow it in the Temporal UI, or: temporal workflow describe -w ${h.workflowId}`,
  ].join('\n');
}

export function renderBackup(r: BackupResult): string {
  return [
    `recovery point ${r.recoveryPointId}: ${formatBytes(r.bytes)} (${formatBytes(r.newBytes)} new) in ${formatDuration(r.durationMs)}, verified: ${r.verified}`,
    formatTable(
      ['SOURCE', 'TYPE', 'ITEMS', 'SIZE', 'NEW', 'TIME'],
      r.sources.map((s) => [
        s.source,
        s.type,
        formatCount(s.items),
        formatBytes(s.bytes),
        formatBytes(s.newBytes),
        formatDuration(s.durationMs),
      ]),
    ),
  ].join('\n');
}

export function renderRestore(r: RestoreResult): string {
  const head = r.ok
    ? `restored ${r.recoveryPointId} in ${formatDuration(r.durationMs)}`
    : `restore of ${r.recoveryPointId} FAILED: ${r.failure ?? 'unknown failure'}`;
  const lines = [
    head,
    formatTable(
      ['SOURCE', 'TARGET', 'STATUS', 'DETAIL'],
      r.sources.map((s) => [
        s.source,
        s.target,
        s.status,
        s.error ?? (s.durationMs !== undefined ? formatDuration(s.durationMs) : ''),
      ]),
    ),
  ];
  if (r.safetyRecoveryPointId)
    lines.push(`safety recovery point (the targets before the restore): ${r.safetyRecoveryPointId}`);
  if (!r.ok) {
    if (r.rolledBack.length) lines.push(`rolled back: ${r.rolledBack.join(', ')}`);
    for (const f of r.rollbackFailures) lines.push(`ROLLBACK FAILED: ${f}`);
  }
  return lines.join('\n');
}

export function renderVerify(r: VerifyResult, what: string): string {
  if (r.ok) return `${what}: OK, ${formatCount(r.checkedObjects)} objects checked`;
  return [
    `${what}: ${r.problems.length} PROBLEM(S) in ${formatCount(r.checkedObjects)} objects checked`,
    ...r.problems.map((p) => `  - ${p}`),
  ].join('\n');
}

export function renderProgress(p: OperationProgress): string {
  const lines = [
    `${p.workflowId}: ${p.status}${p.progress ? `, ${p.progress.phase}` : ''} (started ${time(p.startedAt)}${p.closedAt ? `, closed ${time(p.closedAt)}` : ''})`,
  ];
  for (const [n, s] of Object.entries(p.progress?.sources ?? {}))
    lines.push(`  ${n}: ${s.status}${s.detail ? ` (${s.detail})` : ''}`);
  return lines.join('\n');
}

export function renderScheduleReport(r: ScheduleApplyReport): string {
  const lines: string[] = [];
  for (const id of r.created) lines.push(`created ${id}`);
  for (const id of r.updated) lines.push(`updated ${id}`);
  for (const id of r.deleted) lines.push(`deleted ${id} (no longer in the config)`);
  for (const s of r.skipped) lines.push(`skipped ${s.name}: ${s.reason}`);
  return lines.length ? lines.join('\n') : 'no schedules in the config and none on the server';
}

export function renderSchedules(list: readonly ScheduleInfo[]): string {
  if (!list.length) return 'no schedules: add a schedules: section to the config, then run `lifeboat schedules apply`';
  return formatTable(
    ['SCHEDULE', 'WORKFLOW', 'WHEN', 'STATE', 'NEXT RUN'],
    list.map((s) => [
      s.scheduleId,
      s.workflowType ?? '-',
      s.spec,
      !s.applied
        ? 'not applied (run schedules apply)'
        : !s.inConfig
          ? 'not in config (apply deletes it)'
          : s.paused
            ? 'paused'
            : 'active',
      s.nextRuns[0] ? time(s.nextRuns[0]) : '-',
    ]),
  );
}
