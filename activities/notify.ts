/**
 * Notifications (generic JSON webhook, Slack incoming webhook, PagerDuty Events API v2) and the
 * operation outcome report every workflow sends when it ends. Destinations' URLs and keys are
 * secret references resolved here, at the last moment. Delivery is retried; a notification that
 * still fails is counted and logged, never thrown: it must not fail the operation it reports on.
 */
import os from 'node:os';
import { Context } from '@temporalio/activity';
import { resolveSecret, type LifeboatConfig, type NotificationConfig, type NotificationEvent } from '../config';
import { lifeboatMetrics, type LifeboatMetrics } from '../observability/metrics';
import type { NotifyActivities, NotifyInput, NotifyResult, OperationReport } from './types';

const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';
const ATTEMPTS = 3;

/** Events API v2 and Block Kit limit their fields' lengths; a longer one is refused with a 400. */
const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

function body(dest: NotificationConfig, key: string | undefined, n: NotifyInput): unknown {
  const time = new Date().toISOString();
  const succeeded = n.event.endsWith('.succeeded');
  if (dest.kind === 'slack') {
    const icon = succeeded ? ':white_check_mark:' : n.severity === 'info' ? ':information_source:' : ':red_circle:';
    const facts = Object.entries(n.details ?? {})
      .map(([k, v]) => `*${k}*: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join('\n');
    return {
      text: `${icon} [lifeboat] ${n.summary}`,
      // Block Kit refuses (400 invalid_blocks) a section text over 3000 characters.
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: clip(`${icon} *${n.summary}*`, 3000) } },
        ...(facts ? [{ type: 'section', text: { type: 'mrkdwn', text: clip(facts, 3000) } }] : []),
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: `${n.event} · ${n.severity} · ${os.hostname()} · ${time}` }],
        },
      ],
    };
  }
  if (dest.kind === 'pagerduty')
    return {
      routing_key: key,
      event_action: succeeded ? 'resolve' : 'trigger',
      // A success resolves the alert its failure raised.
      dedup_key: clip(`lifeboat:${n.subject ?? n.event.split('.')[0]}`, 255),
      payload: {
        summary: clip(n.summary, 1024),
        source: os.hostname(),
        severity: n.severity,
        timestamp: time,
        component: 'lifeboat',
        group: n.event.split('.')[0],
        class: n.event,
        custom_details: n.details ?? {},
      },
      client: 'Lifeboat',
    };
  return {
    source: 'lifeboat',
    event: n.event,
    severity: n.severity,
    summary: n.summary,
    details: n.details ?? {},
    host: os.hostname(),
    time,
  };
}

/** Error text without the URL (it may carry a token). */
function describe(e: unknown): string {
  const c = (e as { cause?: { code?: string } })?.cause;
  return c?.code ? `network error ${c.code}` : (e as Error)?.name === 'TimeoutError' ? 'timed out' : 'network error';
}

async function deliver(dest: NotificationConfig, n: NotifyInput, sleep: (ms: number) => Promise<void>): Promise<void> {
  const url = dest.url ? await resolveSecret(dest.url) : PAGERDUTY_URL;
  const key = dest.kind === 'pagerduty' ? await resolveSecret(dest.routingKey) : undefined;
  const payload = JSON.stringify(body(dest, key, n));
  let last = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let retryAfterMs = 1000 * 2 ** (attempt - 1);
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(dest.kind === 'webhook' ? dest.headers : {}) },
        body: payload,
        signal: AbortSignal.timeout(dest.timeoutMs),
      });
      await r.arrayBuffer().catch(() => undefined);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
      // Other 4xx are our fault (bad key, bad payload): retrying would not help.
      if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) break;
      const ra = Number(r.headers.get('retry-after'));
      if (ra > 0) retryAfterMs = Math.min(ra * 1000, 10_000);
    } catch (e) {
      last = describe(e);
    }
    if (attempt < ATTEMPTS) await sleep(retryAfterMs);
  }
  throw new Error(last);
}

export function createNotifyActivities(deps: {
  config: LifeboatConfig;
  metrics?: LifeboatMetrics;
  /** Waits between attempts. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Appends the report to the repository's audit trail (activities/audit.ts). */
  audit?: (r: OperationReport) => Promise<void>;
}): NotifyActivities {
  const metrics = deps.metrics ?? lifeboatMetrics();
  const sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const log = () => {
    try {
      return Context.current().log;
    } catch {
      return undefined;
    }
  };
  const notify = async (n: NotifyInput): Promise<NotifyResult> => {
    const out: NotifyResult = { delivered: [], failed: [], skipped: [] };
    const dests = deps.config.observability.notifications;
    await Promise.all(
      dests.map(async (d) => {
        const wanted = d.events.includes(n.event) && (!n.event.endsWith('.succeeded') || d.onSuccess);
        if (!wanted) return void out.skipped.push(d.name);
        try {
          await deliver(d, n, sleep);
          out.delivered.push(d.name);
          metrics.notifications.inc({ destination: d.name, kind: d.kind, outcome: 'delivered' });
        } catch (e) {
          const error = (e as Error).message;
          out.failed.push({ destination: d.name, error });
          metrics.notifications.inc({ destination: d.name, kind: d.kind, outcome: 'failed' });
          log()?.warn('notification not delivered', { destination: d.name, kind: d.kind, event: n.event, error });
        }
      }),
    );
    return out;
  };
  return {
    notify: (n) =>
      notify(n).catch((e: unknown) => ({
        delivered: [],
        failed: [{ destination: '*', error: String(e) }],
        skipped: [],
      })),
    reportOperation: async (r) => {
      // Audit first: it is the record that must survive; a failure is logged, never thrown (see above).
      await deps
        .audit?.(r)
        .catch((e: unknown) =>
          log()?.warn('audit entry not written', { operation: r.operation, error: (e as Error)?.message }),
        );
      const seconds = Math.max(0, r.durationMs) / 1000;
      metrics.workflowOutcomes.inc({ operation: r.operation, outcome: r.outcome });
      metrics.workflowDuration.observe({ operation: r.operation, outcome: r.outcome }, seconds);
      const configured = deps.config.sources.map((s) => s.name);
      const sources = r.sources?.length ? r.sources.filter((s) => configured.includes(s)) : configured;
      if (r.operation === 'backup' && r.outcome !== 'cancelled')
        for (const source of sources)
          (r.outcome === 'success' ? metrics.backupSuccess : metrics.backupFailure).inc({ source });
      if (r.outcome === 'success') metrics.invalidate();
      if (r.outcome === 'cancelled' || r.quiet) return { delivered: [], failed: [], skipped: [] };
      const failed = r.outcome === 'failure';
      return notify({
        event: `${r.operation}.${failed ? 'failed' : 'succeeded'}` as NotificationEvent,
        severity: failed ? (r.operation === 'backup' || r.operation === 'dr' ? 'critical' : 'error') : 'info',
        summary: r.summary,
        details: { operation: r.operation, sources, durationSeconds: Math.round(seconds), ...r.details },
        subject: `${r.operation}:${sources.join(',')}`,
      });
    },
  };
}
