import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { startTelemetry } from '../../src/telemetry/tracing';
import { freshTraceparent, traceHeadersOrFresh } from '../../src/telemetry/trace-context';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context for events (tracing off, as with no OTEL_* set)', () => {
  beforeAll(() => startTelemetry({}));

  it("keeps the caller's trace when there is one", () => {
    const callerContext = propagation.extract(ROOT_CONTEXT, { traceparent: CALLER, tracestate: 'vendor=1' });
    const headers = context.with(callerContext, () => traceHeadersOrFresh());
    expect(headers).toEqual({ traceparent: CALLER, tracestate: 'vendor=1' });
  });

  it('starts a fresh, unsampled trace when there is none', () => {
    const a = traceHeadersOrFresh();
    const b = traceHeadersOrFresh();
    expect(a.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(a.traceparent).not.toBe(b.traceparent);
    expect(a.tracestate).toBeUndefined();
  });

  it('never makes an all-zero (invalid) id', () => {
    for (let i = 0; i < 100; i++) expect(freshTraceparent()).not.toMatch(/^00-0{32}-|-0{16}-/);
  });
});
