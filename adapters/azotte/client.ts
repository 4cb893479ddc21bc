import { DomainError } from '../../src/domain/errors';
import type { HttpTransport, ProviderHttpResponse } from '../../src/ports/http-transport.port';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { AmbiguousOutcome, ProviderUnavailable, relabel, scrubError } from '../kit/errors';
import { CallSubject, errorFromEnvelope, isOkCode, MESSAGE_CODES, quotedMessageCode } from './errors';
import { asObject, optStr, parseJson } from '../kit/json';
import { API_PREFIX, baseUrlOf, PROVIDER, requiredConfig, WireObject } from './wire';

/** One C2A call. `route` is the path under `/api/v1/c2a`, its `{name}`s filled from `params`. */
export interface AzotteRequest {
  /** Our operation (e.g. `createCheckout`): names the call in spans and errors. */
  operation: string;
  method: 'GET' | 'POST';
  route: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
  /** What the call is about, for the messages of README 12. */
  subject?: Omit<CallSubject, 'storefrontId' | 'operation' | 'tenant'>;
  /** messageCodes this call reads as answers besides the OK ones (CUSTOMER_ALREADY_STORED on store, …). */
  accept?: readonly string[];
}

/** An envelope Azotte answered with an OK (or accepted) messageCode. */
export interface AzotteAnswer {
  messageCode: string;
  body: WireObject;
  /** `Retry-After` in seconds, when Azotte asked to be polled again later. */
  retryAfterSeconds?: number;
}

export interface AzotteClient {
  call(ctx: ProviderCallContext, request: AzotteRequest): Promise<AzotteAnswer>;
}

/**
 * A client on the kit's transport (retries, timeouts, deadline, span, scrubbing live there): this file adds the
 * x-api-key / x-tn headers and reads the envelope through the messageCode table (errors.ts). Every C2A call we make
 * is replayable (README 9): reads, and writes Azotte dedupes or that set a state.
 */
export function createAzotteClient(transport: HttpTransport): AzotteClient {
  return {
    async call(ctx, request) {
      const apiKey = ctx.secrets.api_key;
      const tenant = requiredConfig(ctx, 'tenant');
      const subject: CallSubject = {
        storefrontId: ctx.storefrontId,
        operation: request.operation,
        tenant,
        ...request.subject,
      };
      if (!apiKey) {
        throw new DomainError(
          'FAILED_PRECONDITION',
          `storefront '${ctx.storefrontId}': the Azotte binding has no api_key`,
        );
      }
      const secrets = Object.values(ctx.secrets).filter((s) => s !== '');
      const headers: Record<string, string> = { Accept: 'application/json', 'x-tn': tenant };
      if (request.method !== 'GET') headers['Content-Type'] = 'application/json';
      const response = await transport
        .send({
          operation: request.operation,
          provider: PROVIDER,
          method: request.method,
          url: `${baseUrlOf(ctx)}${API_PREFIX}${fill(request)}`,
          urlTemplate: `${API_PREFIX}${request.route}`,
          headers,
          body: request.method === 'GET' ? undefined : JSON.stringify(request.body ?? {}),
          replayable: true,
          secrets,
          // The key is added per attempt, so it never sits in the request's plain headers (spans, logs).
          authorize: () => ({ 'x-api-key': apiKey }),
          signal: ctx.signal,
        })
        .catch((error: unknown) => {
          throw failedCall(scrubError(error, secrets), subject);
        });
      try {
        return interpret(request, response, subject);
      } catch (error) {
        throw scrubError(error, secrets);
      }
    },
  };
}

function fill(request: AzotteRequest): string {
  const path = request.route.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(request.params?.[key] ?? ''));
  const query = new URLSearchParams(request.query ?? {}).toString();
  return query ? `${path}?${query}` : path;
}

/** The transport's UNAVAILABLE, in our words: a 5xx envelope's messageCode (README 12) named where it quoted one. */
function failedCall(error: unknown, subject: CallSubject): unknown {
  const labelled = relabel(error, `storefront '${subject.storefrontId}': Azotte ${subject.operation}`);
  if (!(labelled instanceof ProviderUnavailable) && !(labelled instanceof AmbiguousOutcome)) return labelled;
  const code = quotedMessageCode(labelled.message);
  const rule = code && Object.hasOwn(MESSAGE_CODES, code) ? MESSAGE_CODES[code] : undefined;
  if (!rule?.message || rule.outcome !== 'UNAVAILABLE') return labelled;
  const Kind = labelled instanceof AmbiguousOutcome ? AmbiguousOutcome : ProviderUnavailable;
  return new Kind(labelled, `${rule.message(subject)} (${labelled.message})`, { cause: labelled.cause });
}

function interpret(request: AzotteRequest, response: ProviderHttpResponse, subject: CallSubject): AzotteAnswer {
  const { status: http, body: text } = response;
  const call = { provider: PROVIDER, operation: request.operation };
  const where = `storefront '${subject.storefrontId}'`;
  if (http === 401) {
    throw new ProviderUnavailable(
      call,
      `${where}: Azotte refused the binding's api_key / tenant (HTTP 401 on ${request.operation})`,
    );
  }
  const unreadable = (field: string) =>
    new ProviderUnavailable(
      call,
      `${where}: Azotte ${request.operation}: Azotte answered an unreadable ${field} (HTTP ${http})`,
    );
  let body: WireObject;
  let messageCode: string | undefined;
  try {
    body = asObject(parseJson(text), 'body');
    messageCode = optStr(asObject(body.status, 'status'), 'messageCode', 'status');
  } catch {
    if (http >= 200 && http < 300) throw unreadable('body');
    throw new ProviderUnavailable(
      call,
      `${where}: Azotte ${request.operation} answered HTTP ${http} without an envelope`,
    );
  }
  if (!messageCode) throw unreadable('status.messageCode');
  if (isOkCode(messageCode) || request.accept?.includes(messageCode)) {
    if (http >= 200 && http < 300) return { messageCode, body, retryAfterSeconds: retryAfter(response.headers) };
    if (request.accept?.includes(messageCode)) return { messageCode, body };
  }
  throw errorFromEnvelope(body, http, subject);
}

function retryAfter(headers: Record<string, string>): number | undefined {
  const value = headers['retry-after'];
  return value && /^\d{1,6}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}
