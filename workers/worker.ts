import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  type ActivityInterceptorsFactory,
  type InjectedSinks,
  NativeConnection,
  Worker,
  type NativeConnectionOptions,
  type WorkerOptions,
} from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';

import { installRuntime } from '../observability/runtime-install';

export { installRuntime };
import { metricsActivityInterceptor } from '../observability/activity-interceptor';
import { lifeboatMetrics } from '../observability/metrics';
import { WORKFLOW_TRACING_MODULE } from '../observability/tracing';

/** Where `npm run build` writes the prebundled workflow code (see workers/bundle.ts). */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js');
/**
 * The same workflow code bundled with lib/failure-converter.ts, for workers with payload
 * encryption: a bundle fixes the failure converter inside the workflow sandbox.
 */
export const ENCRYPTED_WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', 'dist', 'workflow-bundle-encrypted.js');

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
  /** Payload codec and failure converter (payload encryption). @default the SDK's JSON converter */
  dataConverter?: DataConverter;
  /** Use the prebundled workflow code when it exists. @default true */
  preferBundle?: boolean;
  /** Extra activity interceptors (tracing); the metrics interceptor is always installed. */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Sinks for the workflow sandbox (the tracing exporter). */
  sinks?: InjectedSinks<never>;
}

const NO_TRACING_SINKS = {
  exporter: { export: { fn: () => undefined, callDuringReplay: false } },
} as unknown as InjectedSinks<never>;

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
  const bundlePath = opts.dataConverter?.failureConverterPath ? ENCRYPTED_WORKFLOW_BUNDLE_PATH : WORKFLOW_BUNDLE_PATH;
  const useBundle = (opts.preferBundle ?? true) && existsSync(bundlePath);
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = useBundle
    ? { workflowBundle: { codePath: bundlePath } }
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
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 4,
    maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflows ?? 20,
    // Let running activities finish their current step on SIGTERM before giving up.
    shutdownGraceTime: '30 seconds',
  });
  return { worker, connection };
}
