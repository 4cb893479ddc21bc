import type { ProviderAuditRecord } from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { ForeignOrUnknownObject, ourOrderId, type EventOrigin } from './event-origin';

/** Longest provider-supplied text kept in an audit row: the provider signed it, but its size is still its choice. */
const MAX_TEXT = 256;

/**
 * A change from the provider's own audit trail, kept in our audit log beside our own rows: the provider's actor
 * beside ours (`provider:<id>`), its correlation id where it gave one and it names nothing of another storefront
 * (correlationOfStorefront; else ours, the provider's then in the details as unverified). Only about customers of
 * the storefront the webhook was signed for; anything else stays in the inbox as received.
 */
export async function recordProviderAudit(
  repos: Repositories,
  origin: EventOrigin,
  record: ProviderAuditRecord,
  source: ActorContext,
): Promise<string> {
  const customer = await repos.customers.findByProviderRef(origin.storefront.id, origin.provider, record.customerRef);
  if (!customer) throw new ForeignOrUnknownObject('customer', `${origin.provider}:${record.customerRef}`);
  const entity = bounded(record.entity);
  const provided = bounded(record.correlationId);
  const trusted = await correlationOfStorefront(repos, origin, provided);
  await repos.audit.record({
    actor: source.actor,
    correlationId: trusted ?? source.correlationId,
    providerEventId: source.providerEventId,
    action: 'ProviderStateChanged',
    resourceType: `${origin.provider}:${entity}`,
    resourceId: bounded(record.entityRef)!,
    storefrontId: origin.storefront.id,
    details: {
      customer_id: customer.id,
      provider_actor: bounded(record.actor),
      provider_event_id: source.providerEventId,
      field: bounded(record.field),
      from: bounded(record.from),
      to: bounded(record.to),
      ...(provided !== undefined && trusted === undefined ? { provider_correlation_id_unverified: provided } : {}),
    },
  });
  return `provider audit: ${entity} ${bounded(record.field)} → ${bounded(record.to) ?? '(none)'}`;
}

/**
 * The provider's correlation id when the row may carry it, else undefined. Our orders' trails are found by their
 * ids, so one naming an order of ours (its part before the first '.' is a `sub_`/`pay_` order id as our checkout makes
 * them) is kept only when that order is this storefront's: a webhook signed for one storefront must not add rows to
 * another storefront's trail. Any other correlation id is the provider's own and names nothing of ours.
 */
async function correlationOfStorefront(
  repos: Repositories,
  origin: EventOrigin,
  correlationId: string | undefined,
): Promise<string | undefined> {
  if (correlationId === undefined) return undefined;
  const orderId = correlationId.split('.', 1)[0] ?? '';
  const storefrontId = origin.storefront.id;
  if (ourOrderId(orderId, 'sub')) {
    return (await repos.subscriptions.get(orderId, { storefrontId })) ? correlationId : undefined;
  }
  if (ourOrderId(orderId, 'pay')) {
    return (await repos.payments.get(orderId, { storefrontId })) ? correlationId : undefined;
  }
  return correlationId;
}

function bounded(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.slice(0, MAX_TEXT);
}
