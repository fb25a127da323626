import type { LifeboatConfig } from '../config';
import { createActivities } from '../activities';
import { createLifeboatWorker } from './worker';
import { temporalConnectionOptions } from '../runtime/temporal-connection';
import { RepositoryProvider } from '../activities/repository';
import { startObservability } from '../observability';
import { workerLogLine } from '../observability/logging';
import { lifeboatDataConverter } from '../runtime/payload-codec';

export interface RunWorkerOptions {
  /** Stops the worker gracefully when aborted. @default SIGINT/SIGTERM */
  signal?: AbortSignal;
  /** @default true (use the prebundled workflow code when present) */
  preferBundle?: boolean;
}

/**
 * Runs Lifeboat's worker for a config until stopped: every workflow, every
 * activity, on the config's task queue. On SIGINT/SIGTERM it stops polling,
 * lets running activities finish (up to the shutdown grace time) and exits;
 * anything cut off is retried by Temporal on another worker.
 */
export async function runWorker(config: LifeboatConfig, opts: RunWorkerOptions = {}): Promise<void> {
  const { tls, apiKey } = await temporalConnectionOptions(config.temporal);
  const dataConverter = await lifeboatDataConverter(config.temporal);
  const repositories = new RepositoryProvider(config);
  const obs = await startObservability(config, () => repositories.get());
  if (obs.metricsUrl)
    process.stderr.write(
      `${workerLogLine('INFO', `lifeboat worker: metrics on ${obs.metricsUrl}`, { metricsUrl: obs.metricsUrl })}\n`,
    );
  const activities = createActivities({ config, repositories });
  const { worker, connection } = await createLifeboatWorker({
    address: config.temporal.address,
    connection: { tls, apiKey: typeof apiKey === 'function' ? apiKey() : apiKey },
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    maxConcurrentActivities: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflows: config.worker.maxConcurrentWorkflows,
    preferBundle: opts.preferBundle,
    activityInterceptors: obs.tracing?.activityInterceptors,
    sinks: obs.tracing?.sinks,
    ...(dataConverter ? { dataConverter } : {}),
  });
  const stop = () => worker.shutdown();
  let removeSignals = () => {};
  if (opts.signal) {
    opts.signal.addEventListener('abort', stop, { once: true });
  } else {
    process.once('SIGINT', stop).once('SIGTERM', stop);
    removeSignals = () => process.off('SIGINT', stop).off('SIGTERM', stop);
  }
  try {
    await worker.run();
  } finally {
    removeSignals();
    await activities.closeActivities();
    await obs.close();
    await connection.close();
  }
}
