import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DomainError } from '../../src/domain/errors';
import { scrubSecrets } from '../../src/domain/secret-scrub';
import type { HttpTransport, ProviderHttpRequest, ProviderHttpResponse } from '../../src/ports/http-transport.port';
import { BodyTooLarge, readBoundedText } from './bounded-body';
import { AmbiguousOutcome, ProviderCallName, ProviderUnavailable, scrubError } from './errors';
import { jittered, retryAfterMs } from './retry-timing';

export interface HttpTransportOptions {
  /** Injectable for unit tests; global fetch otherwise. */
  fetch?: typeof fetch;
  /** How long one attempt may take, answer body included (default 10 s). */
  attemptTimeoutMs?: number;
  /** Waits before the 2nd, 3rd … attempt (jittered); its length + 1 is the number of attempts. Default [200, 800]. */
  backoffMs?: readonly number[];
  /** Clock for `Retry-After` dates. */
  now?: () => number;
  /** A `Retry-After` longer than this ends the call at once instead of holding the caller (default 20 s). */
  maxRetryAfterMs?: number;
  /** Answers larger than this are refused unread (default 4 MiB). */
  maxResponseBytes?: number;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

type Settings = Required<HttpTransportOptions>;

/** Span attribute: how many attempts the call took (1 when the first answered). */
export const ATTEMPTS_ATTRIBUTE = 'billing.provider.attempts';

const tracer = trace.getTracer('billing-adapter/adapter-kit');

/** What one attempt came to: an answer the adapter maps, or a failure the retry loop weighs. */
type Attempt =
  | { kind: 'answered'; response: ProviderHttpResponse }
  | {
      kind: 'failed';
      detail: string;
      /** The provider may have acted on the request (it was sent, and no answer said it was refused). */
      mayHaveTakenEffect: boolean;
      /** Another attempt could go differently. */
      retryable: boolean;
      retryAfterMs?: number;
      cause?: unknown;
    };

/** Connection errors raised before any byte of the request left: sending again cannot do anything twice. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The kit's transport over fetch (see `HttpTransport`): one span per call, retries only where they are safe. */
export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const settings: Settings = {
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    attemptTimeoutMs: options.attemptTimeoutMs ?? 10_000,
    backoffMs: options.backoffMs ?? [200, 800],
    now: options.now ?? Date.now,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 20_000,
    maxResponseBytes: options.maxResponseBytes ?? 4 * 1024 * 1024,
    random: options.random ?? Math.random,
  };
  return { send: (request) => sendInSpan(settings, request) };
}

async function sendInSpan(settings: Settings, request: ProviderHttpRequest): Promise<ProviderHttpResponse> {
  const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
  // OTel's HTTP client name (`{method} {url.template}`) where the adapter gives a template, under the provider's id.
  const spanName = request.urlTemplate
    ? `${request.provider} ${request.method} ${request.urlTemplate}`
    : `${request.provider} ${request.operation}`;
  const span = tracer.startSpan(spanName, {
    kind: SpanKind.CLIENT,
    attributes: {
      'billing.provider': request.provider,
      'billing.operation': request.operation,
      'http.request.method': request.method,
      ...(url && { 'server.address': url.hostname, 'url.path': url.pathname }),
      ...(request.urlTemplate && { 'url.template': request.urlTemplate }),
    },
  });
  return context.with(trace.setSpan(context.active(), span), async () => {
    try {
      if (!url) throw new ProviderUnavailable(request, `${label(request)}: the provider URL is not a valid URL`);
      const response = await sendWithRetries(settings, request, span);
      span.setStatus({ code: SpanStatusCode.OK });
      return response;
    } catch (error) {
      const clean = scrubError(error, request.secrets ?? []);
      span.setStatus({ code: SpanStatusCode.ERROR, message: clean instanceof Error ? clean.message : 'error' });
      span.setAttribute('error.type', clean instanceof Error ? clean.name : 'unknown');
      throw clean;
    } finally {
      span.end();
    }
  });
}

async function sendWithRetries(
  settings: Settings,
  request: ProviderHttpRequest,
  span: Span,
): Promise<ProviderHttpResponse> {
  const name = label(request);
  const attempts = settings.backoffMs.length + 1;
  for (let attempt = 1; ; attempt += 1) {
    span.setAttribute(ATTEMPTS_ATTRIBUTE, attempt);
    if (attempt > 1) span.setAttribute('http.request.resend_count', attempt - 1);
    if (request.signal.aborted) throw abandoned(request, false, request.signal.reason);
    const outcome = await attemptOnce(settings, request, span);
    if (outcome.kind === 'answered') return outcome.response;

    const { detail, cause } = outcome;
    if (outcome.mayHaveTakenEffect && !request.replayable) {
      throw new AmbiguousOutcome(request, `${name}: ${detail}; the request may or may not have taken effect`, {
        cause,
      });
    }
    if (!outcome.retryable) throw new ProviderUnavailable(request, `${name} failed: ${detail}`, { cause });
    if (attempt >= attempts) {
      throw new ProviderUnavailable(
        request,
        `${name} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${detail}`,
        { cause },
      );
    }
    if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > settings.maxRetryAfterMs) {
      throw new ProviderUnavailable(
        request,
        `${name} failed: ${detail}, and the provider asks to be called again in ${Math.ceil(outcome.retryAfterMs / 1000)} s`,
        { cause },
      );
    }
    const wait = outcome.retryAfterMs ?? jittered(settings.backoffMs[attempt - 1]!, settings.random);
    span.addEvent('retry', { attempt, wait_ms: wait, reason: scrubSecrets(detail, request.secrets ?? []) });
    await sleep(wait, undefined, { signal: request.signal }).catch((error: unknown) => {
      throw abandoned(request, false, error);
    });
  }
}

/** One HTTP exchange, answer body included, bounded by the attempt timeout and the caller's signal. */
async function attemptOnce(settings: Settings, request: ProviderHttpRequest, span: Span): Promise<Attempt> {
  const body = request.body ?? '';
  const auth = await authorize(request, body);
  const headers: Record<string, string> = { ...request.headers, ...auth };
  propagation.inject(context.active(), headers);

  const attempt = new AbortController();
  const timer = setTimeout(() => attempt.abort(new Error('attempt timed out')), settings.attemptTimeoutMs);
  const callerGaveUp = () => attempt.abort(request.signal.reason);
  request.signal.addEventListener('abort', callerGaveUp, { once: true });
  // The auth hook may have awaited past the caller's abort, whose event has then already fired.
  if (request.signal.aborted) callerGaveUp();
  let status: number | undefined;
  try {
    const response = await settings.fetch(request.url, {
      method: request.method,
      headers,
      body: request.body,
      signal: attempt.signal,
      // A redirect is not part of any provider API we call, and must not carry our credentials elsewhere.
      redirect: 'manual',
    });
    status = response.status;
    span.setAttribute('http.response.status_code', status);
    const text = await readBoundedText(response, settings.maxResponseBytes);
    return judge(settings, request, response, text);
  } catch (error) {
    // Sent and then cut off by the caller: for a non-replayable request nobody knows what the provider did.
    if (request.signal.aborted) throw abandoned(request, !request.replayable, error);
    return failedAttempt(settings, error, status, attempt.signal.aborted);
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener('abort', callerGaveUp);
  }
}

/** The auth hook's headers; its failure (a token endpoint down, say) ends the call before anything is sent. */
async function authorize(request: ProviderHttpRequest, body: string): Promise<Record<string, string>> {
  if (!request.authorize) return {};
  try {
    return await request.authorize({ method: request.method, url: request.url, body });
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const reason = typeof (error as { message?: unknown })?.message === 'string' ? (error as Error).message : 'error';
    throw new ProviderUnavailable(request, `${label(request)}: could not authorize the request: ${reason}`, {
      cause: error,
    });
  }
}

/** An answer is returned for the adapter to map, except throttling (429) and provider failures (5xx). */
function judge(settings: Settings, request: ProviderHttpRequest, response: Response, text: string): Attempt {
  const status = response.status;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key.toLowerCase()] = value));
  if (status >= 200 && status < 500 && status !== 429 && !(status >= 300 && status < 400)) {
    return { kind: 'answered', response: { status, headers, body: text } };
  }
  const said = excerpt(text, request.secrets ?? []);
  const detail = `HTTP ${status}${said ? `: ${said}` : ''}`;
  if (status === 429) {
    // The provider refused the request without acting on it: safe to send again, whatever the request.
    const after = retryAfterMs(headers['retry-after'], settings.now());
    return { kind: 'failed', detail, mayHaveTakenEffect: false, retryable: true, retryAfterMs: after };
  }
  if (status >= 500) {
    const after = status === 503 ? retryAfterMs(headers['retry-after'], settings.now()) : undefined;
    return { kind: 'failed', detail, mayHaveTakenEffect: true, retryable: true, retryAfterMs: after };
  }
  return { kind: 'failed', detail: `unexpected HTTP ${status}`, mayHaveTakenEffect: false, retryable: false };
}

/**
 * What a failing answer said, for on-call: secrets scrubbed first (so the cut cannot leave half of one), then one
 * line of printable text, at most 200 characters.
 */
function excerpt(body: string, secrets: readonly string[]): string {
  const line = scrubSecrets(body, secrets)
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** A request that got no (whole) answer: cut off by our attempt timeout, a connection failure, or an oversize body. */
function failedAttempt(settings: Settings, error: unknown, status: number | undefined, timedOut: boolean): Attempt {
  if (error instanceof BodyTooLarge) {
    return { kind: 'failed', detail: `HTTP ${status}, ${error.message}`, mayHaveTakenEffect: true, retryable: false };
  }
  const code = errorCode(error);
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  if (status === undefined && !code && name === 'TypeError' && message !== 'fetch failed') {
    // fetch refused to build the request (a header it cannot carry): nothing left, and nothing would next time.
    return {
      kind: 'failed',
      detail: 'the request could not be sent',
      mayHaveTakenEffect: false,
      retryable: false,
      cause: error,
    };
  }
  const cut = timedOut
    ? `no answer within ${settings.attemptTimeoutMs} ms`
    : `connection failed (${code ?? 'unknown'})`;
  const detail = status === undefined ? cut : `HTTP ${status}, then the answer was cut off: ${cut}`;
  const sent = status !== undefined || timedOut || !code || !NOT_SENT.has(code);
  return { kind: 'failed', detail, mayHaveTakenEffect: sent, retryable: true, cause: error };
}

/** The caller's deadline or cancellation ended the call; `inFlight` when a non-replayable request was under way. */
function abandoned(call: ProviderCallName, inFlight: boolean, cause: unknown): Error {
  const message = `${label(call)} abandoned: the call was cancelled or its deadline passed`;
  if (inFlight) return new AmbiguousOutcome(call, `${message} while the request was in flight`, { cause });
  return new ProviderUnavailable(call, message, { cause });
}

function label(call: ProviderCallName): string {
  return `${call.provider} ${call.operation}`;
}

/**
 * The system error code (`ECONNRESET`) somewhere in fetch's cause chain. Read by shape, not `instanceof`: fetch's
 * errors may come from another realm (test sandboxes), where our `Error` is not theirs.
 */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, cause, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string') return code;
    current = cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return undefined;
}
