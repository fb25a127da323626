import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderProgressLine, watchOperation } from '../../client/progress-view';
import type { OperationHandle, OperationProgress } from '../../client/types';

const base: OperationProgress = {
  workflowId: 'lifeboat-backup-all',
  runId: 'r',
  status: 'RUNNING',
  startedAt: '2026-01-01T00:00:00Z',
  activities: [],
};

test('the progress line shows phase, per-source status and the heartbeat bytes/items with a bar', () => {
  const line = renderProgressLine({
    ...base,
    progress: {
      phase: 'backing up',
      sources: { sessions: { status: 'backed-up' }, embeddings: { status: 'backing-up' } },
      startedAt: '',
      updatedAt: '',
    },
    activities: [
      {
        activityType: 'backupSource',
        state: 'STARTED',
        attempt: 1,
        label: 'backup embeddings',
        bytes: 512 * 1024 * 1024,
        totalBytes: 1024 * 1024 * 1024,
        items: 400_000,
      },
    ],
  });
  assert.equal(
    line,
    'backing up · sessions backed-up, embeddings backing-up · backup embeddings 512 MiB/1.0 GiB [##########..........] 50% 400,000 items',
  );
});

test('without a worker the line says so, and a retrying activity shows its attempt and last failure', () => {
  assert.equal(renderProgressLine(base), 'waiting for a worker');
  const line = renderProgressLine({
    ...base,
    activities: [{ activityType: 'backupSource', state: 'SCHEDULED', attempt: 3, lastFailure: 'ECONNREFUSED' }],
  });
  assert.match(line, /attempt 3 \(last: ECONNREFUSED\)/);
});

test('on a terminal the line is cut to the width', () => {
  const line = renderProgressLine(
    { ...base, progress: { phase: 'x'.repeat(200), sources: {}, startedAt: '', updatedAt: '' } },
    40,
  );
  assert.equal(line.length, 40);
});

test('watching writes progress lines (plain, no escape codes without a TTY) and returns the result', async () => {
  let polls = 0;
  let finish!: (v: string) => void;
  const handle: OperationHandle<string> = {
    kind: 'backup',
    workflowId: 'w',
    runId: 'r',
    startedAt: new Date(),
    sources: ['a'],
    result: () => new Promise<string>((r) => (finish = r)),
    progress: async () => {
      polls++;
      if (polls === 3) setImmediate(() => finish('done'));
      return {
        ...base,
        progress: { phase: polls < 2 ? 'planning' : 'backing up', sources: {}, startedAt: '', updatedAt: '' },
      };
    },
    cancel: async () => {},
  };
  let written = '';
  const result = await watchOperation(
    handle,
    { write: (s: string) => (written += s), isTTY: false },
    { intervalMs: 10, plainEveryMs: 0 },
  );
  assert.equal(result, 'done');
  assert.deepEqual(written.trim().split('\n'), ['planning', 'backing up']);
  assert.ok(!written.includes('\x1b'));
});
