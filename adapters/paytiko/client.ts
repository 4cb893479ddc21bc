import { DomainError, unavailable } from '../../src/domain/errors';
import type { Clock } from '../../src/ports/clock.port';
import type { HttpTransport, ProviderHttpResponse } from '../../src/ports/http-transport.port';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { AmbiguousOutcome, ProviderUnavailable, relabel, scrubError } from '../kit/errors';
import { credentialsOf, PaytikoAuth } from './auth';
import { problemToError } from './mapping';
import { API_PREFIX, parsePaytikoJson, PROVIDER } from './wire';

/** One Paytiko API call. `route` is the path template under `/api/subscriptions/v1`, filled from `params`. */
export interface PaytikoRequest {
  /** Our operation (e.g. `createCheckout`): names the call in spans and errors. */
  operation: string;
  method: 'GET' | 'POST' | 'PUT';
  route: string;
  params?: Record<string, string>;
  body?: Record<string, unknown>;
  /** What a 404 means, e.g. `membership 'mmbrshp_…'`. */
  resource?: string;
  /**
   * Whether sending it again is harmless. Default true: reads, and creates Paytiko dedupes (customer by email,
   * membership by orderId). False (PUT membership) is sent once; an unknown outcome ends in AmbiguousOutcome.
   */
  replayable?: boolean;
}

export interface PaytikoClient {
  /** Calls Paytiko and answers the parsed 2xx body (undefined when empty). */
  call(ctx: ProviderCallContext, request: PaytikoRequest): Promise<unknown>;
}

/**
 * A client on the kit's transport (retries, timeouts, deadline, span, scrubbing live there): this file adds the
 * bearer token and Paytiko's error table. A 401 answer invalidates the token and sends the call once more with a
 * fresh one (a 401 means Paytiko did not act, so even a non-replayable call may go again); a second 401 ends it.
 */
export function createPaytikoClient(options: { transport: HttpTransport; clock: Clock; auth?: PaytikoAuth }) {
  const auth = options.auth ?? new PaytikoAuth(options.transport, options.clock);
  const client: PaytikoClient & { auth: PaytikoAuth } = {
    auth,
    async call(ctx, request) {
      const { baseUrl, password } = credentialsOf(ctx);
      const url = `${baseUrl}${API_PREFIX}${fill(request)}`;
      const name = `Paytiko ${request.operation}`;
      for (let attempt = 1; ; attempt += 1) {
        const token = await auth.token(ctx);
        const secrets = [token, password, ...Object.values(ctx.secrets)];
        const response = await options.transport
          .send({
            operation: request.operation,
            provider: PROVIDER,
            method: request.method,
            url,
            urlTemplate: `${API_PREFIX}${request.route}`,
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: request.method === 'GET' ? undefined : JSON.stringify(request.body ?? {}),
            replayable: request.replayable ?? true,
            secrets,
            authorize: () => ({ Authorization: `Bearer ${token}` }),
            signal: ctx.signal,
          })
          .catch((error: unknown) => {
            throw relabel(scrubError(error, secrets), `storefront '${ctx.storefrontId}': ${name}`);
          });
        if (response.status === 401) {
          auth.invalidate(ctx, token);
          if (attempt === 1) continue;
          throw unavailable(
            `storefront '${ctx.storefrontId}': Paytiko refused a fresh token for the binding's username/password on ${request.operation} (HTTP 401 twice)`,
          );
        }
        try {
          return interpret(request, response, name);
        } catch (error) {
          throw scrubError(error, secrets);
        }
      }
    },
  };
  return client;
}

function fill(request: PaytikoRequest): string {
  return request.route.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(request.params?.[key] ?? ''));
}

/** A 2xx body, parsed; a 4xx as our error (mapping's problem table); an unreadable 2xx as the transport would. */
function interpret(request: PaytikoRequest, response: ProviderHttpResponse, name: string): unknown {
  const { status, body } = response;
  const call = { provider: PROVIDER, operation: request.operation };
  if (status >= 200 && status < 300) {
    if (body.trim() === '') return undefined;
    try {
      return parsePaytikoJson(body);
    } catch {
      const message = `${name}: HTTP ${status} with a body that is not JSON`;
      throw request.replayable === false ? new AmbiguousOutcome(call, message) : new ProviderUnavailable(call, message);
    }
  }
  if (status === 403) {
    return fail(new ProviderUnavailable(call, `${name}: Paytiko refused the binding's credentials (HTTP 403)`));
  }
  if (status >= 400 && status < 500) return fail(problemToError(status, body, name, request.resource));
  return fail(new ProviderUnavailable(call, `${name}: unexpected HTTP ${status}`));
}

function fail(error: DomainError): never {
  throw error;
}
