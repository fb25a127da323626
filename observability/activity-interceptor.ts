import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { CancelledFailure } from '@temporalio/common';
import type { LifeboatMetrics } from './metrics';

/** The `source` of an activity's input, when it has one (most Lifeboat activities do). */
function sourceOf(args: unknown[]): string {
  const a = args[0] as { source?: unknown } | undefined;
  return typeof a?.source === 'string' ? a.source : '';
}

function errorType(e: unknown): string {
  const x = e as { type?: unknown; code?: unknown; name?: unknown };
  return String(x?.type ?? x?.code ?? x?.name ?? 'Error');
}

/**
 * Records every activity attempt (duration, outcome, error type) by activity type and source,
 * so activities added later (drills, prune, DR) are measured without any code of their own.
 */
export function metricsActivityInterceptor(metrics: LifeboatMetrics): ActivityInterceptorsFactory {
  return (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const operation = ctx.info.activityType;
        const source = sourceOf(input.args);
        const started = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        try {
          const out = await next(input);
          metrics.operationDuration.observe({ operation, source, outcome: 'success' }, seconds());
          if (operation === 'backupSource')
            metrics.backupDuration.observe({ source, type: metrics.sourceType(source) }, seconds());
          if (operation === 'commitRecoveryPoint') metrics.invalidate();
          return out;
        } catch (e) {
          const cancelled = e instanceof CancelledFailure || ctx.cancellationSignal.aborted;
          metrics.operationDuration.observe(
            { operation, source, outcome: cancelled ? 'cancelled' : 'failure' },
            seconds(),
          );
          if (!cancelled) metrics.operationErrors.inc({ operation, source, error_type: errorType(e) });
          throw e;
        }
      },
    };
    return { inbound };
  };
}
