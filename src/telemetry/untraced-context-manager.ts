import { Context, ContextManager, isSpanContextValid, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/**
 * The context manager when no traces are exported: AsyncLocalStorage, entered only when there is a trace to carry.
 *
 * Once anything enters an AsyncLocalStorage, Node 20 runs its hooks on every promise the process makes from then on:
 * about a tenth of the server's CPU per read (`scripts/bench/read-cpu.ts`, 1.68–1.72 against 1.83–1.92 times the raw
 * grpc-js server's). Without the SDK, a context holds nothing but the span it was given (no baggage propagator, no
 * instrumentation), and a span whose ids are invalid (no caller's traceparent, a no-op tracer) propagates nothing:
 * no traceparent is injected from it, and events get a fresh one (`trace-context.ts`). So when neither the context
 * to enter nor the active one carries a valid span, `with` just calls `fn`; a caller's traceparent, a stored one a
 * webhook or event continues, enters it as before, and from then on the hooks cost what they always did.
 */
export class UntracedContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorageContextManager();

  active(): Context {
    return this.storage.active();
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    if (!carriesTrace(context) && !carriesTrace(this.storage.active())) return fn.call(thisArg, ...args);
    return this.storage.with(context, fn, thisArg, ...args);
  }

  /** Binding always enters: whether the bound function will run under a trace is not known yet. */
  bind<T>(context: Context, target: T): T {
    return this.storage.bind(context, target);
  }

  enable(): this {
    this.storage.enable();
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

function carriesTrace(context: Context): boolean {
  const spanContext = trace.getSpanContext(context);
  return spanContext !== undefined && isSpanContextValid(spanContext);
}
