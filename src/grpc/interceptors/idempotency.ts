import type { IdempotencyGuard } from '../idempotency-guard';
import { readIdempotencyKey } from '../call-metadata';
import { CommitClaimCompletion, KeyedCompletion, KeyExists } from '../keyed-completion';
import type { Interceptor, RpcCall, RpcResult } from './interceptor';

/**
 * Mutations with an `idempotency-key` run at most once per tenant; a repeat replays the stored response. The
 * response is stored by the use case's final transaction; calls that commit nothing store it afterwards.
 */
export function idempotency(guard: IdempotencyGuard): Interceptor {
  return (call, next) => {
    // Queries and unkeyed mutations go on with no async layer of this interceptor's (see checkOnly).
    if (call.kind !== 'mutation') return next();
    let key: string | undefined;
    try {
      key = readIdempotencyKey(call.metadata);
    } catch (error) {
      return Promise.reject(error);
    }
    return key ? keyed(guard, call, key, next) : next();
  };
}

/** A mutation with an idempotency key: claimed, run once, its response stored; a repeat replays it. */
async function keyed(
  guard: IdempotencyGuard,
  call: RpcCall,
  key: string,
  next: () => Promise<RpcResult>,
): Promise<RpcResult> {
  const scope = call.ctx.caller?.tenant ?? '';
  // Provider idempotency (request ids, order ids) derives from this, so it is per tenant too.
  call.ctx.idempotencyKey = scope ? `${scope}/${key}` : key;
  const request = { scope, key, method: call.path, bytes: call.requestBytes() };
  if (call.claimsKeyAtCommit) {
    const completion = new CommitClaimCompletion(guard.store, guard.claimAtCommit(request), call.encodeResponse);
    call.ctx.completion = completion;
    try {
      const result = await next();
      if (!completion.recorded) await completion.recordAfter(result.response);
      return result;
    } catch (error) {
      // The key exists and nothing was written: the usual way below replays, refuses or runs it holding the key.
      if (!(error instanceof KeyExists)) throw error;
    }
  }
  const outcome = await guard.run(request, async (attempt) => {
    const completion = new KeyedCompletion(guard.store, attempt, call.encodeResponse);
    call.ctx.completion = completion;
    const result = await next();
    if (!completion.recorded) await completion.recordAfter(result.response);
    return result;
  });
  if (!outcome.replayed) return outcome.result;
  return { response: call.decodeResponse(outcome.response), trailers: { 'idempotent-replayed': 'true' } };
}
