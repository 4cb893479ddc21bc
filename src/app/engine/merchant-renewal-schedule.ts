import type { Storefront } from '../../domain/storefront';
import type { Subscription } from '../../domain/subscription';
import type { Repositories } from '../../ports/store.port';

/** The scheduler's kind for one merchant-initiated renewal charge of a subscription. */
export const MERCHANT_RENEWAL = 'subscription.merchant_renewal';

/** Whether our scheduler, not the provider, charges this storefront's renewals (binding `renewals: merchant`). */
export function renewsByMerchant(storefront: Storefront): boolean {
  return storefront.binding.config.renewals === 'merchant';
}

/**
 * Keeps the renewal charge of a subscription of a `renewals: merchant` storefront scheduled at its period end, in
 * the transaction that changed it: ACTIVE or TRIALING with a period end and no cancel at period end → due then;
 * anything else → none pending (PAST_DUE is left alone: its dunning retries are the running action's own).
 */
export async function keepRenewalScheduled(
  repos: Repositories,
  storefront: Storefront,
  subscription: Subscription,
): Promise<void> {
  if (!renewsByMerchant(storefront) || subscription.status === 'PAST_DUE') return;
  const periodEnd = subscription.currentPeriodEnd;
  const renews = subscription.status === 'ACTIVE' || subscription.status === 'TRIALING';
  if (renews && periodEnd && !subscription.cancelAtPeriodEnd) {
    const pending = await repos.scheduledActions.pending(MERCHANT_RENEWAL, subscription.id);
    if (pending?.payload.periodEnd === periodEnd.toISOString()) return;
    await repos.scheduledActions.schedule({
      kind: MERCHANT_RENEWAL,
      subjectId: subscription.id,
      storefrontId: storefront.id,
      dueAt: periodEnd,
      // Step 0: the charge at the period end; each decline counts one more (merchant-renewals.ts, dunningStep).
      payload: { periodEnd: periodEnd.toISOString(), step: 0 },
    });
    return;
  }
  await repos.scheduledActions.cancel(MERCHANT_RENEWAL, subscription.id);
}
