/**
 * Inner tracing spans for the phases of long activities (read source, chunk, upload, commit).
 * Uses the global OpenTelemetry API only: without a registered tracer provider (tracing off,
 * the default) every call is a no-op costing one function call, so library code (repository/,
 * activities/) may use it freely.
 */
import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = () => trace.getTracer('lifeboat');

/** Runs `fn` inside a child span of the active one; the span records failure and ends when `fn` settles. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.message });
      throw e;
    } finally {
      span.end();
    }
  });
}

/** A span started now and ended by the caller (for phases that are not one function call). */
export function startSpan(name: string, attributes: Attributes = {}): Span {
  return tracer().startSpan(name, { attributes });
}
