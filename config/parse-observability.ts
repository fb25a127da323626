import { at, bool, type Checker, duration, hostPort, isAbsent, list, mapping, secret, str, url } from './check';
import type { NotificationConfig, NotificationEvent, ObservabilityConfig } from './types';
import { NOTIFICATION_EVENTS, NOTIFICATION_KINDS } from './types';

/** Off by default except metrics on loopback, so a worker never exposes anything it was not told to. */
export const OBSERVABILITY_DEFAULTS: ObservabilityConfig = {
  metrics: { listen: '127.0.0.1:9464', temporalMetrics: true },
  notifications: [],
};

/** Per delivery attempt, unless a destination sets `timeout`. */
export const NOTIFY_TIMEOUT_MS = 10_000;
const NOTIFY_TIMEOUT_MAX_MS = 30_000;

const NOTIFY_EXAMPLE =
  '{ kind: slack, url: { env: SLACK_WEBHOOK_URL } } or { kind: pagerduty, routingKey: { env: PAGERDUTY_ROUTING_KEY } }';

function parseEvents(c: Checker, raw: unknown, p: string): NotificationEvent[] | undefined {
  const items = list(c, raw, p, `[${NOTIFICATION_EVENTS.slice(0, 3).join(', ')}]`);
  if (!items) return undefined;
  const out: NotificationEvent[] = [];
  items.forEach((v, i) => {
    if (typeof v === 'string' && (NOTIFICATION_EVENTS as readonly string[]).includes(v))
      out.push(v as NotificationEvent);
    else c.add(at(p, i), `${JSON.stringify(v)} is not an event; use one of ${NOTIFICATION_EVENTS.join(', ')}`, v);
  });
  return out;
}

function parseNotification(c: Checker, raw: unknown, p: string): NotificationConfig | undefined {
  const o = mapping(c, raw, p, ['name', 'kind', 'url', 'routingKey', 'events', 'onSuccess', 'headers', 'timeout'], {
    example: NOTIFY_EXAMPLE,
  });
  if (!o) return undefined;
  const before = c.problems.length;
  const kind = str(c, o.kind, at(p, 'kind'));
  if (kind === undefined && isAbsent(o.kind))
    c.add(at(p, 'kind'), `is required; one of ${NOTIFICATION_KINDS.join(', ')}`);
  else if (kind !== undefined && !(NOTIFICATION_KINDS as readonly string[]).includes(kind))
    c.add(at(p, 'kind'), `"${kind}" is not a notification kind; use ${NOTIFICATION_KINDS.join(', ')}`, kind);
  // Webhook URLs carry their token in the path (Slack), so they are secrets by reference too.
  const urlRef = secret(c, o.url, at(p, 'url'), kind === 'slack' ? 'SLACK_WEBHOOK_URL' : 'LIFEBOAT_WEBHOOK_URL');
  const routingKey = secret(c, o.routingKey, at(p, 'routingKey'), 'PAGERDUTY_ROUTING_KEY');
  if (kind === 'pagerduty') {
    if (isAbsent(o.routingKey))
      c.add(at(p, 'routingKey'), 'is required for pagerduty; write routingKey: { env: PAGERDUTY_ROUTING_KEY }');
  } else if (kind !== undefined) {
    if (isAbsent(o.url))
      c.add(
        at(p, 'url'),
        `is required for ${kind}; write url: { env: ${kind === 'slack' ? 'SLACK_WEBHOOK_URL' : 'LIFEBOAT_WEBHOOK_URL'} }`,
      );
    if (!isAbsent(o.routingKey)) c.add(at(p, 'routingKey'), 'applies to kind: pagerduty only; remove it');
  }
  const events = parseEvents(c, o.events, at(p, 'events'));
  const onSuccess = bool(c, o.onSuccess, at(p, 'onSuccess')) ?? false;
  let timeoutMs = duration(c, o.timeout, at(p, 'timeout'), 100) ?? NOTIFY_TIMEOUT_MS;
  // Three attempts must fit in the reporting activity's 2-minute timeout, or a retry of the whole
  // activity would deliver twice.
  if (timeoutMs > NOTIFY_TIMEOUT_MAX_MS) {
    c.add(at(p, 'timeout'), `"${String(o.timeout)}" is too long; use at most 30s (each delivery is tried 3 times)`);
    timeoutMs = NOTIFY_TIMEOUT_MAX_MS;
  }
  const name = str(c, o.name, at(p, 'name'));
  let headers: Record<string, string> | undefined;
  if (!isAbsent(o.headers)) {
    if (kind !== 'webhook') c.add(at(p, 'headers'), 'applies to kind: webhook only; remove it');
    const h = mapping(c, o.headers, at(p, 'headers'), Object.keys((o.headers as object) ?? {}));
    if (h) {
      headers = {};
      for (const [k, v] of Object.entries(h)) {
        if (/^(authorization|x-api-key|cookie)$/i.test(k))
          c.add(
            at(at(p, 'headers'), k),
            'would put a secret into the config; put the token into the URL reference instead',
          );
        else if (typeof v !== 'string') c.add(at(at(p, 'headers'), k), 'must be a string', v);
        else headers[k] = v;
      }
    }
  }
  if (c.problems.length > before || kind === undefined) return undefined;
  const common = {
    name: name ?? kind,
    events: events ?? [...NOTIFICATION_EVENTS],
    onSuccess,
    timeoutMs,
  };
  if (kind === 'pagerduty') return { ...common, kind, routingKey: routingKey!, ...(urlRef ? { url: urlRef } : {}) };
  return { ...common, kind: kind as 'webhook' | 'slack', url: urlRef!, ...(headers ? { headers } : {}) };
}

/**
 * `observability:` — where the worker serves /metrics, where traces go (OTLP/HTTP, off unless an
 * endpoint is given) and who is notified of failures. Notification URLs and keys are secret
 * references, resolved by the notify activity only.
 */
export function parseObservability(c: Checker, raw: unknown): ObservabilityConfig {
  const p = 'observability';
  if (isAbsent(raw)) return OBSERVABILITY_DEFAULTS;
  const o = mapping(c, raw, p, ['metrics', 'tracing', 'notifications'], {
    example: '{ metrics: { listen: "0.0.0.0:9464" }, tracing: { otlpEndpoint: "http://otel:4318" } }',
  });
  if (!o) return OBSERVABILITY_DEFAULTS;
  let metrics: ObservabilityConfig['metrics'] = OBSERVABILITY_DEFAULTS.metrics;
  if (o.metrics === false) metrics = undefined;
  else if (!isAbsent(o.metrics)) {
    const mp = at(p, 'metrics');
    const m = mapping(c, o.metrics, mp, ['listen', 'temporalMetrics'], { example: '{ listen: "0.0.0.0:9464" }' });
    if (m) {
      const listen = isAbsent(m.listen)
        ? OBSERVABILITY_DEFAULTS.metrics!.listen
        : hostPort(c, m.listen, at(mp, 'listen'), '0.0.0.0:9464')
          ? String(m.listen).trim()
          : undefined;
      const temporalMetrics = bool(c, m.temporalMetrics, at(mp, 'temporalMetrics')) ?? true;
      if (listen) metrics = { listen, temporalMetrics };
    }
  }
  let tracing: ObservabilityConfig['tracing'];
  if (!isAbsent(o.tracing) && o.tracing !== false) {
    const tp = at(p, 'tracing');
    const t = mapping(c, o.tracing, tp, ['otlpEndpoint', 'serviceName'], {
      example: '{ otlpEndpoint: "http://otel-collector:4318" }',
    });
    if (t) {
      if (isAbsent(t.otlpEndpoint))
        c.add(at(tp, 'otlpEndpoint'), 'is required to turn tracing on; e.g. http://otel-collector:4318 (OTLP/HTTP)');
      const u = url(
        c,
        t.otlpEndpoint,
        at(tp, 'otlpEndpoint'),
        ['http', 'https'],
        'pass credentials through the collector instead',
        'http://otel-collector:4318',
      );
      const serviceName = str(c, t.serviceName, at(tp, 'serviceName')) ?? 'lifeboat-worker';
      if (u) {
        // An endpoint given without a path means the collector's base URL (the OTLP convention).
        const base = String(t.otlpEndpoint).trim().replace(/\/+$/, '');
        tracing = { otlpEndpoint: /\/v1\/traces$/.test(base) ? base : `${base}/v1/traces`, serviceName };
      }
    }
  }
  const notifications: NotificationConfig[] = [];
  const items = list(c, o.notifications, at(p, 'notifications'), `[${NOTIFY_EXAMPLE}]`);
  items?.forEach((v, i) => {
    const n = parseNotification(c, v, at(at(p, 'notifications'), i));
    if (n) notifications.push(n);
  });
  const names = notifications.map((n) => n.name);
  for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i)))
    c.add(at(p, 'notifications'), `name "${dup}" is used twice; give each destination its own name`);
  return { metrics, ...(tracing ? { tracing } : {}), notifications };
}
