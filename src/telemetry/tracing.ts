import { context, propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { UntracedContextManager } from './untraced-context-manager';

/** True when the standard OTEL_* variables ask for traces to be exported. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER);
}

/**
 * Context propagation is always on (W3C traceparent passes from gRPC metadata through the outbox to Kafka even when
 * nothing is exported). The SDK — exporter, pg instrumentation — starts only when OTEL_* asks for it; it reads the
 * standard variables itself (endpoint, service name, sampler). Call before the database driver is loaded.
 */
export function startTelemetry(env: NodeJS.ProcessEnv): { shutdown(): Promise<void> } {
  if (!tracingRequested(env)) {
    context.setGlobalContextManager(new UntracedContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    return { shutdown: async () => undefined };
  }
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'billing-adapter',
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
