/**
 * Measuring helpers of bench/rto.ts: the worker as its own process (as `lifeboat worker` runs)
 * with its peak RSS, and the restore's phases read back from the workflow's history.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { projectRoot } from '../test/servers/tools';
import { tail } from '../test/servers/process';

const PAGE = 4096;

/** Resident set of a process in bytes, or 0 when it is gone. */
function rssOf(pid: number): number {
  try {
    // /proc/<pid>/statm: size resident shared ... in pages.
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
  } catch {
    return 0;
  }
}

/** The kernel's exact peak RSS (VmHWM) of a process, in bytes. */
function hwmOf(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** `pid` and every process below it (the FAISS probe runs in a child of the worker). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // The process ended while listing.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

export interface WorkerProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Starts a new peak window: VmHWM reset through /proc/<pid>/clear_refs, tree sampling restarted. */
  resetPeak(): void;
  /** Peak since the last reset: the worker's own (exact, VmHWM) and its process tree's (sampled every 200 ms). */
  peak(): { workerBytes: number; treeBytes: number };
  stop(): Promise<void>;
}

/**
 * Runs `lifeboat --config FILE worker` (client/cli.ts through tsx, as bin/lifeboat does from a
 * checkout) as its own process, output in `logFile`.
 */
export function startWorkerProcess(
  configFile: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): WorkerProcess {
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', path.join(projectRoot, 'client', 'cli.ts'), '--config', configFile, 'worker'],
    { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const pid = child.pid!;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  let treePeak = 0;
  const sample = () => {
    if (exited) return;
    const total = processTree(pid).reduce((s, p) => s + rssOf(p), 0);
    treePeak = Math.max(treePeak, total);
  };
  const timer = setInterval(sample, 200);
  timer.unref();
  return {
    pid,
    logFile,
    resetPeak() {
      if (exited) throw new Error(`the worker exited; its log:\n${tail(logFile)}`);
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      treePeak = 0;
      sample();
    },
    peak() {
      if (exited) throw new Error(`the worker exited; its log:\n${tail(logFile)}`);
      sample();
      const workerBytes = hwmOf(pid);
      return { workerBytes, treeBytes: Math.max(treePeak, workerBytes) };
    },
    async stop() {
      clearInterval(timer);
      if (exited) return;
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(hard);
    },
  };
}

/** One timed stretch of a restore. */
export interface Phase {
  name: string;
  ms: number;
}

interface Ts {
  seconds?: unknown;
  nanos?: number | null;
}
const tsMs = (t: Ts | null | undefined): number =>
  t ? Number(String(t.seconds ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

interface ActivitySpan {
  type: string;
  source?: string;
  scheduled: number;
  ended?: number;
}

/** Every activity of a workflow run with its span (scheduled → closed, queue wait included), from the history. */
async function history(client: Client, workflowId: string, runId: string) {
  const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const spans = new Map<string, ActivitySpan>();
  let start = 0;
  let end = 0;
  for (const ev of events) {
    const at = tsMs(ev.eventTime as Ts);
    if (ev.workflowExecutionStartedEventAttributes) start = at;
    if (ev.workflowExecutionCompletedEventAttributes || ev.workflowExecutionFailedEventAttributes) end = at;
    const sch = ev.activityTaskScheduledEventAttributes;
    if (sch) {
      let source: string | undefined;
      const p = sch.input?.payloads?.[0];
      if (p) {
        const input = defaultPayloadConverter.fromPayload<{ source?: unknown }>(p);
        if (typeof input?.source === 'string') source = input.source;
      }
      spans.set(String(ev.eventId), { type: sch.activityType?.name ?? '?', source, scheduled: at });
    }
    const done =
      ev.activityTaskCompletedEventAttributes ??
      ev.activityTaskFailedEventAttributes ??
      ev.activityTaskTimedOutEventAttributes ??
      ev.activityTaskCanceledEventAttributes;
    if (done) {
      const s = spans.get(String(done.scheduledEventId));
      if (s) s.ended = at;
    }
  }
  return { spans: [...spans.values()], start, end };
}

/** The activities of a workflow run, in order, as "type source" with their durations. */
export async function activityTimes(client: Client, workflowId: string, runId: string): Promise<Phase[]> {
  const { spans, end } = await history(client, workflowId, runId);
  return spans.map((s) => ({ name: s.source ? `${s.type} ${s.source}` : s.type, ms: (s.ended ?? end) - s.scheduled }));
}

/**
 * The restore's timeline from its history, cut where its activities start and end, so the phases
 * add up to the workflow's own duration:
 *   pre-flight    workflow start → safety backup scheduled (plan, target locks, every chunk authenticated)
 *   safety backup the safetyBackup activity
 *   restore X     each restoreSource activity (queue wait included)
 *   verify X      each verifyRestoredSource activity
 *   confirm       the last verification's end → workflow closed (confirm, release, report)
 * Also returns the authenticate activity alone (inside pre-flight).
 */
export async function restorePhases(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<{ phases: Phase[]; authenticateMs?: number; totalMs: number }> {
  const { spans: all, start, end } = await history(client, workflowId, runId);
  const one = (type: string) => all.find((s) => s.type === type);
  const dur = (s: ActivitySpan) => (s.ended ?? end) - s.scheduled;
  const phases: Phase[] = [];
  const safety = one('safetyBackup');
  const firstRestore = one('restoreSource');
  const firstTouch = safety ?? firstRestore;
  if (firstTouch) phases.push({ name: 'pre-flight (plan, locks, authenticate)', ms: firstTouch.scheduled - start });
  if (safety) phases.push({ name: 'safety backup (all targets)', ms: dur(safety) });
  for (const s of all.filter((x) => x.type === 'restoreSource'))
    phases.push({ name: `restore ${s.source ?? '?'}`, ms: dur(s) });
  const verifies = all.filter((x) => x.type === 'verifyRestoredSource');
  for (const s of verifies) phases.push({ name: `verify ${s.source ?? '?'}`, ms: dur(s) });
  const lastVerify = verifies.at(-1);
  if (lastVerify) phases.push({ name: 'confirm, release, report', ms: end - (lastVerify.ended ?? end) });
  const auth = one('authenticateRestoreData');
  return { phases, authenticateMs: auth ? dur(auth) : undefined, totalMs: end - start };
}

/** Waits until a worker of process `pid` polls both the workflow and the activity side of `taskQueue`. */
export async function waitForPollers(client: Client, namespace: string, taskQueue: string, pid: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  const polling = async (taskQueueType: number) =>
    (
      await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType })
    ).pollers?.some((p) => p.identity?.startsWith(`${pid}@`)) ?? false;
  // 1 = workflow, 2 = activity (temporal.api.enums.v1.TaskQueueType).
  while (!((await polling(1)) && (await polling(2)))) {
    if (Date.now() > deadline) throw new Error(`the worker (pid ${pid}) does not poll ${taskQueue} after 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
