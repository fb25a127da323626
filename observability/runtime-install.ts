/** The Temporal SDK runtime, installed once per process: Lifeboat's log format (redacting) and the SDK's own metrics. */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { jsonLogLine, logFormat, redactForLog } from './logging';

let runtimeInstalled = false;

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
