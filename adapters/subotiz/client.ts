import { createHash } from 'node:crypto';
import { DomainError, invalidArgument, unavailable } from '../../src/domain/errors';
import type { HttpTransport, ProviderHttpResponse } from '../../src/ports/http-transport.port';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { AmbiguousOutcome, ProviderUnavailable, relabel, scrubError } from '../kit/errors';
import { createHttpTransport } from '../kit/http-transport';
import { parseJson } from '../kit/json';
import { hmacSha256Hex } from '../kit/signatures';
import type { WireObject } from './wire';

/** Where a binding without `base_url` points. */
export const SUBOTIZ_SANDBOX_URL = 'https://api.sandbox.subotiz.com';

/** Our provider id, as spans and the kit's errors name it. */
const PROVIDER = 'subotiz';

/** One Subotiz API call. `route` is the path template (`/api/v1/subscription/{id}`), filled from `params`. */
export interface SubotizRequest {
  /** Our operation (e.g. `createCheckout`): names the call in errors and keys its Request-Id. */
  operation: string;
  method: 'GET' | 'POST';
  route: string;
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: Record<string, unknown>;
  /** What a 404 means, e.g. `subscription '123'`. */
  resource?: string;
  /**
   * Whether sending it again is harmless. Default true: reads, and POSTs Subotiz dedupes by Request-Id. False ones
   * (refunds) are sent once; an unknown outcome then ends in the kit's AmbiguousOutcome for the caller to resolve.
   */
  replayable?: boolean;
}

export interface SubotizClientOptions {
  /** The kit's transport; by default one over global fetch built from the options below. */
  transport?: HttpTransport;
  fetch?: typeof fetch;
  /** Clock for Hub-Timestamp. */
  now?: () => number;
  attemptTimeoutMs?: number;
  /** Waits before the 2nd, 3rd … attempt; its length + 1 is the number of attempts. */
  backoffMs?: readonly number[];
}

/** Calls Subotiz and answers the success body's `data` (undefined when a mutation answers with none). */
export interface SubotizClient {
  call(ctx: ProviderCallContext, request: SubotizRequest): Promise<unknown>;
}

/** The string Hub-Signature signs: `METHOD\nPATH+QUERY\nTIMESTAMP\nBODY\n` (BODY empty for GET). */
export function hubSignatureString(method: string, pathAndQuery: string, timestampMs: string, body: string): string {
  return `${method}\n${pathAndQuery}\n${timestampMs}\n${body}\n`;
}

/** Lower-case hex HMAC-SHA256 of the signature string with `access_secret`. */
export function hubSignature(accessSecret: string, signatureString: string): string {
  return hmacSha256Hex(accessSecret, signatureString);
}

/**
 * The Request-Id of one logical call: SHA-256 over `key:operation`, shaped as a UUID (version 8, RFC 9562), so every
 * retry of the call — ours or our caller's — carries the same id and Subotiz answers it with the first response.
 */
export function deriveRequestId(idempotencyKey: string, operation: string): string {
  const hex = createHash('sha256').update(`${idempotencyKey}:${operation}`, 'utf8').digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A client on the kit's transport (retries, timeouts, deadline, span, scrubbing live there): this file adds the
 * binding's auth, the Request-Id, and Subotiz's error table.
 */
export function createSubotizClient(options: SubotizClientOptions = {}): SubotizClient {
  const transport =
    options.transport ??
    createHttpTransport({
      fetch: options.fetch,
      attemptTimeoutMs: options.attemptTimeoutMs,
      backoffMs: options.backoffMs,
    });
  const now = options.now ?? Date.now;

  return {
    async call(ctx, request) {
      const authorize = authOf(ctx, now);
      const url = urlOf(ctx, request);
      const secrets = Object.values(ctx.secrets);
      const response = await transport
        .send({
          operation: request.operation,
          provider: PROVIDER,
          method: request.method,
          url: url.toString(),
          urlTemplate: request.route,
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'Request-Id': deriveRequestId(ctx.idempotencyKey, request.operation),
          },
          body: request.method === 'GET' ? undefined : JSON.stringify(request.body ?? {}),
          // Subotiz answers a repeated Request-Id with its first response, so by default sending again is harmless.
          replayable: request.replayable ?? true,
          secrets,
          authorize,
          signal: ctx.signal,
        })
        .catch((error: unknown) => {
          throw relabel(error, `storefront '${ctx.storefrontId}': Subotiz ${request.operation}`);
        });
      try {
        return interpret(ctx, request, response);
      } catch (error) {
        throw scrubError(error, secrets);
      }
    },
  };
}

type Authorize = (attempt: { method: string; url: string; body: string }) => Record<string, string>;

/** Auth headers for the binding's mode, fresh per attempt; a missing secret is our binding's fault, named not shown. */
function authOf(ctx: ProviderCallContext, now: () => number): Authorize {
  const mode = ctx.config.auth_mode || 'bearer';
  if (mode === 'bearer') {
    const apiKey = requireSecret(ctx, 'api_key');
    return () => ({ Authorization: `Bearer ${apiKey}` });
  }
  if (mode === 'hub_signature') {
    const accessNo = requireSecret(ctx, 'access_no');
    const accessSecret = requireSecret(ctx, 'access_secret');
    return ({ method, url, body }) => {
      const timestamp = String(now());
      const { pathname, search } = new URL(url);
      return {
        'Hub-Access-No': accessNo,
        'Hub-Timestamp': timestamp,
        'Hub-Signature': hubSignature(accessSecret, hubSignatureString(method, pathname + search, timestamp, body)),
      };
    };
  }
  throw unavailable(`storefront '${ctx.storefrontId}': Subotiz binding has an unknown auth_mode '${mode}'`);
}

function requireSecret(ctx: ProviderCallContext, name: string): string {
  const value = ctx.secrets[name];
  if (!value) throw unavailable(`storefront '${ctx.storefrontId}': Subotiz binding lacks secret '${name}'`);
  // A header cannot carry it, and the transport's complaint would quote it: refuse before any request is built.
  if (!/^[\x20-\x7e]+$/.test(value)) {
    throw unavailable(
      `storefront '${ctx.storefrontId}': secret '${name}' holds characters an HTTP header cannot carry`,
    );
  }
  return value;
}

function urlOf(ctx: ProviderCallContext, request: SubotizRequest): URL {
  const path = request.route.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = request.params?.[key];
    if (!value) throw invalidArgument([{ field: key, rule: `is required to call Subotiz ${request.operation}` }]);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined && value !== '') query.set(key, String(value));
  }
  const search = query.toString();
  const base = (ctx.config.base_url || SUBOTIZ_SANDBOX_URL).replace(/\/+$/, '');
  return new URL(`${base}${path}${search ? `?${search}` : ''}`);
}

/** Keys of Subotiz's `{code, message, data}` wrapper; a body with any other key is the object itself. */
const ENVELOPE_KEYS = new Set(['code', 'message', 'data', 'trace_id']);

/** The body as `{code, message, data}` when it is Subotiz's wrapper, else undefined. */
function envelopeOf(parsed: unknown): WireObject | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const body = parsed as WireObject;
  if (typeof body.code !== 'string') return undefined;
  return Object.keys(body).every((key) => ENVELOPE_KEYS.has(key)) ? body : undefined;
}

/**
 * Reads one HTTP answer by the README's error table. A success body is read whether or not it is wrapped in
 * `{code, data}` (the document shows both: README, Envelopes); a wrapped 2xx with a code other than `success` is an
 * error too.
 */
function interpret(ctx: ProviderCallContext, request: SubotizRequest, response: ProviderHttpResponse): unknown {
  const { status, body: text } = response;
  const name = `Subotiz ${request.operation}`;
  const success = status >= 200 && status < 300;
  let parsed: unknown;
  let readable = true;
  try {
    parsed = text.trim() === '' ? undefined : parseJson(text);
  } catch {
    readable = false;
  }
  const envelope = envelopeOf(parsed);
  const code = typeof envelope?.code === 'string' ? envelope.code : '';
  if (success && readable && (!envelope || code === 'success')) return envelope ? (envelope.data ?? undefined) : parsed;

  const message = typeof envelope?.message === 'string' && envelope.message ? envelope.message : '';
  const detail = `HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  // A 2xx that is not success says what went wrong only in its code.
  const kind = success ? (readable ? (CODE_KIND[code] ?? 'unexpected') : 'unreadable') : statusKind(status);
  const call = { provider: PROVIDER, operation: request.operation };

  switch (kind) {
    case 'invalid': {
      // Subotiz names the field first ("order_id: is required") where it can; that field travels as the violation's.
      const said = message || detail;
      const field = /^([A-Za-z_][\w.[\]]*):\s*(.+)$/s.exec(said);
      const violation = field ? { field: field[1]!, rule: field[2]! } : { field: 'provider', rule: said };
      return fail(new DomainError('INVALID_ARGUMENT', `${name} refused: ${said}`, [violation]));
    }
    case 'not_found':
      return fail(
        new DomainError(
          'NOT_FOUND',
          request.resource ? `Subotiz ${request.resource} not found` : `${name}: ${message || 'not found'}`,
        ),
      );
    case 'state':
      return fail(new DomainError('FAILED_PRECONDITION', `${name} refused: ${message || detail}`));
    case 'auth':
      return fail(
        unavailable(
          `storefront '${ctx.storefrontId}': Subotiz rejected the binding's credentials on ${request.operation} (${detail})`,
        ),
      );
    case 'retry':
      // Subotiz failed inside: for a request it does not dedupe, whether it acted is unknown.
      return fail(
        request.replayable === false
          ? new AmbiguousOutcome(call, `${name}: ${detail}; the request may or may not have taken effect`)
          : new ProviderUnavailable(call, `${name} failed: ${detail}`),
      );
    case 'unreadable':
      // It did act (2xx), but what it answered cannot be read.
      return fail(
        request.replayable === false
          ? new AmbiguousOutcome(call, `${name}: HTTP ${status} with a body that is not JSON`)
          : new ProviderUnavailable(call, `${name}: HTTP ${status} with a body that is not JSON`),
      );
    case 'unavailable':
      return fail(new ProviderUnavailable(call, `${name} failed: ${detail}`));
    default:
      return fail(new ProviderUnavailable(call, `${name}: unexpected answer (${detail})`));
  }
}

function fail(error: DomainError): never {
  throw error;
}

type FailureKind = 'invalid' | 'not_found' | 'state' | 'auth' | 'retry' | 'unavailable' | 'unreadable' | 'unexpected';

const CODE_KIND: Record<string, FailureKind> = {
  invalidParameter: 'invalid',
  notFound: 'not_found',
  invalidState: 'state',
  unauthorizedError: 'auth',
  internalError: 'retry',
  serviceUnavailable: 'retry',
};

function statusKind(status: number): FailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 409) return 'state';
  // Throttled past the transport's retries: the caller's arguments are fine; it may try again later.
  if (status === 429) return 'unavailable';
  if (status >= 500) return 'retry';
  if (status >= 400) return 'invalid';
  return 'unexpected';
}
