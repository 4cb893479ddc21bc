import type * as grpc from '@grpc/grpc-js';
import type { CallContext } from '../../app/call-context';

/** One RPC as the interceptors see it, before its handler runs. */
export interface RpcCall {
  /** `billing.v1.CustomerService/CreateCustomer` */
  path: string;
  service: string;
  rpc: string;
  kind: 'query' | 'mutation';
  /** The handler's final statement claims the call's idempotency key (see CommitClaimCompletion). */
  claimsKeyAtCommit: boolean;
  /** The request: its bytes (EncodedRequest) until `decodeRequest` has run, the ts-proto message from then on. */
  request: unknown;
  metadata: grpc.Metadata;
  /** Interceptors fill it in (caller, idempotency key); the handler receives it. */
  ctx: CallContext;
  /**
   * The decoded request encoded again, as the idempotency key's hash is taken over it: not the bytes as they came
   * (EncodedRequest.bytes), so the same request sent with fields in another order or encoding hashes alike, and keys
   * stored before keep matching.
   */
  requestBytes(): Uint8Array;
  encodeResponse(response: unknown): Uint8Array;
  decodeResponse(bytes: Uint8Array): unknown;
}

/** What an RPC answers: its response and any trailers to add. */
export interface RpcResult {
  response: unknown;
  trailers?: Record<string, string>;
}

/**
 * One concern around every RPC (admission, authentication, input limits, tenant scope, idempotency). Calls `next`
 * to continue, or throws a DomainError to refuse the call.
 */
export type Interceptor = (call: RpcCall, next: () => Promise<RpcResult>) => Promise<RpcResult>;

/**
 * An interceptor that only checks the call (and may note something on it): `check` throws to refuse, and otherwise
 * the call goes on with no async layer of this interceptor's own. Every async function around `next` costs each RPC
 * a promise, its closure and extra microtask turns (0.4–1.4 KB per layer per call, measured with V8's sampling heap
 * profiler), for nothing when it has no work to do after `next`.
 */
export function checkOnly(check: (call: RpcCall) => void): Interceptor {
  return (call, next) => continueUnless(() => check(call), next);
}

/** `next()` unless `check` throws, in which case the refusal is the rejected promise any interceptor answers. */
export function continueUnless(check: () => void, next: () => Promise<RpcResult>): Promise<RpcResult> {
  try {
    check();
  } catch (error) {
    return Promise.reject(error);
  }
  return next();
}

/**
 * Runs `interceptors` in order around `handler`. A handler that throws instead of rejecting is refused the same way,
 * so interceptors need not guard `next()` against both.
 */
export function chain(interceptors: readonly Interceptor[], call: RpcCall, handler: () => Promise<RpcResult>) {
  const run = (index: number): Promise<RpcResult> =>
    index < interceptors.length ? interceptors[index]!(call, () => run(index + 1)) : rejectingThrows(handler);
  return run(0);
}

function rejectingThrows(handler: () => Promise<RpcResult>): Promise<RpcResult> {
  try {
    return handler();
  } catch (error) {
    return Promise.reject(error);
  }
}
