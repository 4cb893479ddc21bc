import type * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { CallSignal } from '../../src/grpc/call-signal';

/** The two things CallSignal reads of a grpc-js server call: `cancelled` (and its event) and the deadline. */
function fakeCall(deadline: number, cancelled = false) {
  const call = Object.assign(new EventEmitter(), { cancelled, getDeadline: () => deadline });
  return call as unknown as grpc.ServerUnaryCall<unknown, unknown> & EventEmitter;
}

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a call’s abort signal', () => {
  it('costs the call nothing until something asks for it', () => {
    const call = fakeCall(Date.now() + 20);
    const signal = new CallSignal(call);
    expect(call.listenerCount('cancelled')).toBe(0);
    signal.settle();
    expect(call.listenerCount('cancelled')).toBe(0);
  });

  it('aborts when the caller cancels', () => {
    const call = fakeCall(Infinity);
    const { signal } = new CallSignal(call);
    expect(signal.aborted).toBe(false);
    call.emit('cancelled');
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('call cancelled');
  });

  it('is aborted at once when asked for after the caller cancelled, even once the call is answered', () => {
    expect(new CallSignal(fakeCall(Infinity, true)).signal.aborted).toBe(true);
    const answered = new CallSignal(fakeCall(Infinity, true));
    answered.settle();
    expect(answered.signal.aborted).toBe(true);
  });

  it('aborts when the deadline passes, and at once when it had passed before it was asked for', async () => {
    const soon = new CallSignal(fakeCall(Date.now() + 20)).signal;
    const passed = new CallSignal(fakeCall(Date.now() - 1)).signal;
    expect((passed.reason as Error).message).toBe('deadline exceeded');
    expect(soon.aborted).toBe(false);
    await later(60);
    expect((soon.reason as Error).message).toBe('deadline exceeded');
  });

  it('no longer aborts once the call is answered, whenever it was asked for', async () => {
    const call = fakeCall(Date.now() + 20);
    const askedBefore = new CallSignal(call);
    const before = askedBefore.signal;
    askedBefore.settle();
    const askedAfter = new CallSignal(fakeCall(Date.now() + 20));
    askedAfter.settle();
    const after = askedAfter.signal;
    await later(60);
    expect(before.aborted).toBe(false);
    expect(after.aborted).toBe(false);
  });
});
