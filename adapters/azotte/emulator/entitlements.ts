import type { EmulatorContext } from './context';
import { prefixedId } from './ids';
import type { EntitlementRecord, SubscriptionRecord } from './records';
import { emitEntitlement } from './webhook-events';

/** Grants one feature (a bundle's or a Grant) and sends `entitlement.granted`. */
export function grant(
  ctx: EmulatorContext,
  input: Pick<
    EntitlementRecord,
    'tenant' | 'customerUrn' | 'orderIdentifier' | 'featureKey' | 'activeUntil' | 'source'
  >,
  correlationId?: string | null,
): EntitlementRecord {
  const entitlement: EntitlementRecord = {
    ...input,
    entitlementUrn: prefixedId('ent_', ctx.state.now),
    activeFrom: ctx.state.now,
    revoked: false,
  };
  ctx.state.entitlements.set(entitlement.entitlementUrn, entitlement);
  emitEntitlement(ctx, 'granted', entitlement, correlationId);
  return entitlement;
}

/** Ends one entitlement now and sends `entitlement.revoked` (with `orderIdentifier` as given, default its own). */
export function revoke(ctx: EmulatorContext, e: EntitlementRecord, correlationId?: string | null): void {
  e.revoked = true;
  e.activeUntil = ctx.state.now;
  emitEntitlement(ctx, 'revoked', e, correlationId);
}

/** The live bundle entitlements of a subscription. */
export function entitlementsOf(ctx: EmulatorContext, orderIdentifier: string): EntitlementRecord[] {
  return [...ctx.state.entitlements.values()].filter(
    (e) => !e.revoked && e.source === 'Bundle' && e.orderIdentifier === orderIdentifier,
  );
}

/** Grants one feature of the subscription's bundle. */
export function grantFeature(
  ctx: EmulatorContext,
  s: SubscriptionRecord,
  featureKey: string,
  correlationId?: string | null,
): EntitlementRecord {
  const { tenant, customerUrn, orderIdentifier } = s;
  return grant(
    ctx,
    { tenant, customerUrn, orderIdentifier, featureKey, activeUntil: null, source: 'Bundle' },
    correlationId,
  );
}

/** Grants every feature of the subscription's bundle. */
export function grantBundle(ctx: EmulatorContext, s: SubscriptionRecord, correlationId?: string | null): void {
  for (const featureKey of s.bundle.entitlements) grantFeature(ctx, s, featureKey, correlationId);
}

/** Revokes every live bundle entitlement of the subscription. */
export function revokeBundle(ctx: EmulatorContext, s: SubscriptionRecord, correlationId?: string | null): void {
  for (const e of entitlementsOf(ctx, s.orderIdentifier)) revoke(ctx, e, correlationId);
}
