import type { EmulatorContext } from './context';
import { prefixedId } from './ids';
import type { EntitlementRecord, PaymentRecord, SubscriptionRecord } from './records';
import { entitlementJson, iso, paymentJson, subscriptionJson } from './wire';

// Webhook envelopes (item 35). Each is fixed when it is made: its `sequence` (per customer, item 36) is taken then,
// and every retry and redelivery sends the same bytes.

/** `EnProductGroupType` per event family (item 35). */
const GROUP_CODES: Readonly<Record<string, number>> = {
  subscription: 0,
  campaign: 0,
  payment: 20,
  entitlement: 30,
  audit: 40,
};

/** Makes one event for `data.customerUrn` and hands it to the sender (one at a time per customer). */
export function emit(
  ctx: EmulatorContext,
  tenant: string,
  type: string,
  data: Record<string, unknown> & { customerUrn: string },
  correlationId?: string | null,
): void {
  const { state } = ctx;
  const id = prefixedId('ev_', state.now);
  const occurredAt = iso(state.now) ?? '';
  const envelope = {
    id,
    type,
    groupCode: GROUP_CODES[type.split('.')[0] ?? ''] ?? 0,
    tenantId: tenant,
    occurredAt,
    sequence: state.nextSequence(data.customerUrn),
    correlationId: correlationId ?? state.cause.correlationId,
    actor: state.cause.actor,
    data,
  };
  ctx.webhooks.publish({
    id,
    type,
    destination: tenant,
    orderingKey: data.customerUrn,
    created: occurredAt,
    body: JSON.stringify(envelope),
  });
}

/** `subscription.*` with the subscription after the change and its state before. */
export function emitSubscription(
  ctx: EmulatorContext,
  type: string,
  s: SubscriptionRecord,
  previousState: string | null,
  correlationId?: string | null,
): void {
  emit(
    ctx,
    s.tenant,
    `subscription.${type}`,
    { ...subscriptionJson(s), customerUrn: s.customerUrn, previousState },
    correlationId,
  );
}

/** `payment.*`; `subscription` only on a failed renewal (item 38). */
export function emitPayment(
  ctx: EmulatorContext,
  type: string,
  p: PaymentRecord,
  subscription: SubscriptionRecord | null,
  correlationId?: string | null,
): void {
  emit(
    ctx,
    p.tenant,
    `payment.${type}`,
    { ...paymentJson(p, subscription), customerUrn: p.customerUrn },
    correlationId,
  );
}

export function emitEntitlement(
  ctx: EmulatorContext,
  type: 'granted' | 'revoked' | 'updated',
  e: EntitlementRecord,
  correlationId?: string | null,
): void {
  emit(ctx, e.tenant, `entitlement.${type}`, { ...entitlementJson(e), customerUrn: e.customerUrn }, correlationId);
}

/** `audit.state_changed` of one field of one entity. */
export function emitAudit(
  ctx: EmulatorContext,
  tenant: string,
  customerUrn: string,
  change: { entity: string; entityUrn: string; field: string; from: string | null; to: string | null },
  correlationId?: string | null,
): void {
  emit(ctx, tenant, 'audit.state_changed', { ...change, customerUrn }, correlationId);
}

/** The audit of a subscription's state change (every state change sends one, item 39). */
export function emitStateAudit(
  ctx: EmulatorContext,
  s: SubscriptionRecord,
  from: string | null,
  correlationId?: string | null,
): void {
  emitAudit(
    ctx,
    s.tenant,
    s.customerUrn,
    { entity: 'Subscription', entityUrn: s.orderIdentifier, field: 'state', from, to: s.state },
    correlationId,
  );
}
