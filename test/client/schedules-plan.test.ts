import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredSchedules } from '../../client/schedules';
import { SA } from '../../workflows/search-attributes';
import { testConfig } from './helpers';

test('schedules from the config: workflow types, SKIP overlap, explicit catch-up window, paused, args; no workflow yet for drill/prune → skipped with a reason', () => {
  const config = testConfig({
    taskQueue: 'lq',
    schedules: {
      backup: { every: '1h', sources: ['sessions', 'docs'] },
      verify: { cron: '30 3 * * *', readData: true, subsetPercent: 10, paused: true },
      drill: { cron: '0 4 * * 0' },
      prune: { cron: '0 5 * * *' },
      catchupWindow: '5m',
    },
  });
  const { desired, skipped } = desiredSchedules(config, 'lb-');
  assert.deepEqual(
    desired.map((d) => d.scheduleId),
    ['lb-backup', 'lb-verify', 'lb-drill'],
  );
  assert.deepEqual(
    skipped.map((s) => s.name),
    ['prune'],
  );
  assert.match(skipped[0].reason, /no prune workflow/);

  const [backup, verify, drill] = desired;
  // The drill schedule starts the real drill workflow (issue 10).
  assert.equal(drill.options.action.workflowType, 'drillWorkflow');
  assert.deepEqual(drill.options.action.args, [{ trigger: 'schedule' }]);
  assert.equal(backup.options.action.workflowType, 'scheduledBackupWorkflow');
  assert.equal(backup.options.action.taskQueue, 'lq');
  assert.deepEqual(backup.options.action.args, [{ sources: ['docs', 'sessions'], trigger: 'schedule' }]);
  assert.equal(backup.options.action.workflowId, 'lb-scheduled-backup-docs+sessions');
  assert.equal(
    backup.options.action.staticSummary,
    'Scheduled backup of docs, sessions (runs as lifeboat-backup-docs+sessions)',
  );
  assert.deepEqual(backup.options.spec, { intervals: [{ every: 3_600_000 }] });
  assert.deepEqual(backup.options.policies, { overlap: 'SKIP', catchupWindow: 300_000, pauseOnFailure: false });
  assert.equal(backup.options.state?.paused, false);
  assert.deepEqual(backup.options.action.typedSearchAttributes, [
    { key: SA.kind, value: 'scheduled-backup' },
    { key: SA.source, value: ['docs', 'sessions'] },
  ]);

  assert.equal(verify.options.action.workflowType, 'verifyWorkflow');
  assert.deepEqual(verify.options.action.args, [{ readData: true, subsetPercent: 10 }]);
  assert.deepEqual(verify.options.spec, { cronExpressions: ['30 3 * * *'], timezone: 'UTC' });
  assert.equal(verify.options.state?.paused, true);
});

test('no schedules section: nothing to create, nothing skipped', () => {
  const { desired, skipped } = desiredSchedules(testConfig());
  assert.deepEqual([desired, skipped], [[], []]);
});
