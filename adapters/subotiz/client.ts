import { createHash, createHmac } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { context, propagation, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DomainError, invalidArgument, unavailable } from '../../src/domain/errors';
import { scrubSecrets } from '../../src/domain/secret-scrub';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { parseSubotizJson, WireObject } from './wire';

/** Where a binding without `base_url` points. */
export const SUBOTIZ_SANDBOX_URL = 'https://api.sandbox.subotiz.com';

const tracer = trace.getTracer('billing-adapter/subotiz');

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
}

export interface SubotizClientOptions {
  fetch?: typeof fetch;
  /** Clock for Hub-Timestamp. */
  now?: () => number;
  attemptTimeoutMs?: number;
  /** Waits before the 2nd, 3rd … attempt; its length + 1 is the number of attempts. */
  backoffMs?: readonly number[];
}

/** Calls Subotiz and answers the envelope's `data` (undefined when a mutation answers with none). */
export interface SubotizClient {
  call(ctx: ProviderCallContext, request: SubotizRequest): Promise<unknown>;
}

/** The string Hub-Signature signs: `METHOD\nPATH+QUERY\nTIMESTAMP\nBODY\n` (BODY empty for GET). */
export function hubSignatureString(method: string, pathAndQuery: string, timestampMs: string, body: string): string {
  return `${method}\n${pathAndQuery}\n${timestampMs}\n${body}\n`;
}

/** Lower-case hex HMAC-SHA256 of the signature string with `access_secret`. */
export function hubSignature(accessSecret: string, signatureString: string): string {
  return createHmac('sha256', accessSecret).update(signatureString, 'utf8').digest('hex');
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

type Outcome = { ok: true; data: unknown } | { ok: false; retry: boolean; error: DomainError; detail: string };

interface Transport {
  fetch: typeof fetch;
  attemptTimeoutMs: number;
}

/** A client over global fetch: auth per binding, Request-Id, per-attempt timeout, bounded retries, one span per call. */
export function createSubotizClient(options: SubotizClientOptions = {}): SubotizClient {
  const transport: Transport = {
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    attemptTimeoutMs: options.attemptTimeoutMs ?? 10_000,
  };
  const now = options.now ?? Date.now;
  const backoffMs = options.backoffMs ?? [200, 800];

  return {
    async call(ctx, request) {
      const auth = authOf(ctx);
      const url = urlOf(ctx, request);
      const requestId = deriveRequestId(ctx.idempotencyKey, request.operation);
      const body = request.method === 'GET' ? '' : JSON.stringify(request.body ?? {});
      const span = tracer.startSpan(`subotiz ${request.method} ${request.route}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': request.method,
          'url.path': url.pathname,
          'server.address': url.hostname,
          'subotiz.request_id': requestId,
        },
      });
      return context.with(trace.setSpan(context.active(), span), async () => {
        try {
          for (let attempt = 1; ; attempt += 1) {
            const headers: Record<string, string> = {
              'Content-Type': 'application/json',
              Accept: 'application/json',
              'Request-Id': requestId,
              ...auth(request.method, url.pathname + url.search, body, now()),
            };
            propagation.inject(context.active(), headers);
            const outcome = await attemptOnce(transport, ctx, request, url, { headers, body }, span);
            if (outcome.ok) {
              span.setStatus({ code: SpanStatusCode.OK });
              return outcome.data;
            }
            if (!outcome.retry) throw outcome.error;
            const wait = backoffMs[attempt - 1];
            if (wait === undefined) {
              throw unavailable(
                `storefront '${ctx.storefrontId}': Subotiz ${request.operation} failed after ${attempt} attempts: ${outcome.detail}`,
                outcome.error,
              );
            }
            span.addEvent('retry', { attempt, reason: scrubSecrets(outcome.detail, Object.values(ctx.secrets)) });
            span.setAttribute('http.request.resend_count', attempt);
            await delay(wait, undefined, { signal: ctx.signal }).catch((error: unknown) => {
              throw callerGaveUp(ctx, request, error);
            });
          }
        } catch (error) {
          const clean = scrubError(error, Object.values(ctx.secrets));
          span.setStatus({ code: SpanStatusCode.ERROR, message: clean instanceof Error ? clean.message : 'error' });
          if (clean instanceof DomainError) span.setAttribute('error.type', clean.code);
          throw clean;
        } finally {
          span.end();
        }
      });
    },
  };
}

/** One HTTP exchange, bounded by the attempt timeout and the caller's signal. */
async function attemptOnce(
  transport: Transport,
  ctx: ProviderCallContext,
  request: SubotizRequest,
  url: URL,
  payload: { headers: Record<string, string>; body: string },
  span: Span,
): Promise<Outcome> {
  if (ctx.signal.aborted) throw callerGaveUp(ctx, request, ctx.signal.reason);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(transport.attemptTimeoutMs)]);
  let status: number;
  let text: string;
  try {
    const response = await transport.fetch(url, {
      method: request.method,
      headers: payload.headers,
      body: request.method === 'GET' ? undefined : payload.body,
      signal,
      // A redirect is not part of the API, and must not carry our credentials elsewhere.
      redirect: 'manual',
    });
    status = response.status;
    span.setAttribute('http.response.status_code', status);
    text = await response.text();
  } catch (error) {
    if (ctx.signal.aborted) throw callerGaveUp(ctx, request, error);
    const detail = signal.aborted
      ? `no answer within ${transport.attemptTimeoutMs} ms`
      : `connection failed (${connectionErrorCode(error)})`;
    return { ok: false, retry: true, detail, error: unavailable(`Subotiz ${request.operation}: ${detail}`, error) };
  }
  return interpret(ctx, request, status, text);
}

/** Auth headers for the binding's mode; a missing secret is our binding's fault, named but never shown. */
function authOf(
  ctx: ProviderCallContext,
): (method: string, pathAndQuery: string, body: string, nowMs: number) => Record<string, string> {
  const mode = ctx.config.auth_mode || 'bearer';
  if (mode === 'bearer') {
    const apiKey = requireSecret(ctx, 'api_key');
    return () => ({ Authorization: `Bearer ${apiKey}` });
  }
  if (mode === 'hub_signature') {
    const accessNo = requireSecret(ctx, 'access_no');
    const accessSecret = requireSecret(ctx, 'access_secret');
    return (method, pathAndQuery, body, nowMs) => {
      const timestamp = String(nowMs);
      return {
        'Hub-Access-No': accessNo,
        'Hub-Timestamp': timestamp,
        'Hub-Signature': hubSignature(accessSecret, hubSignatureString(method, pathAndQuery, timestamp, body)),
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

/**
 * The error as it may leave the adapter: provider and transport text (messages, violations, the cause's message)
 * with every secret of the binding removed, in any encoding a provider might echo it in.
 */
function scrubError(error: unknown, secrets: string[]): unknown {
  if (!(error instanceof DomainError)) {
    return error instanceof Error ? new Error(scrubSecrets(error.message, secrets)) : error;
  }
  const cause = error.cause instanceof Error ? new Error(scrubSecrets(error.cause.message, secrets)) : undefined;
  return new DomainError(
    error.code,
    scrubSecrets(error.message, secrets),
    error.violations.map((v) => ({ field: scrubSecrets(v.field, secrets), rule: scrubSecrets(v.rule, secrets) })),
    { cause },
  );
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

/** Reads one HTTP answer by the README's error table; 2xx with a code other than `success` is an error too. */
function interpret(ctx: ProviderCallContext, request: SubotizRequest, status: number, text: string): Outcome {
  const name = `Subotiz ${request.operation}`;
  let envelope: WireObject | undefined;
  try {
    const parsed = parseSubotizJson(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) envelope = parsed as WireObject;
  } catch {
    envelope = undefined;
  }
  const code = typeof envelope?.code === 'string' ? envelope.code : '';
  const success = status >= 200 && status < 300;
  if (success && code === 'success') return { ok: true, data: envelope?.data ?? undefined };

  const message = typeof envelope?.message === 'string' && envelope.message ? envelope.message : '';
  const detail = `HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  const fail = (error: DomainError, retry = false): Outcome => ({ ok: false, retry, error, detail });
  // A 2xx that is not success says what went wrong only in its code.
  const kind = success ? (CODE_KIND[code] ?? 'unexpected') : statusKind(status);

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
      return fail(unavailable(`${name} failed: ${detail}`), true);
    case 'unavailable':
      return fail(unavailable(`${name} failed: ${detail}`));
    default:
      return fail(unavailable(`${name}: unexpected answer (${detail})`));
  }
}

type FailureKind = 'invalid' | 'not_found' | 'state' | 'auth' | 'retry' | 'unavailable' | 'unexpected';

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
  // Throttled: the caller's arguments are fine, and retrying at once would only add load.
  if (status === 429) return 'unavailable';
  if (status >= 500) return 'retry';
  if (status >= 400) return 'invalid';
  return 'unexpected';
}

/** The caller's deadline or shutdown ended the call: no further attempt. */
function callerGaveUp(ctx: ProviderCallContext, request: SubotizRequest, cause: unknown): DomainError {
  return unavailable(
    `storefront '${ctx.storefrontId}': Subotiz ${request.operation} abandoned: the call was cancelled or its deadline passed`,
    cause,
  );
}

function connectionErrorCode(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message : 'unknown error';
}
