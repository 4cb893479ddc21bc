import type { Storefront } from '../../domain/storefront';
import type { Subscription } from '../../domain/subscription';
import type { ActorContext, AuditEntry, Repositories } from '../../ports/store.port';
import { drafts } from './event-drafts';
import { recordChange } from './record-change';

/**
 * Records a new subscription (a checkout's, or one adopted from the provider) with its `created` event and audit
 * row, in the caller's transaction. False, and nothing written, when a subscription with its id or provider
 * reference is there already (a replayed checkout).
 */
export async function recordNewSubscription(
  repos: Repositories,
  storefront: Storefront,
  subscription: Subscription,
  actor: ActorContext,
  audit: Omit<AuditEntry, keyof ActorContext | 'resourceType' | 'resourceId' | 'storefrontId'>,
): Promise<boolean> {
  if (!(await repos.subscriptions.insert(subscription))) return false;
  await recordChange(repos, actor, {
    events: [drafts.subscription('billing.subscription.created', storefront, subscription, actor.providerEventId)],
    audit: { ...audit, resourceType: 'subscription', resourceId: subscription.id, storefrontId: storefront.id },
  });
  return true;
}
