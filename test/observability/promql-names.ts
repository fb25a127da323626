/**
 * The metric names a PromQL expression reads, and the expressions of an alert-rules file and a
 * Grafana dashboard: enough of PromQL to tell a metric from a function, a keyword or a label.
 */
import { parse as parseYaml } from 'yaml';

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);

/** Metric names in `expr`: selectors, with strings, label matchers, ranges and grouping lists removed. */
export function metricNames(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    // Grafana's template variables ($__rate_interval, ${source}).
    .replace(/\$\{?[A-Za-z_]\w*\}?/g, ' ');
  const out = new Set<string>();
  for (const m of e.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = m[0];
    const after = e.slice((m.index ?? 0) + name.length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(name.toLowerCase())) continue;
    // A number's exponent or unit (1e3, 5m) is not a name.
    const before = e[(m.index ?? 0) - 1];
    if (before && /[0-9.]/.test(before)) continue;
    out.add(name);
  }
  return [...out];
}

/** Every `expr` of an alerting/recording rules file, by rule name. */
export function ruleExpressions(yamlText: string): { rule: string; expr: string }[] {
  const doc = parseYaml(yamlText) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ rule: r.alert ?? r.record ?? '?', expr: String(r.expr) })));
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every query of a Grafana dashboard (panels, rows' panels, templating), by panel title. */
export function dashboardExpressions(json: string): { panel: string; expr: string }[] {
  const d = JSON.parse(json) as { panels?: Panel[]; templating?: { list?: { name?: string; query?: unknown }[] } };
  const out: { panel: string; expr: string }[] = [];
  const walk = (ps: Panel[] = []) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ panel: p.title ?? '?', expr: t.expr });
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    // label_values(metric, label) names a metric too.
    const lv = q && /label_values\(\s*([A-Za-z_:][\w:]*)/.exec(q);
    if (lv) out.push({ panel: `variable ${v.name ?? '?'}`, expr: lv[1] });
  }
  return out;
}
