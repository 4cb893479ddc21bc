import type { IdempotencyGuard } from '../idempotency-guard';
import { readIdempotencyKey } from '../call-metadata';
import { KeyedCompletion } from '../keyed-completion';
import type { Interceptor } from './interceptor';

/**
 * Mutations with an `idempotency-key` run at most once per tenant; a repeat replays the stored response. The
 * response is stored by the use case's final transaction; calls that commit nothing store it afterwards.
 */
export function idempotency(guard: IdempotencyGuard): Interceptor {
  return async (call, next) => {
    if (call.kind !== 'mutation') return next();
    const key = readIdempotencyKey(call.metadata);
    if (!key) return next();
    const scope = call.ctx.caller?.tenant ?? '';
    // Provider idempotency (request ids, order ids) derives from this, so it is per tenant too.
    call.ctx.idempotencyKey = scope ? `${scope}/${key}` : key;
    const outcome = await guard.run({ scope, key, method: call.path, bytes: call.requestBytes() }, async (attempt) => {
      const completion = new KeyedCompletion(guard.store, attempt, call.encodeResponse);
      call.ctx.completion = completion;
      const result = await next();
      if (!completion.recorded) await completion.recordAfter(result.response);
      return result;
    });
    if (!outcome.replayed) return outcome.result;
    return { response: call.decodeResponse(outcome.response), trailers: { 'idempotent-replayed': 'true' } };
  };
}
