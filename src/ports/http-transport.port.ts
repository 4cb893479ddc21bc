/**
 * The HTTP transport every adapter's client sends through (implemented once in `adapters/kit/`, injected into each
 * provider module's `create(deps)`): auth hook per attempt, bounded retries with backoff, per-attempt timeout, the
 * caller's deadline, one span per call, secret scrubbing of error text.
 */
export interface ProviderHttpRequest {
  /** Our operation (e.g. `createCheckout`): names the call in spans, logs and error messages. */
  operation: string;
  /** Provider id, for spans and metrics. */
  provider: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** The path template (`/api/v1/subscription/{id}`), when the adapter has one: names the span (OTel `url.template`). */
  urlTemplate?: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * True when sending the request again cannot do its effect twice: reads, and writes the provider dedupes by an
   * idempotency key we send. False ones are sent once; a failure whose outcome is unknown (timeout after sending,
   * reset, 5xx) then ends in an ambiguous-outcome error the adapter resolves by asking the provider.
   */
  replayable: boolean;
  /** Secret values to scrub from any error text that leaves the transport. */
  secrets?: readonly string[];
  /** Headers computed before each attempt (signatures over a fresh timestamp, a bearer token). */
  authorize?: (attempt: {
    method: string;
    url: string;
    body: string;
  }) => Record<string, string> | Promise<Record<string, string>>;
  /** The caller's deadline / cancellation. */
  signal: AbortSignal;
}

export interface ProviderHttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

export interface HttpTransport {
  /**
   * Sends the request and answers the provider's response for any 2xx–4xx status (the adapter maps 4xx bodies to
   * our errors). Throws DomainError UNAVAILABLE when the provider cannot be reached or keeps failing, and the kit's
   * ambiguous-outcome error (also UNAVAILABLE) when a non-replayable request may or may not have taken effect.
   */
  send(request: ProviderHttpRequest): Promise<ProviderHttpResponse>;
}
