import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { LifeboatConfig, ScheduleConfig } from '../config/types';
import { SA } from '../workflows/search-attributes';
import { WORKFLOW_TYPES, type BackupInput } from '../workflows/types';
import type { VerifyInput } from '../workflows/verify';
import { UnknownScheduleError } from './errors';
import { formatDuration } from '../lib/format';
import { backupWorkflowId } from './workflow-ids';
import type { ScheduleApplyReport, ScheduleInfo, ScheduleName, ScheduleOperations } from './types';

/** Every schedule the config may declare, in the order they are applied. */
export const SCHEDULE_NAMES = ['backup', 'verify', 'drill', 'prune'] as const satisfies readonly ScheduleName[];

/** Memo on schedules Lifeboat creates, so `apply` only ever deletes its own. */
const MANAGED_MEMO = { managedBy: 'lifeboat' } as const;

type Action = ScheduleOptionsStartWorkflowAction<Workflow>;

/** One Temporal Schedule as the config wants it. */
export interface DesiredSchedule {
  name: ScheduleName;
  scheduleId: string;
  /** "cron 0 * * * * (UTC)" or "every 1h". */
  specText: string;
  options: ScheduleOptions<Action>;
}

function specOf(cfg: ScheduleConfig): { spec: ScheduleSpec; text: string } {
  if (cfg.cron !== undefined)
    return {
      spec: { cronExpressions: [cfg.cron], timezone: cfg.timezone },
      text: `cron "${cfg.cron}" (${cfg.timezone})`,
    };
  return { spec: { intervals: [{ every: cfg.every }] }, text: `every ${formatDuration(cfg.every)}` };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * The schedules the config asks for, as Temporal Schedule options, and the
 * ones this version cannot create (no workflow type for them yet). Pure: no
 * server involved, so it is easy to check.
 */
export function desiredSchedules(
  config: LifeboatConfig,
  prefix = 'lifeboat-',
): { desired: DesiredSchedule[]; skipped: ScheduleApplyReport['skipped'] } {
  const desired: DesiredSchedule[] = [];
  const skipped: ScheduleApplyReport['skipped'] = [];
  const allSources = config.sources.map((s) => s.name);
  const types = WORKFLOW_TYPES as Readonly<Record<string, string>>;
  for (const name of SCHEDULE_NAMES) {
    const cfg = config.schedules[name];
    if (!cfg) continue;
    // A backup schedule starts the scheduled-backup workflow, which runs the backup under the id a manual backup of the same sources uses.
    const workflowType = name === 'backup' ? WORKFLOW_TYPES.scheduledBackup : types[name];
    if (!workflowType) {
      skipped.push({
        name,
        reason: `this version of Lifeboat has no ${name} workflow, so no ${name} schedule was created; it will be once the workflow exists`,
      });
      continue;
    }
    const chosen =
      'sources' in cfg && cfg.sources?.length && !sameSet(cfg.sources, allSources)
        ? [...cfg.sources].sort()
        : undefined;
    const sources = chosen ?? allSources;
    let args: unknown[];
    let workflowId: string;
    let summary: string;
    if (name === 'verify') {
      const v = config.schedules.verify!;
      const input: VerifyInput = { readData: v.readData, ...(v.readData ? { subsetPercent: v.subsetPercent } : {}) };
      args = [input];
      workflowId = `${prefix}verify`;
      summary = `Scheduled verification of the repository${v.readData ? ` (read ${v.subsetPercent}% of the data)` : ' (structure)'}`;
    } else if (name === 'backup') {
      const input: BackupInput = { ...(chosen ? { sources: chosen } : {}), trigger: 'schedule' };
      args = [input];
      workflowId = `${prefix}scheduled-backup${chosen ? `-${chosen.join('+')}` : ''}`;
      summary = `Scheduled backup of ${sources.join(', ')} (runs as ${backupWorkflowId(chosen)})`;
    } else {
      args = [{ ...(chosen ? { sources: chosen } : {}), trigger: 'schedule' }];
      workflowId = `${prefix}${name}`;
      summary =
        name === 'drill'
          ? `Scheduled restore drill of ${sources.join(', ')} (scratch targets, validated, cleaned up)`
          : name === 'prune'
            ? 'Scheduled prune: apply the retention policy, then delete unreferenced data'
            : `Scheduled ${name}`;
    }
    const { spec, text } = specOf(cfg);
    const scheduleId = `${prefix}${name}`;
    desired.push({
      name,
      scheduleId,
      specText: text,
      options: {
        scheduleId,
        spec,
        action: {
          type: 'startWorkflow',
          workflowType,
          taskQueue: config.temporal.taskQueue,
          // Temporal appends the scheduled time to this id.
          workflowId,
          args,
          staticSummary: summary,
          typedSearchAttributes: [
            // The backup itself (the child) carries kind "backup"; the scheduled run is told apart so lists of backups are not doubled.
            { key: SA.kind, value: name === 'backup' ? 'scheduled-backup' : name },
            ...(name === 'verify' || name === 'prune' ? [] : [{ key: SA.source, value: sources }]),
          ],
        },
        // A run still going when the next one is due is not doubled up; an outage is caught up only this far back.
        policies: { overlap: 'SKIP', catchupWindow: config.schedules.catchupWindow, pauseOnFailure: false },
        state: {
          paused: cfg.paused,
          note: cfg.paused ? 'paused in the Lifeboat config' : 'managed by lifeboat schedules apply',
        },
        memo: { ...MANAGED_MEMO },
      },
    });
  }
  return { desired, skipped };
}

async function managedOnServer(client: Client, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) {
    if (
      s.scheduleId.startsWith(prefix) &&
      (s.memo as { managedBy?: unknown } | undefined)?.managedBy === MANAGED_MEMO.managedBy
    )
      ids.push(s.scheduleId);
  }
  return ids;
}

async function describeOrUndefined(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) return undefined;
    throw e;
  }
}

function describeSpec(d: ScheduleDescription): string {
  const iv = d.spec.intervals?.[0];
  if (iv) return `every ${formatDuration(Number(iv.every))}`;
  return d.spec.calendars?.length
    ? `calendar (${d.spec.calendars.length} rule${d.spec.calendars.length > 1 ? 's' : ''})`
    : 'unknown';
}

/**
 * Schedule operations over a Temporal client. `getClient` is called lazily so
 * building a LifeboatClient never connects by itself.
 */
export function scheduleOperations(
  config: LifeboatConfig,
  getClient: () => Promise<Client>,
  prefix = 'lifeboat-',
): ScheduleOperations {
  const plan = () => desiredSchedules(config, prefix);
  const idFor = (name: string): string => {
    const { desired } = plan();
    const hit = desired.find((d) => d.name === name || d.scheduleId === name);
    if (!hit)
      throw new UnknownScheduleError(
        name,
        desired.map((d) => d.name),
      );
    return hit.scheduleId;
  };

  const setPaused = async (paused: boolean, name: string | undefined, note: string | undefined): Promise<string[]> => {
    const client = await getClient();
    const ids = name
      ? [idFor(name)]
      : [...new Set([...plan().desired.map((d) => d.scheduleId), ...(await managedOnServer(client, prefix))])];
    const done: string[] = [];
    for (const id of ids) {
      const h = client.schedule.getHandle(id);
      try {
        if (paused) await h.pause(note ?? 'paused with lifeboat schedules pause');
        else await h.unpause(note ?? 'unpaused with lifeboat schedules unpause');
        done.push(id);
      } catch (e) {
        if (!(e instanceof ScheduleNotFoundError)) throw e;
        if (name)
          throw new UnknownScheduleError(
            name,
            plan().desired.map((d) => d.name),
            true,
          );
      }
    }
    return done;
  };

  return {
    async apply() {
      const client = await getClient();
      const { desired, skipped } = plan();
      const report: ScheduleApplyReport = { created: [], updated: [], deleted: [], skipped };
      for (const d of desired) {
        const h = client.schedule.getHandle(d.scheduleId);
        try {
          const { spec, action, policies, state } = d.options;
          await h.update(() => ({ spec, action, policies, state: { paused: state?.paused, note: state?.note } }));
          report.updated.push(d.scheduleId);
        } catch (e) {
          if (!(e instanceof ScheduleNotFoundError)) throw e;
          await client.schedule.create(d.options);
          report.created.push(d.scheduleId);
        }
      }
      const wanted = new Set(desired.map((d) => d.scheduleId));
      for (const id of await managedOnServer(client, prefix)) {
        if (wanted.has(id)) continue;
        try {
          await client.schedule.getHandle(id).delete();
          report.deleted.push(id);
        } catch (e) {
          // Listing is eventually consistent: it may still show one deleted a moment ago.
          if (!(e instanceof ScheduleNotFoundError)) throw e;
        }
      }
      return report;
    },

    async list() {
      const client = await getClient();
      const { desired } = plan();
      const ids = [...new Set([...desired.map((d) => d.scheduleId), ...(await managedOnServer(client, prefix))])];
      const out: ScheduleInfo[] = [];
      for (const id of ids) {
        const want = desired.find((d) => d.scheduleId === id);
        const d = await describeOrUndefined(client, id);
        if (!d && !want) continue;
        out.push({
          scheduleId: id,
          ...(want ? { name: want.name } : {}),
          workflowType: d?.action.workflowType ?? (want?.options.action.workflowType as string | undefined),
          spec: want?.specText ?? (d ? describeSpec(d) : 'unknown'),
          paused: d ? d.state.paused : Boolean(want?.options.state?.paused),
          ...(d?.state.note ? { note: d.state.note } : {}),
          inConfig: Boolean(want),
          applied: Boolean(d),
          nextRuns: d ? d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()) : [],
          recentRuns: d
            ? d.info.recentActions
                .slice(-5)
                .map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId }))
            : [],
        });
      }
      return out;
    },

    pause: (name, note) => setPaused(true, name, note),
    unpause: (name, note) => setPaused(false, name, note),
  };
}
