import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardExpressions, metricNames, ruleExpressions } from './promql-names';

test('metric names of PromQL expressions: not functions, keywords, labels, strings, durations or numbers', () => {
  const cases: [string, string[]][] = [
    [
      'max by (source) (vector_store_backup_age_seconds) > on (source) max by (source) (lifeboat_rpo_target_seconds)',
      ['vector_store_backup_age_seconds', 'lifeboat_rpo_target_seconds'],
    ],
    [
      'histogram_quantile(0.95, sum by (le, source) (rate(vector_store_backup_duration_seconds_bucket[1h])))',
      ['vector_store_backup_duration_seconds_bucket'],
    ],
    [
      'sum(increase(lifeboat_operations_total{operation="verify", outcome="failure"}[6h])) > 0',
      ['lifeboat_operations_total'],
    ],
    [
      'up{job="lifeboat-worker"} == 1 unless on (instance) lifeboat_repository_up == 1',
      ['up', 'lifeboat_repository_up'],
    ],
    ['absent(up{job="lifeboat-worker"})', ['up']],
    ['rate(x_total[$__rate_interval]) * 1e3 offset 5m', ['x_total']],
  ];
  for (const [expr, names] of cases) assert.deepEqual(metricNames(expr), names, expr);
});

test('rule files and dashboards: every expression, by rule and panel (rows included)', () => {
  const rules = ruleExpressions(
    'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: a_total > 0\n      - record: r\n        expr: sum(b)\n',
  );
  assert.deepEqual(rules, [
    { rule: 'A', expr: 'a_total > 0' },
    { rule: 'r', expr: 'sum(b)' },
  ]);
  const dash = dashboardExpressions(
    JSON.stringify({
      panels: [
        { title: 'p', targets: [{ expr: 'x' }] },
        { title: 'row', panels: [{ title: 'q', targets: [{ expr: 'y' }] }] },
      ],
      templating: { list: [{ name: 'source', query: { query: 'label_values(z_seconds, source)' } }] },
    }),
  );
  assert.deepEqual(dash, [
    { panel: 'p', expr: 'x' },
    { panel: 'q', expr: 'y' },
    { panel: 'variable source', expr: 'z_seconds' },
  ]);
});
