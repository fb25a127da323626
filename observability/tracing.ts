/**
 * OpenTelemetry tracing (off unless observability.tracing.otlpEndpoint is set): Temporal's OTel
 * interceptors on the client, the workflows (in the sandbox, exported through a sink) and the
 * activities, spans exported over OTLP/HTTP. Inner spans of long activities come from lib/spans.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, propagation, trace, ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { ObservabilityConfig } from '../config';

/** Keeps the active span across awaits (what @opentelemetry/context-async-hooks does), so inner spans find their activity. */
class AsyncLocalContextManager implements ContextManager {
  private readonly als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.als.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...a: unknown[]) => unknown;
    const als = this.als;
    return function (this: unknown, ...a: unknown[]) {
      return als.run(ctx, () => fn.apply(this, a));
    } as unknown as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.als.disable();
    return this;
  }
}

/** The sandbox half of Temporal's interceptors: bundled with the workflow code. */
export const WORKFLOW_TRACING_MODULE =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface Tracing {
  activityInterceptors: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<never>;
  clientInterceptors: WorkflowClientInterceptor[];
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

let installed: { provider: BasicTracerProvider; processor: SpanProcessor; resource: Resource } | undefined;

/** Installs the global tracer provider once per process; undefined when tracing is off. */
export function setupTracing(cfg: ObservabilityConfig['tracing'], processor?: SpanProcessor): Tracing | undefined {
  if (!cfg && !processor) return undefined;
  if (!installed) {
    const resource = new Resource({ [ATTR_SERVICE_NAME]: cfg?.serviceName ?? 'lifeboat-worker' });
    const p = processor ?? new BatchSpanProcessor(new OTLPTraceExporter({ url: cfg!.otlpEndpoint }));
    const provider = new BasicTracerProvider({ resource, spanProcessors: [p] });
    context.setGlobalContextManager(new AsyncLocalContextManager());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    installed = { provider, processor: p, resource };
  }
  const { provider, processor: p, resource } = installed;
  return {
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: makeWorkflowExporter(p, resource) } as unknown as InjectedSinks<never>,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    shutdown: () => provider.forceFlush(),
  };
}
