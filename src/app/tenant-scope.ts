import type { CallContext } from './call-context';

/** The tenant a call is confined to; undefined for admin callers and for work the service starts itself. */
export function tenantScopeOf(ctx: Pick<CallContext, 'caller'>): string | undefined {
  return ctx.caller && ctx.caller.role !== 'admin' ? ctx.caller.tenant : undefined;
}
