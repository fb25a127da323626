/**
 * Local stand-ins for the three notification services, each checking what the real one checks
 * and answering as it does:
 * - Slack incoming webhook (docs.slack.dev "Sending messages using incoming webhooks"): JSON with
 *   `text` (the notification fallback) and optional Block Kit `blocks`; 200 `ok`, or 400
 *   `invalid_payload` / `invalid_blocks` (a section text over 3000 characters);
 * - PagerDuty Events API v2 (PagerDuty/api-schema reference/events-v2/openapiv3.json): POST
 *   /v2/enqueue with `routing_key` (a 32-character integration key), `event_action` (trigger,
 *   acknowledge, resolve), `dedup_key` (at most 255 characters; required unless trigger) and, to
 *   trigger, `payload` { summary, source, severity ∈ critical|error|warning|info }; 202
 *   `{status:"success", message:"Event processed", dedup_key}`, or 400 `invalid event`;
 * - a generic JSON webhook, scripted per test (fail first, always fail, never answer).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** How a route answers its nth request (0-based); `hang` never answers. */
export type Behaviour = (n: number, body: unknown) => { status: number; body?: string } | 'hang';

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

/** What the Events API v2 would refuse, or undefined. */
export function pagerDutyProblems(b: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (typeof b.routing_key !== 'string' || b.routing_key.length !== 32)
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!['trigger', 'acknowledge', 'resolve'].includes(b.event_action as string))
    errors.push("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')");
  if (b.dedup_key !== undefined && (typeof b.dedup_key !== 'string' || b.dedup_key.length > 255))
    errors.push("'dedup_key' must be a string of at most 255 characters");
  if (b.event_action !== 'trigger' && typeof b.dedup_key !== 'string') errors.push("'dedup_key' is missing");
  if (b.event_action === 'trigger') {
    const p = b.payload as Record<string, unknown> | undefined;
    if (!p) errors.push("'payload' is missing or null");
    else {
      if (typeof p.summary !== 'string' || !p.summary || p.summary.length > 1024)
        errors.push("'payload.summary' is missing or longer than 1024 characters");
      if (typeof p.source !== 'string' || !p.source) errors.push("'payload.source' is missing or blank");
      if (!SEVERITIES.includes(p.severity as string)) errors.push("'payload.severity' is invalid");
      if (p.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp as string)))
        errors.push("'payload.timestamp' is not an ISO 8601 time");
    }
  }
  return errors;
}

/** What Slack would refuse (its error string), or undefined. */
export function slackProblem(b: Record<string, unknown>): string | undefined {
  if (typeof b.text !== 'string' || !b.text) return 'no_text';
  if (b.blocks === undefined) return undefined;
  if (!Array.isArray(b.blocks) || b.blocks.length > 50) return 'invalid_blocks';
  for (const block of b.blocks as Record<string, unknown>[]) {
    if (block.type === 'section') {
      const t = block.text as { type?: string; text?: string } | undefined;
      if (!t || !['mrkdwn', 'plain_text'].includes(t.type ?? '') || !t.text || t.text.length > 3000)
        return 'invalid_blocks';
    } else if (block.type === 'context') {
      const els = block.elements as unknown[] | undefined;
      if (!Array.isArray(els) || !els.length || els.length > 10) return 'invalid_blocks';
    } else return 'invalid_blocks';
  }
  return undefined;
}

export const slackBehaviour: Behaviour = (_n, body) => {
  const problem =
    typeof body === 'object' && body !== null ? slackProblem(body as Record<string, unknown>) : 'invalid_payload';
  return problem ? { status: 400, body: problem } : { status: 200, body: 'ok' };
};

export const pagerDutyBehaviour: Behaviour = (_n, body) => {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const errors = pagerDutyProblems(b);
  if (errors.length)
    return {
      status: 400,
      body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors }),
    };
  return {
    status: 202,
    body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: b.dedup_key ?? 'generated' }),
  };
};

export interface Receivers {
  base: string;
  /** Requests received on a route, in order. */
  requests(route: string): ReceivedRequest[];
  close(): Promise<void>;
}

/** One server; each route (the path's first segment) answers with its behaviour. */
export async function startReceivers(routes: Record<string, Behaviour>): Promise<Receivers> {
  const seen = new Map<string, ReceivedRequest[]>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const url = req.url ?? '/';
      const route = url.split('/')[1] ?? '';
      const behaviour = routes[route];
      if (!behaviour || req.method !== 'POST') return void res.writeHead(404).end('no_service');
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        body = undefined;
      }
      const list = seen.get(route) ?? [];
      list.push({ path: url, headers: req.headers, body });
      seen.set(route, list);
      const answer = behaviour(list.length - 1, body);
      if (answer === 'hang') return; // the client's timeout has to end it
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests: (route) => seen.get(route) ?? [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
