import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  DefaultLogger,
  type ActivityInterceptorsFactory,
  type InjectedSinks,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type NativeConnectionOptions,
  type WorkerOptions,
} from '@temporalio/worker';

import { jsonLogLine, logFormat, redactForLog } from '../observability/logging';
import { metricsActivityInterceptor } from '../observability/activity-interceptor';
import { lifeboatMetrics } from '../observability/metrics';
import { WORKFLOW_TRACING_MODULE } from '../observability/tracing';

/** Where `npm run build` writes the prebundled workflow code (see workers/bundle.ts). */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js');

export interface LifeboatWorkerOptions {
  /** host:port of the Temporal frontend. */
  address: string;
  /** TLS and API key for the frontend. @default plaintext, no key */
  connection?: Pick<NativeConnectionOptions, 'tls' | 'apiKey'>;
  /** @default 'default' */
  namespace?: string;
  taskQueue: string;
  /** Activity implementations, already bound to their dependencies. */
  activities: object;
  /** @default 4 */
  maxConcurrentActivities?: number;
  /** @default 20 */
  maxConcurrentWorkflows?: number;
  /** Use the prebundled workflow code when it exists. @default true */
  preferBundle?: boolean;
  /** Extra activity interceptors (tracing); the metrics interceptor is always installed. */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Sinks for the workflow sandbox (the tracing exporter). */
  sinks?: InjectedSinks<never>;
}

let runtimeInstalled = false;

const NO_TRACING_SINKS = {
  exporter: { export: { fn: () => undefined, callDuringReplay: false } },
} as unknown as InjectedSinks<never>;

/**
 * Installs the SDK runtime once per process with a log level from
 * LIFEBOAT_LOG_LEVEL (TRACE, DEBUG, INFO, WARN, ERROR). @default 'INFO'
 */
export function installRuntime(
  defaultLevel: LogLevel = 'INFO',
  opts: { temporalMetricsAddress?: string } = {},
): boolean {
  if (runtimeInstalled) return false;
  runtimeInstalled = true;
  const level = (process.env.LIFEBOAT_LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? defaultLevel;
  const logger =
    logFormat() === 'json'
      ? new DefaultLogger(level, (e) => process.stderr.write(jsonLogLine(e) + '\n'))
      : new DefaultLogger(level, (e) => {
          // The SDK's own format, with the same redaction as the JSON lines.
          const meta = e.meta && Object.keys(e.meta).length ? ` ${JSON.stringify(redactForLog(e.meta))}` : '';
          process.stderr.write(
            `${new Date(Number(e.timestampNanos / 1_000_000n)).toISOString()} [${e.level}] ${e.message}${meta}\n`,
          );
        });
  Runtime.install({
    logger,
    // The SDK's worker metrics (task queue and activity latency), re-served on Lifeboat's /metrics.
    ...(opts.temporalMetricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.temporalMetricsAddress } } } }
      : {}),
  });
  return true;
}

/**
 * Creates a worker running every Lifeboat workflow and the given activities.
 * Production uses the prebundled workflow code (no webpack at start-up); dev
 * and tests bundle workflows/index.ts on the fly.
 */
export async function createLifeboatWorker(
  opts: LifeboatWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: opts.address, ...opts.connection });
  const useBundle = (opts.preferBundle ?? true) && existsSync(WORKFLOW_BUNDLE_PATH);
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = useBundle
    ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: require.resolve('../workflows') };
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...workflowSource,
    interceptors: {
      activity: [...(opts.activityInterceptors ?? []), metricsActivityInterceptor(lifeboatMetrics())],
      // Only used when bundling on the fly; workers/bundle.ts bundles it into the prebuilt code.
      workflowModules: [WORKFLOW_TRACING_MODULE],
    },
    // The sandbox's tracing interceptors export through this sink; without tracing it drops the spans.
    sinks: opts.sinks ?? NO_TRACING_SINKS,
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 4,
    maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflows ?? 20,
    // Let running activities finish their current step on SIGTERM before giving up.
    shutdownGraceTime: '30 seconds',
  });
  return { worker, connection };
}
