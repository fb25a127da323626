import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredSchedules } from '../../client/schedules';
import { SA } from '../../workflows/search-attributes';
import { testConfig } from './helpers';

test('schedules from the config: workflow types, SKIP overlap, explicit catch-up window, paused, args; the prune schedule starts pruneWorkflow', () => {
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
    ['lb-backup', 'lb-verify', 'lb-drill', 'lb-prune'],
  );
  assert.deepEqual(skipped, []);

  const [backup, verify, drill, prune] = desired;
  // The prune schedule starts the real prune workflow (issue 9), kind "prune", no sources.
  assert.equal(prune.options.action.workflowType, 'pruneWorkflow');
  assert.deepEqual(prune.options.action.args, [{ trigger: 'schedule' }]);
  assert.equal(prune.options.action.workflowId, 'lb-prune');
  assert.deepEqual(prune.options.action.typedSearchAttributes, [{ key: SA.kind, value: 'prune' }]);
  assert.deepEqual(prune.options.spec, { cronExpressions: ['0 5 * * *'], timezone: 'UTC' });
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
