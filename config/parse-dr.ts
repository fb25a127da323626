import { at, choice, type Checker, duration, hostPort, isAbsent, list, mapping, secret, str } from './check';
import type { DrConfig } from './types';

const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;

export const DR_DEFAULTS: DrConfig = {
  approval: { timeout: 30 * 60_000, onTimeout: 'escalate', autoApprove: [] },
  webhook: { listen: '127.0.0.1:8787', defaultSeverity: 'sev2' },
};

/**
 * `dr:` — disaster recovery. `approval` says how long a plan waits for a person and what happens
 * then; `webhook` configures `lifeboat webhook` (credentials are secret references, never values).
 */
export function parseDr(c: Checker, raw: unknown): DrConfig {
  if (isAbsent(raw)) return DR_DEFAULTS;
  const o = mapping(c, raw, 'dr', ['approval', 'webhook'], { example: '{ approval: { timeout: 30m } }' });
  if (!o) return DR_DEFAULTS;
  const approval = { ...DR_DEFAULTS.approval } as {
    -readonly [K in keyof DrConfig['approval']]: DrConfig['approval'][K];
  };
  if (!isAbsent(o.approval)) {
    const p = 'dr.approval';
    const a = mapping(c, o.approval, p, ['timeout', 'onTimeout', 'autoApprove'], {
      example: '{ timeout: 30m, onTimeout: escalate, autoApprove: [sev1] }',
    });
    if (a) {
      approval.timeout = duration(c, a.timeout, at(p, 'timeout'), 1000) ?? approval.timeout;
      approval.onTimeout =
        choice(c, a.onTimeout, at(p, 'onTimeout'), ['escalate', 'abort'] as const, 'a timeout action') ??
        approval.onTimeout;
      const sev = list(c, a.autoApprove, at(p, 'autoApprove'), '[sev1]');
      if (sev)
        approval.autoApprove = sev.flatMap(
          (v, i) => choice(c, v, at(at(p, 'autoApprove'), i), SEVERITIES, 'a severity') ?? [],
        );
    }
  }
  const webhook = { ...DR_DEFAULTS.webhook } as { -readonly [K in keyof DrConfig['webhook']]: DrConfig['webhook'][K] };
  if (!isAbsent(o.webhook)) {
    const p = 'dr.webhook';
    const w = mapping(
      c,
      o.webhook,
      p,
      ['listen', 'token', 'hmacSecret', 'pagerdutySecret', 'uiUrl', 'defaultSeverity'],
      {
        example: '{ listen: 127.0.0.1:8787, token: { env: LIFEBOAT_WEBHOOK_TOKEN } }',
      },
    );
    if (w) {
      if (hostPort(c, w.listen, at(p, 'listen'), '127.0.0.1:8787')) webhook.listen = String(w.listen).trim();
      const token = secret(c, w.token, at(p, 'token'), 'LIFEBOAT_WEBHOOK_TOKEN');
      if (token) webhook.token = token;
      const hmac = secret(c, w.hmacSecret, at(p, 'hmacSecret'), 'LIFEBOAT_WEBHOOK_HMAC');
      if (hmac) webhook.hmacSecret = hmac;
      const pd = secret(c, w.pagerdutySecret, at(p, 'pagerdutySecret'), 'PAGERDUTY_WEBHOOK_SECRET');
      if (pd) webhook.pagerdutySecret = pd;
      const ui = str(c, w.uiUrl, at(p, 'uiUrl'), {
        pattern: /^https?:\/\/[^@\s]+$/,
        hint: 'e.g. http://127.0.0.1:8233',
      });
      if (ui) webhook.uiUrl = ui.replace(/\/+$/, '');
      webhook.defaultSeverity =
        choice(c, w.defaultSeverity, at(p, 'defaultSeverity'), SEVERITIES, 'a severity') ?? webhook.defaultSeverity;
    }
  }
  return { approval, webhook };
}
