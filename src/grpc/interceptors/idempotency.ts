import type { IdempotencyGuard } from '../idempotency-guard';
import { readIdempotencyKey } from '../call-metadata';
import type { Interceptor } from './interceptor';

/** Mutations with an `idempotency-key` run at most once; a repeat replays the stored response. */
export function idempotency(guard: IdempotencyGuard): Interceptor {
  return async (call, next) => {
    if (call.kind !== 'mutation') return next();
    const key = readIdempotencyKey(call.metadata);
    if (!key) return next();
    call.ctx.idempotencyKey = key;
    let fresh: unknown;
    const outcome = await guard.run(key, call.path, call.requestBytes(), async () => {
      fresh = (await next()).response;
      return call.encodeResponse(fresh);
    });
    // Only a replay needs decoding; a fresh call already holds its response.
    if (!outcome.replayed) return { response: fresh };
    return { response: call.decodeResponse(outcome.response), trailers: { 'idempotent-replayed': 'true' } };
  };
}
