import { context, propagation } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';

/** W3C trace context headers, as stored with an outbox row and sent with its Kafka message. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/**
 * The active trace context, or a fresh one when there is none (no caller trace and tracing off), so every event
 * carries a `traceparent` consumers can continue. A fresh one is not sampled: nothing of it was recorded here.
 */
export function traceHeadersOrFresh(): TraceHeaders {
  const carrier: { traceparent?: string; tracestate?: string } = {};
  propagation.inject(context.active(), carrier);
  if (carrier.traceparent) return { traceparent: carrier.traceparent, tracestate: carrier.tracestate };
  return { traceparent: freshTraceparent() };
}

/** `00-<trace id>-<parent id>-00`: random, non-zero ids (a zero id is invalid), flags unsampled. */
export function freshTraceparent(): string {
  return `00-${nonZeroHex(16)}-${nonZeroHex(8)}-00`;
}

function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (/[1-9a-f]/.test(hex)) return hex;
  }
}
