import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LifeboatMetrics } from '../../observability/metrics';

const DOC = path.resolve(__dirname, '..', '..', 'docs', 'observability.md');

/** `| \`name\` | type | labels | meaning |` rows of the doc's Lifeboat metrics table. */
function documented(): Map<string, { type: string; labels: string[]; meaning: string }> {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('## Metrics'), text.indexOf("### The Temporal SDK's worker metrics"));
  const rows = new Map<string, { type: string; labels: string[]; meaning: string }>();
  for (const m of section.matchAll(/^\| `([a-z_:]+)` \| ([^|]+) \| ([^|]*) \| (.+) \|$/gm))
    rows.set(m[1], {
      type: m[2].trim(),
      labels: m[3].trim() === '—' ? [] : m[3].split(',').map((l) => l.trim()),
      meaning: m[4].trim(),
    });
  return rows;
}

test('docs/observability.md lists every exported metric, one row each, with its type, labels and meaning', async () => {
  const rows = documented();
  const registry = new LifeboatMetrics().registry;
  const metrics = await registry.getMetricsAsJSON();
  const exported = new Map(
    registry
      .getMetricsAsArray()
      .map((m) => [
        (m as unknown as { name: string }).name,
        (m as unknown as { labelNames?: string[] }).labelNames ?? [],
      ]),
  );
  assert.ok(exported.size >= 35, `${exported.size} metrics`);
  for (const m of metrics) {
    const row = rows.get(m.name);
    assert.ok(row, `${m.name} is not in docs/observability.md`);
    assert.ok(row.type.startsWith(String(m.type)), `${m.name}: documented as ${row.type}, is a ${String(m.type)}`);
    assert.deepEqual([...row.labels].sort(), [...exported.get(m.name)!].sort(), `${m.name} labels`);
    assert.ok(row.meaning.length > 10, `${m.name}: say what it means`);
  }
  const stale = [...rows.keys()].filter((n) => !exported.has(n));
  assert.deepEqual(stale, [], 'documented but not exported');
});
