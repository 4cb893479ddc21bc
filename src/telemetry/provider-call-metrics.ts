import type { Histogram } from 'prom-client';

/** What labels a provider call: structural, so telemetry (a leaf) needs no port. */
export interface MeteredProviderCall {
  provider: string;
  operation: string;
}

/**
 * How a provider call ended: `ok` (2xx/3xx), `rejected` (the provider answered 4xx: our request or its business
 * rule, not an outage), `failed` (no usable answer after the transport's retries: unreachable, 5xx, timeout, aborted).
 */
type ProviderCallOutcome = 'ok' | 'rejected' | 'failed';

/**
 * Wraps a transport's `send` so every call is timed into `histogram` by provider, operation and outcome. The time is
 * the whole call as its caller waits for it, retries and backoff included.
 */
export function meterProviderCalls<Req extends MeteredProviderCall, Res extends { status: number }>(
  histogram: Histogram<'provider' | 'operation' | 'outcome'>,
  send: (request: Req) => Promise<Res>,
): (request: Req) => Promise<Res> {
  return async (request) => {
    const timer = histogram.startTimer({ provider: request.provider, operation: request.operation });
    const stop = (outcome: ProviderCallOutcome) => timer({ outcome });
    try {
      const response = await send(request);
      stop(response.status < 400 ? 'ok' : 'rejected');
      return response;
    } catch (error) {
      stop('failed');
      throw error;
    }
  };
}
