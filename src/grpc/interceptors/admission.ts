import { DomainError, unavailable } from '../../domain/errors';
import type { Interceptor, RpcResult } from './interceptor';

export interface AdmissionOptions {
  /** RPCs served at once; the next one is refused at once instead of queued (MAX_IN_FLIGHT_RPCS). */
  maxInFlight: number;
  /** True for errors that mean the database is down or out of connections (see store/database.ts). */
  isDatabaseUnavailable(error: unknown): boolean;
  /** True for a transaction rolled back for colliding with a concurrent one (deadlock, serialization failure). */
  isTransactionConflict?(error: unknown): boolean;
  /** The database monitor's last word; while false, calls are refused at once instead of waiting on a dead database. */
  databaseReachable(): boolean;
}

/**
 * Admission for every RPC, and the one place a down database becomes a retryable answer.
 *
 * A bounded number of RPCs run at once: beyond it a call is answered UNAVAILABLE ("overloaded, retry") without
 * touching the database, so memory stays flat however many calls arrive (queued calls would each hold their request,
 * a pool wait and later a response). UNAVAILABLE rather than RESOURCE_EXHAUSTED because the limit is the service's,
 * not the caller's: gRPC clients retry UNAVAILABLE by default, and another replica may have room.
 *
 * Database errors (unreachable, shutting down, pool acquire timeout) thrown anywhere inside — interceptors after this
 * one or the handler — become UNAVAILABLE too, never INTERNAL: clients do not retry INTERNAL; a transaction
 * PostgreSQL rolled back as a deadlock victim or serialization failure becomes ABORTED. While the database
 * monitor finds the database unreachable, calls are refused the same way before they start, so a database that hangs
 * (rather than refuses) does not hold every call until its deadline.
 */
export function admission(options: AdmissionOptions): Interceptor {
  /** What a failure inside becomes for the caller (see above). */
  const asAnswer = (error: unknown): unknown => {
    if (!(error instanceof DomainError) && options.isDatabaseUnavailable(error))
      return unavailable('database unavailable, retry', error);
    // Rolled back whole: nothing was written, so the caller may retry at once (with the same idempotency key).
    if (!(error instanceof DomainError) && options.isTransactionConflict?.(error))
      return new DomainError('ABORTED', 'the change collided with a concurrent one and was rolled back; retry', [], {
        cause: error,
      });
    return error;
  };
  let inFlight = 0;
  const settled = (result: RpcResult) => {
    inFlight -= 1;
    return result;
  };
  const failed = (error: unknown) => {
    inFlight -= 1;
    throw asAnswer(error);
  };
  // Callbacks on the call's promise rather than an async function around it: one promise per call instead of two,
  // each costing the context propagation hooks too (see checkOnly).
  return (_call, next) => {
    if (inFlight >= options.maxInFlight) return Promise.reject(unavailable('overloaded, retry'));
    if (!options.databaseReachable()) return Promise.reject(unavailable('database unavailable, retry'));
    inFlight += 1;
    let pending: Promise<RpcResult>;
    try {
      pending = next();
    } catch (error) {
      inFlight -= 1;
      return Promise.reject(asAnswer(error));
    }
    return pending.then(settled, failed);
  };
}
