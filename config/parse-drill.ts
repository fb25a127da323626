import { absPath, at, type Checker, duration, int, isAbsent, list, mapping, str, url } from './check';
import { productionConflict } from './drill-targets';
import type { DrillCheckConfig, DrillConfig, DrillTargetConfig, SourceConfig } from './types';

const DEFAULT_CHECK_TIMEOUT = 5 * 60_000;
const CHECK_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const DRILL_DEFAULTS: DrillConfig = { targets: {}, checks: [] };

function parseTarget(
  c: Checker,
  raw: unknown,
  p: string,
  source: SourceConfig | undefined,
  sources: readonly SourceConfig[],
): DrillTargetConfig | undefined {
  const o = mapping(c, raw, p, ['redisUrl', 'redisDb', 'path'], {
    example: '{ redisUrl: "redis://10.0.0.9:6379", redisDb: 15 } or { path: /var/tmp/lifeboat-drills }',
  });
  if (!o || !source) return undefined;
  const out: { -readonly [K in keyof DrillTargetConfig]: DrillTargetConfig[K] } = {};
  if (source.type !== 'redis' && (!isAbsent(o.redisUrl) || !isAbsent(o.redisDb)))
    c.add(p, `redisUrl and redisDb apply to Redis sources; "${source.name}" is a ${source.type} source`);
  if (source.type !== 'faiss' && !isAbsent(o.path))
    c.add(at(p, 'path'), `applies to FAISS sources; "${source.name}" is a ${source.type} source`);
  if (source.type === 'qdrant' && Object.keys(o).length === 0) return out;
  if (!isAbsent(o.redisUrl) && source.type === 'redis') {
    const u = url(
      c,
      o.redisUrl,
      at(p, 'redisUrl'),
      ['redis', 'rediss'],
      "the source's configured password is used",
      'redis://10.0.0.9:6379',
    );
    if (u) out.redisUrl = String(o.redisUrl).trim();
  }
  const db = int(c, o.redisDb, at(p, 'redisDb'), 0, 15);
  if (db !== undefined && source.type === 'redis') {
    if (out.redisUrl === undefined && isAbsent(o.redisUrl))
      c.add(at(p, 'redisDb'), 'needs redisUrl (the spare instance)');
    out.redisDb = db;
  }
  if (source.type === 'faiss') {
    const dir = absPath(c, o.path, at(p, 'path'), '/var/tmp/lifeboat-drills');
    if (dir) out.path = dir;
  }
  if (out.redisUrl) {
    const why = productionConflict({ type: 'redis', url: out.redisUrl, db: out.redisDb }, sources);
    if (why) c.add(p, `drill target ${out.redisUrl}${out.redisDb !== undefined ? `/${out.redisDb}` : ''} ${why}`);
  }
  if (out.path) {
    const why = productionConflict({ type: 'faiss', path: out.path }, sources);
    if (why) c.add(at(p, 'path'), `drill scratch folder ${out.path} ${why}`);
  }
  return out;
}

function parseCheck(c: Checker, raw: unknown, p: string): DrillCheckConfig | undefined {
  const o = mapping(c, raw, p, ['name', 'command', 'timeout'], {
    example: '{ name: app-smoke, command: ["/usr/local/bin/smoke-test", "--quick"], timeout: 2m }',
  });
  if (!o) return undefined;
  const name = str(c, o.name, at(p, 'name'), { pattern: CHECK_NAME, hint: 'lowercase letters, digits, . _ -' });
  if (isAbsent(o.name)) c.add(at(p, 'name'), 'is required, e.g. name: app-smoke');
  let command: string[] | undefined;
  if (isAbsent(o.command))
    c.add(at(p, 'command'), 'is required: the program and its arguments, e.g. ["sh", "-c", "..."]');
  else if (typeof o.command === 'string') command = ['sh', '-c', o.command];
  else {
    const items = list(c, o.command, at(p, 'command'), '["/usr/local/bin/smoke-test", "--quick"]');
    if (items) {
      const parts = items.map((x, i) => str(c, x, at(at(p, 'command'), i)));
      if (!items.length) c.add(at(p, 'command'), 'is empty; give the program and its arguments');
      else if (parts.every((x) => x !== undefined)) command = parts as string[];
    }
  }
  const timeout = duration(c, o.timeout, at(p, 'timeout'), 1000) ?? DEFAULT_CHECK_TIMEOUT;
  if (!name || !command) return undefined;
  return { name, command, timeout };
}

/**
 * `drill:` — scratch targets per source (safe defaults when absent), the user's
 * application checks, and the redis-server binary for throw-away servers.
 */
export function parseDrill(c: Checker, raw: unknown, sources: readonly SourceConfig[] | undefined): DrillConfig {
  if (isAbsent(raw)) return DRILL_DEFAULTS;
  const o = mapping(c, raw, 'drill', ['targets', 'checks', 'redisServer'], {
    example: '{ targets: { sessions: { redisUrl: "redis://10.0.0.9:6379", redisDb: 15 } }, checks: [...] }',
  });
  if (!o) return DRILL_DEFAULTS;
  const targets: Record<string, DrillTargetConfig> = {};
  if (!isAbsent(o.targets)) {
    const t = mapping(c, o.targets, 'drill.targets', Object.keys(o.targets as object), {
      example: '{ sessions: { redisUrl: "redis://10.0.0.9:6379", redisDb: 15 } }',
    });
    for (const [name, v] of Object.entries(t ?? {})) {
      const source = sources?.find((s) => s.name === name);
      if (sources && !source)
        c.add(
          at('drill.targets', name),
          `names no configured source; configured sources: ${sources.map((s) => s.name).join(', ')}`,
        );
      const parsed = parseTarget(c, v, at('drill.targets', name), source, sources ?? []);
      if (parsed) targets[name] = parsed;
    }
  }
  const checks: DrillCheckConfig[] = [];
  const rawChecks = list(c, o.checks, 'drill.checks', '[{ name: app-smoke, command: ["/usr/local/bin/smoke-test"] }]');
  for (const [i, r] of (rawChecks ?? []).entries()) {
    const chk = parseCheck(c, r, at('drill.checks', i));
    if (!chk) continue;
    if (checks.some((x) => x.name === chk.name))
      c.add(at(at('drill.checks', i), 'name'), `"${chk.name}" is used by another check; names must be unique`);
    checks.push(chk);
  }
  const redisServer = absPath(c, o.redisServer, 'drill.redisServer', '/usr/bin/redis-server');
  return { targets, checks, ...(redisServer ? { redisServer } : {}) };
}
