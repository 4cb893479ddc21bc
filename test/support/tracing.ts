import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { tracing } from '@opentelemetry/sdk-node';

/**
 * A real SDK with an in-memory exporter, so a test can see which spans the service produced. Call at module level,
 * before the service starts. Context manager and propagator are the ones production uses (telemetry/tracing.ts).
 */
export function inMemoryTracing(): tracing.InMemorySpanExporter {
  const exporter = new tracing.InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new tracing.BasicTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return exporter;
}
