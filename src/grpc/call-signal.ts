import type * as grpc from '@grpc/grpc-js';

/** setTimeout fires at once for delays beyond 2^31-1 ms, so a far deadline (days away) gets no timer at all. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A call's abort signal, made the first time something asks for it (a provider call does; a read answered from
 * memory never does): it aborts when the caller cancels or the call's deadline passes. Most calls never need the
 * AbortController, the 'cancelled' listener and the deadline timer that used to be made for every call.
 */
export class CallSignal {
  private abort?: AbortController;
  private timer?: NodeJS.Timeout;
  private answered = false;

  constructor(private readonly call: grpc.ServerUnaryCall<unknown, unknown>) {}

  get signal(): AbortSignal {
    if (this.abort) return this.abort.signal;
    const abort = (this.abort = new AbortController());
    if (this.call.cancelled) {
      abort.abort(new Error('call cancelled'));
      return abort.signal;
    }
    // Asked after the answer (work that outlives the call): no deadline is left to enforce, as when the timer was
    // cleared at the answer.
    if (this.answered) return abort.signal;
    this.call.on('cancelled', () => abort.abort(new Error('call cancelled')));
    const deadline = this.call.getDeadline();
    const msLeft = deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) - Date.now();
    if (msLeft <= 0) abort.abort(new Error('deadline exceeded'));
    else if (Number.isFinite(msLeft) && msLeft < MAX_TIMER_MS) {
      this.timer = setTimeout(() => abort.abort(new Error('deadline exceeded')), msLeft);
    }
    return abort.signal;
  }

  /** The call is answered: its deadline no longer matters. */
  settle(): void {
    this.answered = true;
    clearTimeout(this.timer);
  }
}
