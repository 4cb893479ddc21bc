import type { CallCompletion, CallContext, Caller } from '../app/call-context';
import type { CallSignal } from './call-signal';

/**
 * One RPC's CallContext, with fast properties. The object literal with a `get signal()` of its own that it replaces
 * was a dictionary-mode object in V8, and with it each call promoted about 7 KB to the old generation, freed only by
 * full collections (--trace-gc-nvp at 2,500 reads/s: 2.6 MB promoted per scavenge and a 27-40 ms mark-compact every
 * 5 s; with this class 36-55 KB per scavenge, and no mark-compact). `signal` is still an own enumerable property, so
 * `{ ...ctx, idempotencyKey }` keeps it, as use cases expect; its getter is one function for every instance, which
 * keeps them all on one hidden class.
 */
export class RpcCallContext implements CallContext {
  caller?: Caller = undefined;
  onBehalfOf?: string = undefined;
  idempotencyKey?: string = undefined;
  completion?: CallCompletion = undefined;
  providerEventId?: string = undefined;
  declare readonly signal: AbortSignal;
  readonly #callSignal: CallSignal;

  constructor(
    public actor: string,
    readonly correlationId: string,
    callSignal: CallSignal,
  ) {
    this.#callSignal = callSignal;
    Object.defineProperty(this, 'signal', RpcCallContext.#signalProperty);
  }

  /** One descriptor, and so one getter function, for every instance. */
  static readonly #signalProperty: PropertyDescriptor = {
    get(this: RpcCallContext) {
      return this.#callSignal.signal;
    },
    enumerable: true,
  };
}
