import { DomainError } from '../../domain/errors';
import type { Interceptor, RpcResult } from './interceptor';

/**
 * Each tenant's callers together may have at most `maxPerTenant` RPCs in flight (MAX_IN_FLIGHT_PER_TENANT, by
 * default three quarters of MAX_IN_FLIGHT_RPCS). Without it one tenant holding calls open (slow ones, or many) took
 * every admission slot, and every other tenant was answered "overloaded". Beyond its share a call is
 * RESOURCE_EXHAUSTED at once: the limit is this caller's, not the service's (which stays UNAVAILABLE), so a client
 * backs off instead of trying another replica. Runs after authentication: the tenant is the authenticated one.
 */
export function tenantShare(maxPerTenant: number): Interceptor {
  /** Only tenants with calls in flight, so it holds no more entries than there are calls. */
  const inFlight = new Map<string, number>();
  const release = (tenant: string) => {
    const left = inFlight.get(tenant)! - 1;
    if (left === 0) inFlight.delete(tenant);
    else inFlight.set(tenant, left);
  };
  return (call, next) => {
    const tenant = call.ctx.caller?.tenant;
    if (tenant === undefined) return next();
    const count = inFlight.get(tenant) ?? 0;
    if (count >= maxPerTenant) {
      return Promise.reject(
        new DomainError(
          'RESOURCE_EXHAUSTED',
          `this caller's tenant has ${count} calls in flight, its share (MAX_IN_FLIGHT_PER_TENANT); retry after one ends`,
        ),
      );
    }
    inFlight.set(tenant, count + 1);
    let pending: Promise<RpcResult>;
    try {
      pending = next();
    } catch (error) {
      release(tenant);
      return Promise.reject(error);
    }
    return pending.then(
      (result) => {
        release(tenant);
        return result;
      },
      (error: unknown) => {
        release(tenant);
        throw error;
      },
    );
  };
}
