import type * as grpc from '@grpc/grpc-js';

/** setTimeout fires at once for delays beyond 2^31-1 ms, so a far deadline (days away) gets no timer at all. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A call's abort signal, made the first time something asks for it (a provider call does; a read answered from
 * memory never does): it aborts when the caller cancels or the call's deadline passes. An AbortController, a
 * 'cancelled' listener and a deadline timer made for every call were a measurable share of a read's CPU.
 */
export class CallSignal {
  private abort?: AbortController;
  private timer?: NodeJS.Timeout;
  private answered = false;

  constructor(private readonly call: grpc.ServerUnaryCall<unknown, unknown>) {}

  get signal(): AbortSignal {
    if (this.abort) return this.abort.signal;
    const abort = (this.abort = new AbortController());
    // Asked after the answer (work that outlives the call): nothing is left to cancel, as when the timer was cleared.
    if (this.answered) return abort.signal;
    if (this.call.cancelled) {
      abort.abort(new Error('call cancelled'));
      return abort.signal;
    }
    this.call.on('cancelled', () => abort.abort(new Error('call cancelled')));
    const deadline = this.call.getDeadline();
    const msLeft = deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) - Date.now();
    if (Number.isFinite(msLeft) && msLeft < MAX_TIMER_MS) {
      this.timer = setTimeout(() => abort.abort(new Error('deadline exceeded')), Math.max(0, msLeft));
    }
    return abort.signal;
  }

  /** The call is answered: its deadline no longer matters. */
  settle(): void {
    this.answered = true;
    clearTimeout(this.timer);
  }
}
