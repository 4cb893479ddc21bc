import { context, createContextKey, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/telemetry/logger';
import { UntracedContextManager } from '../../src/telemetry/untraced-context-manager';

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const callerContext = () =>
  propagation.extract(ROOT_CONTEXT, { traceparent: `00-${CALLER_TRACE}-b7ad6b7169203331-01` });
/** What an outgoing request or a stored event would carry from the active context. */
const injected = () => {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
};
const tracer = () => trace.getTracer('test');
/** An RPC's span from `parent` and, after an await, a transaction's inside it: what the transaction would send on. */
const rpcWithTransaction = (parent: typeof ROOT_CONTEXT) =>
  tracer().startActiveSpan('rpc', {}, parent, async (rpc) => {
    await sleep(1);
    const fromTransaction = await tracer().startActiveSpan('db.transaction', async (tx) => {
      await sleep(1);
      tx.end();
      return injected();
    });
    rpc.end();
    return fromTransaction;
  });

describe('the context manager when no traces are exported', () => {
  let entered: jest.SpyInstance;
  beforeEach(() => {
    context.setGlobalContextManager(new UntracedContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    entered = jest.spyOn(AsyncLocalStorage.prototype, 'run');
  });
  afterEach(() => {
    entered.mockRestore();
    context.disable();
    propagation.disable();
  });

  it('never enters AsyncLocalStorage for work no trace runs through, so promises pay no hooks', async () => {
    // As an RPC without a traceparent, and the transaction and provider call inside it, each start one.
    const answer = await rpcWithTransaction(ROOT_CONTEXT);
    expect(answer).toBeUndefined();
    expect(entered).not.toHaveBeenCalled();
  });

  it("carries a caller's trace across awaits, into what goes out", async () => {
    const out = await rpcWithTransaction(callerContext());
    expect(out).toContain(CALLER_TRACE);
    expect(entered).toHaveBeenCalled();
  });

  it('keeps any other value a context holds across awaits (a baggage entry, say)', async () => {
    const key = createContextKey('test value');
    const seen = await context.with(ROOT_CONTEXT.setValue(key, 'kept'), async () => {
      await sleep(1);
      return context.active().getValue(key);
    });
    expect(seen).toBe('kept');
  });

  it('lets a call without a trace hide the trace around it, as a context of its own', async () => {
    const inside = await context.with(callerContext(), () =>
      tracer().startActiveSpan('rpc', {}, ROOT_CONTEXT, async (rpc) => {
        await sleep(1);
        rpc.end();
        return injected();
      }),
    );
    expect(inside).toBeUndefined();
  });

  it("puts the caller's trace id on log lines, and no ids of zeros on untraced ones", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ level: 'info' }, sink);
    const logIn = (parent: typeof ROOT_CONTEXT, message: string) =>
      tracer().startActiveSpan('rpc', {}, parent, async (rpc) => {
        await sleep(1);
        logger.info(message);
        rpc.end();
      });
    await logIn(callerContext(), 'traced');
    await logIn(ROOT_CONTEXT, 'untraced');
    expect(lines.map(({ msg, trace_id }) => ({ msg, trace_id }))).toEqual([
      { msg: 'traced', trace_id: CALLER_TRACE },
      { msg: 'untraced', trace_id: undefined },
    ]);
  });
});
