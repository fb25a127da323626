import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveSecret } from '../config/secrets';
import type { LifeboatConfig } from '../config/types';
import { LifeboatError } from '../lib/errors';
import { SEVERITIES, type Severity } from '../lib/dr';
import { createDrClient, IncidentClosedError, type DeclareOptions, type DrClient } from './dr';

/**
 * `lifeboat webhook`: an HTTP endpoint for incident tooling. Three routes, each declaring (or
 * joining) a disaster-recovery incident:
 * - POST /v1/incidents     generic JSON { incidentId, severity, sources?, reason?, declaredBy?, before?, key? }
 * - POST /v1/alertmanager  Prometheus Alertmanager webhook (version 4); firing alerts declare, resolved ones are recorded
 * - POST /v1/pagerduty     PagerDuty V3 webhooks; `incident.triggered` declares (X-PagerDuty-Signature checked)
 * Credentials come from secret references (dr.webhook.token / hmacSecret / pagerdutySecret); a
 * request without valid ones gets 401 and changes nothing. Resends are idempotent: the same alert
 * (fingerprint + startsAt, or PagerDuty event id) counts once, and one incident is one workflow.
 */

const MAX_BODY = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};
const hmacHex = (key: string, body: Buffer) => createHmac('sha256', key).update(body).digest('hex');

/** Alertmanager / PagerDuty words for severity → sev1..sev4. */
export function severityOf(v: unknown, fallback: Severity): Severity {
  const s = String(v ?? '').toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(s)) return s as Severity;
  if (/^p[1-4]$/.test(s)) return `sev${s[1]}` as Severity;
  if (['critical', 'page', 'emergency', 'disaster'].includes(s)) return 'sev1';
  if (['error', 'high', 'major'].includes(s)) return 'sev2';
  if (['warning', 'warn', 'minor', 'low'].includes(s)) return 'sev3';
  if (['info', 'none'].includes(s)) return 'sev4';
  return fallback;
}

const list = (v: unknown): string[] | undefined => {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  if (typeof v === 'string' && v.trim())
    return v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return undefined;
};
const obj = (v: unknown, what: string): Record<string, unknown> => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, `${what} must be a JSON object`);
  return v as Record<string, unknown>;
};

export interface WebhookServer {
  url: string;
  close(): Promise<void>;
}

export interface WebhookOptions {
  /** host:port. @default config.dr.webhook.listen */
  listen?: string;
  dr?: DrClient;
  log?: (line: string) => void;
}

/** Starts the webhook server; resolves when it listens. */
export async function startWebhookServer(config: LifeboatConfig, o: WebhookOptions = {}): Promise<WebhookServer> {
  const w = config.dr.webhook;
  if (!w.token && !w.hmacSecret && !w.pagerdutySecret)
    throw new LifeboatError(
      'the webhook has no credentials configured: set dr.webhook.token and/or dr.webhook.hmacSecret (and pagerdutySecret for PagerDuty) to secret references, e.g. token: { env: LIFEBOAT_WEBHOOK_TOKEN }',
      'USAGE',
    );
  // Resolved once at start: a missing secret stops the server from starting rather than failing requests.
  const token = w.token ? await resolveSecret(w.token) : undefined;
  const hmacKey = w.hmacSecret ? await resolveSecret(w.hmacSecret) : undefined;
  const pdKey = w.pagerdutySecret ? await resolveSecret(w.pagerdutySecret) : undefined;
  const dr = o.dr ?? createDrClient(config);
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const defaultSeverity = w.defaultSeverity;

  const checkBearer = (req: http.IncomingMessage) => {
    const h = String(req.headers.authorization ?? '');
    if (!token || !h.startsWith('Bearer ') || !safeEqual(h.slice(7).trim(), token))
      throw new HttpError(401, 'missing or wrong bearer token (Authorization: Bearer …)');
  };
  const checkLifeboatHmac = (req: http.IncomingMessage, body: Buffer) => {
    const got = String(req.headers['x-lifeboat-signature'] ?? '');
    if (!hmacKey || !safeEqual(got, `sha256=${hmacHex(hmacKey, body)}`))
      throw new HttpError(401, 'X-Lifeboat-Signature (sha256=<hex HMAC of the body>) is missing or wrong');
  };
  /**
   * Each route asks for the credentials its sender can produce:
   * - generic: every configured credential (bearer token and/or X-Lifeboat-Signature);
   * - Alertmanager: the bearer token (its http_config can send one, it cannot sign bodies), or the
   *   Lifeboat signature when no token is configured (a signing relay in front);
   * - PagerDuty: its X-PagerDuty-Signature when pagerdutySecret is set (PagerDuty signs every
   *   delivery; several `v1=` entries during a secret rotation), else the bearer token (custom header).
   */
  const authenticate = (req: http.IncomingMessage, body: Buffer, route: string) => {
    if (route === '/v1/pagerduty') {
      if (!pdKey) {
        if (!token) throw new HttpError(401, 'PagerDuty webhooks need dr.webhook.pagerdutySecret (or a token)');
        return checkBearer(req);
      }
      const want = `v1=${hmacHex(pdKey, body)}`;
      const got = String(req.headers['x-pagerduty-signature'] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.startsWith('v1='));
      if (!got.some((s) => safeEqual(s, want)))
        throw new HttpError(
          401,
          got.length
            ? 'X-PagerDuty-Signature does not match the body (check dr.webhook.pagerdutySecret)'
            : 'X-PagerDuty-Signature (v1=<hex HMAC-SHA256 of the body>) is missing',
        );
      return;
    }
    if (route === '/v1/alertmanager') {
      if (token) return checkBearer(req);
      if (hmacKey) return checkLifeboatHmac(req, body);
      throw new HttpError(401, 'Alertmanager requests need dr.webhook.token (or hmacSecret)');
    }
    if (!token && !hmacKey) throw new HttpError(401, 'this route needs dr.webhook.token or dr.webhook.hmacSecret');
    if (token) checkBearer(req);
    if (hmacKey) checkLifeboatHmac(req, body);
  };

  const declare = async (d: DeclareOptions) => {
    try {
      const r = await dr.declare(d);
      log(`webhook: ${r.joined ? 'joined' : 'declared'} incident ${r.incidentId} (${d.via}) → ${r.workflowId}`);
      return { ok: true, ...r };
    } catch (e) {
      // A resend after the incident closed: already handled, nothing to start.
      if (e instanceof IncidentClosedError)
        return {
          ok: true,
          incidentId: e.incidentId,
          workflowId: e.workflowId,
          alreadyHandled: true,
          uiUrl: dr.uiUrl(e.workflowId),
        };
      if (e instanceof LifeboatError && ['USAGE', 'SOURCE_UNKNOWN'].includes(e.code))
        throw new HttpError(422, e.message);
      throw e;
    }
  };

  const routes: Record<string, (body: unknown) => Promise<{ status: number; doc: unknown }>> = {
    '/v1/incidents': async (raw) => {
      const b = obj(raw, 'the body');
      if (typeof b.incidentId !== 'string') throw new HttpError(400, 'incidentId (string) is required');
      return {
        status: 202,
        doc: await declare({
          incidentId: b.incidentId,
          severity: typeof b.severity === 'string' ? b.severity : defaultSeverity,
          sources: list(b.sources),
          declaredBy: typeof b.declaredBy === 'string' ? b.declaredBy : 'webhook',
          reason: typeof b.reason === 'string' ? b.reason : 'declared through the webhook',
          ...(typeof b.before === 'string' ? { before: b.before } : {}),
          via: 'webhook',
          key: typeof b.key === 'string' ? b.key : `generic-${sha(JSON.stringify(b))}`,
        }),
      };
    },
    '/v1/alertmanager': async (raw) => {
      const b = obj(raw, 'the Alertmanager payload');
      if (!Array.isArray(b.alerts) || typeof b.status !== 'string')
        throw new HttpError(400, 'not an Alertmanager webhook payload: status and alerts[] are required (version 4)');
      // webhook_config sends version "4"; another version may mean other fields: refuse it rather than misread it.
      if (b.version !== undefined && String(b.version) !== '4')
        throw new HttpError(
          400,
          `Alertmanager payload version ${JSON.stringify(b.version)} is not supported (only "4")`,
        );
      const common = (b.commonLabels ?? {}) as Record<string, string>;
      const results: unknown[] = [];
      const resolved: string[] = [];
      for (const [i, rawAlert] of b.alerts.entries()) {
        const a = obj(rawAlert, `alerts[${i}]`);
        const labels = { ...common, ...((a.labels ?? {}) as Record<string, string>) };
        const status = String(a.status ?? b.status);
        const incidentId =
          labels.lifeboat_incident ?? labels.incident ?? `am-${sha(String(b.groupKey ?? labels.alertname ?? ''))}`;
        if (status === 'resolved') {
          // Recorded, never an abort: a recovery is stopped by a person, not by an alert going quiet.
          resolved.push(`${labels.alertname ?? 'alert'} (${String(a.fingerprint ?? '')}) for ${incidentId}`);
          log(
            `webhook: alert resolved: ${labels.alertname ?? 'alert'} for incident ${incidentId} (recorded, no action)`,
          );
          continue;
        }
        if (status !== 'firing')
          throw new HttpError(400, `alerts[${i}].status ${JSON.stringify(status)} is neither firing nor resolved`);
        const annotations = (a.annotations ?? {}) as Record<string, string>;
        results.push(
          await declare({
            incidentId,
            severity: severityOf(labels.severity, defaultSeverity),
            sources: list(labels.lifeboat_sources ?? labels.lifeboat_source ?? labels.source),
            declaredBy: `alertmanager:${String(b.receiver ?? 'receiver')}`,
            reason: annotations.summary ?? annotations.description ?? labels.alertname ?? 'alert firing',
            ...(labels.lifeboat_before ? { before: labels.lifeboat_before } : {}),
            via: 'alertmanager',
            key: `am-${String(a.fingerprint ?? sha(JSON.stringify(labels)))}-${String(a.startsAt ?? '')}`,
          }),
        );
      }
      return { status: results.length ? 202 : 200, doc: { ok: true, incidents: results, resolved } };
    },
    '/v1/pagerduty': async (raw) => {
      const b = obj(raw, 'the PagerDuty payload');
      const ev = obj(b.event, 'event');
      if (typeof ev.event_type !== 'string')
        throw new HttpError(400, 'event.event_type is required (PagerDuty V3 webhook)');
      if (ev.event_type !== 'incident.triggered')
        return { status: 200, doc: { ok: true, ignored: ev.event_type, note: 'only incident.triggered declares' } };
      const data = obj(ev.data, 'event.data');
      const number = data.number ?? data.id;
      if (number === undefined) throw new HttpError(400, 'event.data.id or number is required');
      const priority = (data.priority as { summary?: string } | null | undefined)?.summary;
      return {
        status: 202,
        doc: await declare({
          incidentId: `PD-${String(number)}`.replace(/[^A-Za-z0-9._-]/g, '-'),
          severity: priority ? severityOf(priority, defaultSeverity) : data.urgency === 'high' ? 'sev2' : 'sev3',
          declaredBy: `pagerduty:${String((ev.agent as { summary?: string } | undefined)?.summary ?? 'PagerDuty')}`,
          reason: String(data.title ?? 'PagerDuty incident triggered'),
          via: 'pagerduty',
          key: `pd-${String(ev.id ?? sha(JSON.stringify(data)))}`,
        }),
      };
    },
  };

  const server = http.createServer((req, res) => {
    const send = (status: number, doc: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(doc)}\n`);
    };
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        const route = (req.url ?? '').split('?')[0];
        try {
          if (req.method === 'GET' && route === '/healthz') return send(200, { ok: true });
          const handler = routes[route];
          if (!handler) throw new HttpError(404, `no such endpoint; use POST ${Object.keys(routes).join(', ')}`);
          if (req.method !== 'POST') throw new HttpError(405, 'use POST');
          if (size > MAX_BODY) throw new HttpError(413, `body larger than ${MAX_BODY} bytes`);
          const body = Buffer.concat(chunks);
          authenticate(req, body, route); // before parsing: an unauthenticated body is never looked at
          let parsed: unknown;
          try {
            parsed = JSON.parse(body.toString('utf8'));
          } catch (e) {
            throw new HttpError(400, `body is not JSON: ${(e as Error).message}`);
          }
          const { status, doc } = await handler(parsed);
          send(status, doc);
        } catch (e) {
          if (e instanceof HttpError) {
            if (e.status === 401) log(`webhook: 401 on ${route} from ${req.socket.remoteAddress}: ${e.message}`);
            return send(e.status, { ok: false, error: e.message });
          }
          log(`webhook: error on ${route}: ${(e as Error).message}`);
          send(503, { ok: false, error: (e as Error).message });
        }
      })();
    });
  });
  const listen = o.listen ?? w.listen;
  const idx = listen.lastIndexOf(':');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(idx + 1)), listen.slice(0, idx), () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => (o.dr ? undefined : dr.close())),
  };
}
