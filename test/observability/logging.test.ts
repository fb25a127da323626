import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEntry } from '@temporalio/worker';
import { jsonLogLine, redactForLog, workerLogLine } from '../../observability/logging';

test('redaction: secret-looking keys, credentials in URLs; secret references and ids kept', () => {
  const out = redactForLog({
    password: 'hunter2',
    s3: { secretAccessKey: 'AbC/xyz+123', accessKeyId: 'AKIAEXAMPLE' },
    routingKey: '0123456789abcdef0123456789abcdef',
    headers: { Authorization: 'Bearer tok' },
    url: 'redis://default:s3cr3t@10.0.0.5:6379/0 and s3://AKIA:pw@bucket/x',
    ref: { password: { env: 'LIFEBOAT_REPO_PASSWORD' } },
    workflowId: 'lifeboat-backup-all',
    err: new Error('cannot connect to https://user:pa55@example.com/x'),
    n: 5n,
  });
  assert.deepEqual(out, {
    password: '[redacted]',
    s3: { secretAccessKey: '[redacted]', accessKeyId: 'AKIAEXAMPLE' },
    routingKey: '[redacted]',
    headers: { Authorization: '[redacted]' },
    url: 'redis://***@10.0.0.5:6379/0 and s3://***@bucket/x',
    ref: { password: { env: 'LIFEBOAT_REPO_PASSWORD' } },
    workflowId: 'lifeboat-backup-all',
    err: { name: 'Error', message: 'cannot connect to https://***@example.com/x' },
    n: '5',
  });
});

test('a JSON log line: time, level, message and the attributes, redacted', () => {
  const entry: LogEntry = {
    level: 'INFO',
    message: 'Activity started',
    timestampNanos: 1_764_633_600_000_000_000n,
    meta: { workflowId: 'w', activityId: '3', activityType: 'backupSource', taskToken: 'abc', password: 'x' },
  };
  assert.deepEqual(JSON.parse(jsonLogLine(entry)), {
    time: '2025-12-02T00:00:00.000Z',
    level: 'INFO',
    message: 'Activity started',
    workflowId: 'w',
    activityId: '3',
    activityType: 'backupSource',
    taskToken: '[redacted]',
    password: '[redacted]',
  });
});

test("the worker's own lines: plain text by default, JSON objects with LIFEBOAT_LOG_FORMAT=json", () => {
  const before = process.env.LIFEBOAT_LOG_FORMAT;
  try {
    delete process.env.LIFEBOAT_LOG_FORMAT;
    assert.equal(workerLogLine('INFO', 'worker stopped', { taskQueue: 'q' }), 'worker stopped');
    process.env.LIFEBOAT_LOG_FORMAT = 'JSON';
    const e = JSON.parse(workerLogLine('WARN', 'at redis://u:pw@h:1', { taskQueue: 'q', token: 't' })) as Record<
      string,
      unknown
    >;
    assert.ok(!Number.isNaN(Date.parse(e.time as string)));
    assert.deepEqual(
      { ...e, time: undefined },
      {
        time: undefined,
        level: 'WARN',
        message: 'at redis://***@h:1',
        taskQueue: 'q',
        token: '[redacted]',
      },
    );
  } finally {
    if (before === undefined) delete process.env.LIFEBOAT_LOG_FORMAT;
    else process.env.LIFEBOAT_LOG_FORMAT = before;
  }
});
