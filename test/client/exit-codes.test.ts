import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CommanderError } from 'commander';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  WorkflowFailedError,
} from '@temporalio/client';
import { EXIT_CODES } from '../../client/exit-codes';
import { errorDocument, exitCodeFor } from '../../client/error-mapping';
import { operationError } from '../../client/workflow-failures';
import {
  BackupAlreadyRunningError,
  NoRecoveryPointError,
  OperationCancelledError,
  OperationFailedError,
  RestoreFailedError,
  RollbackFailedError,
  SourceNotInRecoveryPointError,
  TemporalUnreachableError,
  UnknownScheduleError,
  UsageError,
  VerificationFailedError,
} from '../../client/errors';
import { ConfigError, SecretError, UnknownSourceError } from '../../config';
import {
  BackendError,
  LegalHoldError,
  RecoveryPointNotFoundError,
  RepositoryNotFoundError,
  WrongPasswordError,
  AmbiguousRecoveryPointIdError,
} from '../../repository/errors';
import type { RestoreResult } from '../../workflows/types';

const restoreResult = (rollbackFailures: string[]): RestoreResult => ({
  recoveryPointId: '20261123T120000Z-3f9a1c2b',
  ok: false,
  safetyRecoveryPointId: '20261123T130000Z-aaaaaaaa',
  sources: [
    {
      source: 'sessions',
      target: 'redis://10.0.0.5:6379/0',
      status: rollbackFailures.length ? 'rollback-failed' : 'rolled-back',
    },
  ],
  failure: 'verification of sessions failed: digest mismatch',
  rolledBack: rollbackFailures.length ? [] : ['sessions'],
  rollbackFailures,
  durationMs: 1200,
});

const failed = (cause: Error) => new WorkflowFailedError('Workflow execution failed', cause, 'NON_RETRYABLE_FAILURE');
const restoreFailure = (r: RestoreResult) =>
  ApplicationFailure.create({ message: 'restore failed', type: 'RESTORE_FAILED', nonRetryable: true, details: [r] });
const activityFailure = (type: string, message: string) =>
  new ActivityFailure(
    'Activity task failed',
    'planRestore',
    '1',
    'NON_RETRYABLE_FAILURE',
    'worker@host',
    ApplicationFailure.create({ message, type, nonRetryable: true }),
  );

describe('exit codes', () => {
  test('every exit code is distinct and docs/cli.md documents each with the same number and name', () => {
    const values = Object.values(EXIT_CODES);
    assert.equal(new Set(values).size, values.length);
    const doc = readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'cli.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    assert.deepEqual(Object.fromEntries(rows), { ...EXIT_CODES });
  });

  test('each kind of failure maps to its own code', () => {
    const cases: [unknown, number][] = [
      [new Error('boom'), EXIT_CODES.unexpected],
      [new UsageError('bad flag'), EXIT_CODES.usage],
      [new ConfigError([{ path: 'sources[0].type', message: 'bad' }], '/etc/lifeboat.yaml'), EXIT_CODES.usage],
      [new SecretError({ env: 'X' }, 'env-unset', 'is not set'), EXIT_CODES.usage],
      [new CommanderError(1, 'commander.unknownCommand', "unknown command 'x'"), EXIT_CODES.usage],
      [new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), EXIT_CODES.ok],
      [new UnknownSourceError(['nope'], ['sessions']), EXIT_CODES.notFound],
      [new RecoveryPointNotFoundError('2026'), EXIT_CODES.notFound],
      [new AmbiguousRecoveryPointIdError('2026', ['a', 'b']), EXIT_CODES.notFound],
      [new NoRecoveryPointError('/repo'), EXIT_CODES.notFound],
      [new SourceNotInRecoveryPointError('id', ['x'], ['sessions']), EXIT_CODES.notFound],
      [new UnknownScheduleError('bakup', ['backup']), EXIT_CODES.notFound],
      [
        new BackupAlreadyRunningError('lifeboat-backup-all', 'run', new Date(), ['sessions']),
        EXIT_CODES.alreadyRunning,
      ],
      [new RestoreFailedError('wf', restoreResult([]), 'failed'), EXIT_CODES.failedNothingChanged],
      [new VerificationFailedError('wf', 'id', ['chunk missing']), EXIT_CODES.failedNothingChanged],
      [new LegalHoldError('id', 'case 1', '2026-01-01'), EXIT_CODES.failedNothingChanged],
      [new RollbackFailedError('wf', restoreResult(['sessions: unreachable']), 'failed'), EXIT_CODES.rollbackFailed],
      [new TemporalUnreachableError('127.0.0.1:1', 'default', new Error('timeout')), EXIT_CODES.unreachable],
      [new BackendError('s3://b/p', 'get', 'config', new Error('ECONNREFUSED')), EXIT_CODES.unreachable],
      [new RepositoryNotFoundError('/nowhere'), EXIT_CODES.unreachable],
      [new WrongPasswordError('/repo', 1), EXIT_CODES.wrongPassword],
    ];
    for (const [e, code] of cases) assert.equal(exitCodeFor(e), code, `${(e as Error).name}: ${(e as Error).message}`);
  });
});

describe('workflow failures become typed errors', () => {
  test('a restore that rolled back is RestoreFailedError (5) carrying the workflow result', () => {
    const e = operationError('restore', 'lifeboat-restore-x', failed(restoreFailure(restoreResult([]))));
    assert.ok(e instanceof RestoreFailedError && !(e instanceof RollbackFailedError));
    assert.deepEqual(e.result.rolledBack, ['sessions']);
    assert.equal(exitCodeFor(e), EXIT_CODES.failedNothingChanged);
  });

  test('a restore whose rollback failed is RollbackFailedError (6) naming the target', () => {
    const e = operationError(
      'restore',
      'lifeboat-restore-x',
      failed(restoreFailure(restoreResult(['sessions: connection refused']))),
    );
    assert.ok(e instanceof RollbackFailedError);
    assert.deepEqual(e.result.rollbackFailures, ['sessions: connection refused']);
    assert.equal(exitCodeFor(e), EXIT_CODES.rollbackFailed);
  });

  test('an activity failure keeps its Lifeboat code: wrong password 8, unknown recovery point 3, other 5', () => {
    const wrong = operationError(
      'backup',
      'lifeboat-backup-all',
      failed(activityFailure('WRONG_PASSWORD', 'wrong password for the repository')),
    );
    assert.ok(wrong instanceof OperationFailedError);
    assert.equal(wrong.failureType, 'WRONG_PASSWORD');
    assert.match(wrong.message, /wrong password for the repository/);
    assert.equal(exitCodeFor(wrong), EXIT_CODES.wrongPassword);
    assert.equal(
      exitCodeFor(
        operationError('verify', 'v', failed(activityFailure('RECOVERY_POINT_NOT_FOUND', 'no recovery point'))),
      ),
      EXIT_CODES.notFound,
    );
    assert.equal(
      exitCodeFor(operationError('backup', 'b', failed(activityFailure('PLAN_INVALID', 'unknown source')))),
      EXIT_CODES.failedNothingChanged,
    );
    assert.equal(
      exitCodeFor(operationError('backup', 'b', failed(ApplicationFailure.create({ message: 'x', type: 'Error' })))),
      EXIT_CODES.failedNothingChanged,
    );
  });

  test('a cancelled restore rolled back (5); a terminated one could not (6)', () => {
    const cancelled = operationError('restore', 'r', failed(new CancelledFailure('cancelled')));
    assert.ok(cancelled instanceof OperationCancelledError);
    assert.equal(exitCodeFor(cancelled), EXIT_CODES.failedNothingChanged);
    const terminated = operationError('restore', 'r', failed(new TerminatedFailure('terminated')));
    assert.equal(exitCodeFor(terminated), EXIT_CODES.rollbackFailed);
    assert.match((terminated as Error).message, /safety recovery point/);
  });

  test('errors that are not workflow failures pass through unchanged', () => {
    const e = new WrongPasswordError('/repo', 1);
    assert.equal(operationError('backup', 'b', e), e);
  });
});

test('the JSON error document carries the code and context fields, dates as ISO strings', () => {
  const started = new Date('2026-11-23T12:00:00Z');
  const doc = errorDocument(new BackupAlreadyRunningError('lifeboat-backup-all', 'run-1', started, ['sessions']));
  assert.equal(doc.ok, false);
  assert.equal(doc.exitCode, EXIT_CODES.alreadyRunning);
  assert.equal(doc.error.name, 'BackupAlreadyRunningError');
  assert.equal(doc.error.code, 'BACKUP_ALREADY_RUNNING');
  assert.equal(doc.error.workflowId, 'lifeboat-backup-all');
  assert.equal(doc.error.startedAt, '2026-11-23T12:00:00.000Z');
  assert.match(doc.error.message, /lifeboat-backup-all started at 2026-11-23T12:00:00.000Z/);
});
