import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { projectRoot, toolPath } from '../servers/tools';

const run = promisify(execFile);
const dir = path.join(projectRoot, 'deploy', 'prometheus');

test('the alert rules are valid Prometheus rules (promtool check rules)', async () => {
  const { stdout } = await run(toolPath('promtool'), ['check', 'rules', 'alerts.yml'], { cwd: dir });
  assert.match(stdout, /SUCCESS: 11 rules found/);
});

test('every alert fires on the series that should fire it and stays quiet on the others (promtool test rules)', async () => {
  const { stdout, stderr } = await run(toolPath('promtool'), ['test', 'rules', 'alerts.test.yml'], { cwd: dir }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      assert.fail(`promtool test rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    },
  );
  assert.match(stdout + stderr, /SUCCESS/);
});

test('the rule tests cover every alert', async () => {
  const { readFileSync } = await import('node:fs');
  const rules = [...readFileSync(path.join(dir, 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  const tests = readFileSync(path.join(dir, 'alerts.test.yml'), 'utf8');
  for (const r of rules) {
    assert.match(
      tests,
      new RegExp(`alertname: ${r}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
      `${r} is never shown firing`,
    );
    assert.match(tests, new RegExp(`alertname: ${r}\\n\\s+exp_alerts: \\[\\]`), `${r} is never shown quiet`);
  }
});
