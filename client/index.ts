/**
 * Lifeboat's typed client: the CLI's operations as functions, for incident
 * tooling and scripts. See docs/cli.md.
 */
export { createLifeboatClient, sourcesOf } from './api';
export {
  connectTemporal,
  temporalConnectionOptions,
  type TemporalConnectOptions,
  type TemporalHandle,
} from './connection';
export { EXIT_CODES, type ExitCode, type ExitCodeName } from './exit-codes';
export { exitCodeFor, errorDocument, EXIT_CODE_BY_ERROR_CODE, type ErrorDocument } from './error-mapping';
export { operationError, innermostApplicationFailure } from './workflow-failures';
export * from './errors';
export * from './types';
export { desiredSchedules, SCHEDULE_NAMES, type DesiredSchedule } from './schedules';
export { backupWorkflowId, restoreWorkflowId, verifyWorkflowId } from './workflow-ids';
export { runCli, buildProgram, processIo } from './program';
export type { CliIo, OutStream, CommandOutcome, RunCliOptions } from './cli-context';
