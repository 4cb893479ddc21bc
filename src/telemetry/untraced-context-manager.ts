import { Context, ContextManager, isSpanContextValid, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/**
 * The context manager when no traces are exported: AsyncLocalStorage, entered only when there is something to carry.
 *
 * Once anything enters an AsyncLocalStorage, Node 20 runs its hooks on every promise the process makes from then on:
 * about a tenth of the server's CPU per read (`scripts/bench/read-cpu.ts`: 1.60–1.65 times the raw grpc-js server's
 * with this, 1.83–1.87 without). A span whose ids are invalid (no caller's traceparent, a no-op tracer) propagates
 * nothing: no traceparent is injected from it, events get a fresh one (`trace-context.ts`), and log lines no ids.
 * So when the context to enter and the active one each hold nothing but such a span (or nothing at all), `with`
 * just calls `fn`. A caller's traceparent, a stored one that a webhook or an event continues, or any other value in
 * a context enters it as before, and from the first such call on the hooks cost what they always did.
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
    if (carriesNothing(context) && carriesNothing(this.storage.active())) return fn.call(thisArg, ...args);
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

/** Nothing to propagate: no values, or only a span without valid ids. */
function carriesNothing(context: Context): boolean {
  // @opentelemetry/api's BaseContext keeps its values in this Map; any other Context is entered, to be safe.
  const values = (context as { _currentContext?: unknown })._currentContext;
  if (!(values instanceof Map)) return false;
  if (values.size === 0) return true;
  const spanContext = trace.getSpanContext(context);
  return values.size === 1 && spanContext !== undefined && !isSpanContextValid(spanContext);
}
