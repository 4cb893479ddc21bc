import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AmbiguousOutcome, ProviderUnavailable } from '../../adapters/kit/errors';
import { ATTEMPTS_ATTRIBUTE, createHttpTransport, HttpTransportOptions } from '../../adapters/kit/http-transport';
import { DomainError } from '../../src/domain/errors';
import type { ProviderHttpRequest } from '../../src/ports/http-transport.port';
import { inMemoryTracing } from '../support/tracing';

const spans = inMemoryTracing();

// A real HTTP server that answers each request by the next step of a script and records what it received.

type Step =
  | { status: number; headers?: Record<string, string>; body?: string }
  | 'hang' // reads the request, never answers
  | 'reset' // reads the request, then drops the connection
  | 'half'; // sends headers and part of the body, then never finishes

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let script: Step[] = [];
let received: Received[] = [];

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
  const step = script.shift() ?? { status: 500, body: 'script ran out' };
  if (step === 'hang') return;
  if (step === 'reset') {
    req.socket.destroy();
    return;
  }
  if (step === 'half') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"partial":');
    return;
  }
  res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
  res.end(step.body ?? '');
}

// A fresh server (a fresh port, so a fresh client connection pool) per test: no test inherits a socket that an
// earlier test's hang or reset left behind.
beforeEach(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  script = [];
  received = [];
  spans.reset();
});

/** Small waits: attempts end on the server's answers, not on the clock. */
const fast: HttpTransportOptions = { backoffMs: [1, 1], attemptTimeoutMs: 500 };

function request(over: Partial<ProviderHttpRequest> = {}): ProviderHttpRequest {
  return {
    operation: 'getThing',
    provider: 'acme',
    method: 'GET',
    url: `${base}/v1/things/42?expand=all`,
    replayable: true,
    signal: new AbortController().signal,
    ...over,
  };
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('kit HTTP transport: answers', () => {
  it('sends method, headers, body and auth, and answers status, lower-case headers and body', async () => {
    script = [{ status: 201, headers: { 'X-Request-Trace': 't-1' }, body: '{"id":"42"}' }];
    const transport = createHttpTransport(fast);
    const response = await transport.send(
      request({
        method: 'POST',
        body: '{"a":1}',
        headers: { 'Content-Type': 'application/json' },
        authorize: ({ method, url, body }) => ({ 'X-Signed': `${method} ${new URL(url).pathname} ${body}` }),
      }),
    );
    expect(response).toMatchObject({ status: 201, body: '{"id":"42"}', headers: { 'x-request-trace': 't-1' } });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/v1/things/42?expand=all', body: '{"a":1}' });
    expect(received[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-signed': 'POST /v1/things/42 {"a":1}',
    });
  });

  it.each([400, 401, 404, 409, 422])('returns a %s answer to the adapter without retrying', async (status) => {
    script = [{ status, body: '{"code":"nope"}' }];
    const response = await createHttpTransport(fast).send(request());
    expect(response).toMatchObject({ status, body: '{"code":"nope"}' });
    expect(received).toHaveLength(1);
  });

  it('does not follow a redirect (it would carry our credentials elsewhere)', async () => {
    script = [{ status: 302, headers: { location: 'http://elsewhere.test/steal' } }];
    const error = await failure(createHttpTransport(fast).send(request()));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toBe('acme getThing failed: unexpected HTTP 302');
    expect(received).toHaveLength(1);
  });

  it('refuses an answer larger than the bound', async () => {
    script = [{ status: 200, body: JSON.stringify({ blob: 'x'.repeat(5000) }) }];
    const error = await failure(createHttpTransport({ ...fast, maxResponseBytes: 1000 }).send(request()));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toMatch(/larger than 1000 bytes/);
    expect(received).toHaveLength(1);
  });
});

describe('kit HTTP transport: retries of replayable requests', () => {
  it('retries 5xx, a timeout and a reset, calling the auth hook before every attempt', async () => {
    script = [{ status: 500 }, 'hang', 'reset', { status: 503 }, { status: 200, body: 'ok' }];
    let authorized = 0;
    const transport = createHttpTransport({ backoffMs: [1, 1, 1, 1], attemptTimeoutMs: 1500 });
    const response = await transport.send(
      request({ method: 'POST', body: '{}', authorize: () => ({ 'X-Attempt': String(++authorized) }) }),
    );
    expect(response.body).toBe('ok');
    expect(received.map((r) => r.headers['x-attempt'])).toEqual(['1', '2', '3', '4', '5']);
    expect(authorized).toBe(5);
  });

  it('gives up after its attempts with ProviderUnavailable naming provider, operation and the last failure', async () => {
    script = [{ status: 502 }, { status: 500 }, { status: 504 }];
    const error = await failure(createHttpTransport(fast).send(request()));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error).not.toBeInstanceOf(AmbiguousOutcome);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe('acme getThing failed after 3 attempts: HTTP 504');
    expect(received).toHaveLength(3);
  });

  it('retries a body cut off mid-answer', async () => {
    script = ['half', { status: 200, body: '{"whole":true}' }];
    const response = await createHttpTransport({ backoffMs: [1], attemptTimeoutMs: 1500 }).send(request());
    expect(response.body).toBe('{"whole":true}');
    expect(received).toHaveLength(2);
  });
});

describe('kit HTTP transport: throttling', () => {
  it('retries a 429 even for a non-replayable request: the provider refused it unread', async () => {
    script = [
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 201, body: 'made' },
    ];
    const response = await createHttpTransport(fast).send(request({ method: 'POST', replayable: false }));
    expect(response).toMatchObject({ status: 201, body: 'made' });
    expect(received).toHaveLength(2);
  });

  it('waits as long as Retry-After (an HTTP date) says, not its own backoff', async () => {
    const at = Date.UTC(2030, 0, 1, 12, 0, 10);
    script = [{ status: 503, headers: { 'retry-after': new Date(at).toUTCString() } }, { status: 200 }];
    const transport = createHttpTransport({ backoffMs: [60_000], attemptTimeoutMs: 500, now: () => at - 30 });
    await transport.send(request());
    const retry = spans.getFinishedSpans()[0]?.events.find((event) => event.name === 'retry');
    expect(retry?.attributes?.wait_ms).toBe(30);
    expect(received).toHaveLength(2);
  });

  it('ends at once when Retry-After is beyond what it may wait', async () => {
    script = [{ status: 429, headers: { 'retry-after': '3600' } }];
    const error = await failure(createHttpTransport({ ...fast, maxRetryAfterMs: 5000 }).send(request()));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toBe('acme getThing failed: HTTP 429, and the provider asks to be called again in 3600 s');
    expect(received).toHaveLength(1);
  });
});

describe('kit HTTP transport: non-replayable requests', () => {
  const refund = () => request({ operation: 'refund', method: 'POST', body: '{"amount":"1.00"}', replayable: false });

  it.each<[string, Step]>([
    ['times out after sending', 'hang'],
    ['is reset mid-flight', 'reset'],
    ['gets a 502', { status: 502 }],
    ['gets a 503 with Retry-After', { status: 503, headers: { 'retry-after': '0' } }],
  ])('is sent once and ends in AmbiguousOutcome when it %s', async (_, step) => {
    script = [step, { status: 201 }];
    const error = await failure(createHttpTransport({ ...fast, attemptTimeoutMs: 1500 }).send(refund()));
    expect(error).toBeInstanceOf(AmbiguousOutcome);
    expect(error.code).toBe('UNAVAILABLE');
    expect((error as AmbiguousOutcome).operation).toBe('refund');
    expect((error as AmbiguousOutcome).provider).toBe('acme');
    expect(error.message).toMatch(/^acme refund: .*may or may not have taken effect$/);
    expect(received).toHaveLength(1);
  });

  it('is retried when the connection was refused (nothing was sent)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    let attempts = 0;
    const error = await failure(
      createHttpTransport(fast).send({
        ...refund(),
        url: `http://127.0.0.1:${port}/refund`,
        authorize: () => ({ 'X-Attempt': String(++attempts) }),
      }),
    );
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toBe('acme refund failed after 3 attempts: connection failed (ECONNREFUSED)');
    expect(attempts).toBe(3);
  });
});

describe("kit HTTP transport: the caller's deadline", () => {
  it('stops when the caller gives up mid-attempt, and sends nothing more', async () => {
    script = ['hang', { status: 200 }];
    const error = await failure(
      createHttpTransport({ backoffMs: [1], attemptTimeoutMs: 60_000 }).send(
        request({ signal: AbortSignal.timeout(1000) }),
      ),
    );
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toBe('acme getThing abandoned: the call was cancelled or its deadline passed');
    expect(received).toHaveLength(1);
  });

  it('stops waiting out a Retry-After when the deadline passes', async () => {
    script = [{ status: 429, headers: { 'retry-after': '15' } }, { status: 200 }];
    const error = await failure(createHttpTransport(fast).send(request({ signal: AbortSignal.timeout(1000) })));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toMatch(/abandoned/);
    expect(received).toHaveLength(1);
  });

  it('calls a non-replayable request cut off by the deadline ambiguous', async () => {
    script = ['hang'];
    const error = await failure(
      createHttpTransport({ attemptTimeoutMs: 60_000 }).send(
        request({ method: 'POST', replayable: false, signal: AbortSignal.timeout(1000) }),
      ),
    );
    expect(error).toBeInstanceOf(AmbiguousOutcome);
    expect(error.message).toMatch(/abandoned.*in flight/);
    expect(received).toHaveLength(1);
  });

  it('sends nothing for a call already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(createHttpTransport(fast).send(request({ signal: controller.signal })));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(received).toHaveLength(0);
  });
});

describe('kit HTTP transport: secrets', () => {
  const secret = 'sk_live_VERY_SECRET_value';

  it('scrubs secrets from the error, its cause and the span, in any encoding', async () => {
    const transport = createHttpTransport(fast);
    const error = await failure(
      transport.send(
        request({
          secrets: [secret],
          authorize: () => {
            throw new Error(`token endpoint refused ${secret} (${Buffer.from(secret).toString('base64')})`);
          },
        }),
      ),
    );
    const seen = [error.message, (error.cause as Error | undefined)?.message, spans.getFinishedSpans()[0]?.status];
    expect(JSON.stringify(seen)).not.toContain(secret);
    expect(JSON.stringify(seen)).not.toContain(Buffer.from(secret).toString('base64'));
    expect(error.message).toContain('[secret]');
    expect(received).toHaveLength(0);
  });

  it('quotes a failing answer, scrubbed before it is cut short', async () => {
    const echoed = `down for ${secret} ${Buffer.from(secret).toString('base64')} ${'x'.repeat(500)}`;
    script = [{ status: 503, body: echoed }];
    const error = await failure(createHttpTransport({ backoffMs: [] }).send(request({ secrets: [secret] })));
    expect(error.message).toMatch(
      /^acme getThing failed after 1 attempt: HTTP 503: down for \[secret\] \[secret\] x+…$/,
    );
    expect(error.message.length).toBeLessThan(300);
  });

  it('scrubs a header value the HTTP stack quotes back', async () => {
    // fetch refuses a header value with a NUL in it, quoting the value in its message.
    const odd = 'sk_live_VERY\u0000SECRET';
    const error = await failure(
      createHttpTransport(fast).send(
        request({ secrets: [odd], authorize: () => ({ Authorization: `Bearer ${odd}` }) }),
      ),
    );
    const cause = (error.cause as Error | undefined)?.message ?? '';
    expect(cause).toContain('[secret]');
    expect(JSON.stringify([error.message, cause])).not.toContain('SECRET');
    expect(received).toHaveLength(0);
  });
});

describe('kit HTTP transport: tracing', () => {
  it('names the span by method and URL template when the adapter gives one', async () => {
    script = [{ status: 200 }];
    await createHttpTransport(fast).send(request({ urlTemplate: '/v1/things/{id}' }));
    expect(spans.getFinishedSpans().map((s) => [s.name, s.attributes['url.template']])).toEqual([
      ['acme GET /v1/things/{id}', '/v1/things/{id}'],
    ]);
  });

  it('makes one CLIENT span per call, with provider, operation, status and attempts, and sends traceparent', async () => {
    script = [{ status: 500 }, { status: 404 }];
    const parent = trace.getTracer('test').startSpan('rpc');
    await context.with(trace.setSpan(context.active(), parent), () => createHttpTransport(fast).send(request()));
    parent.end();
    const [span] = spans.getFinishedSpans().filter((s) => s.name === 'acme getThing');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toMatchObject({
      'billing.provider': 'acme',
      'billing.operation': 'getThing',
      'http.request.method': 'GET',
      'http.response.status_code': 404,
      [ATTEMPTS_ATTRIBUTE]: 2,
    });
    expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    const traceparents = received.map((r) => r.headers.traceparent);
    expect(traceparents).toEqual([expect.any(String), expect.any(String)]);
    expect(traceparents[0]).toContain(`${parent.spanContext().traceId}-${span?.spanContext().spanId}`);
  });
});
