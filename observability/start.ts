/**
 * Everything a worker process needs for observability, set up once from the config: the
 * Temporal runtime (logs, SDK metrics), Lifeboat's metrics fed from the repository and served on
 * /metrics, and tracing when configured. docs/observability.md.
 */
import type { LifeboatConfig } from '../config';
import type { Repository } from '../repository';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { installRuntime } from './runtime-install';
import { lifeboatMetrics } from './metrics';
import { freeLoopbackPort, startMetricsServer, type MetricsServer } from './server';
import { setupTracing, type Tracing } from './tracing';

export interface Observability {
  /** Where /metrics is served; undefined when metrics are off. */
  metricsUrl?: string;
  tracing?: Tracing;
  close(): Promise<void>;
}

export async function startObservability(
  config: LifeboatConfig,
  repository: () => Promise<Repository>,
  opts: { listen?: string; spanProcessor?: SpanProcessor; stateTtlMs?: number } = {},
): Promise<Observability> {
  const m = config.observability.metrics;
  let temporalMetricsUrl: string | undefined;
  if (m?.temporalMetrics) {
    const port = await freeLoopbackPort();
    // Only the first call in a process installs the runtime; later workers share its exporter.
    if (installRuntime('INFO', { temporalMetricsAddress: `127.0.0.1:${port}` }))
      temporalMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  } else installRuntime();
  const metrics = lifeboatMetrics();
  metrics.configure(config, repository, opts.stateTtlMs);
  let server: MetricsServer | undefined;
  if (m) server = await startMetricsServer({ listen: opts.listen ?? m.listen, metrics, temporalMetricsUrl });
  const tracing = setupTracing(config.observability.tracing, opts.spanProcessor);
  return {
    metricsUrl: server?.url,
    tracing,
    async close() {
      await tracing?.shutdown();
      await server?.close();
    },
  };
}
