import type { Subscription } from '../../domain/subscription';
import type { ProviderCheckoutState, ProviderSubscriptionState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { applySubscriptionState } from '../engine/subscription-changes';
import { isFinalCheckout } from '../../domain/checkout-session';
import { handleOf } from '../engine/subscription-handle';
import type { ProviderConnection } from '../providers/provider-gateway';
import { AskedFirst } from '../inbound/subscription-answers';
import { applyPaymentReport, fetchPaymentReport, PaymentReport } from './payment-report';
import { connectSweep, NEVER, recheckTime, Sweep, SweepDeps } from './sweep';

/** Everything the provider said about one subscription checkout. */
interface CheckoutReport {
  checkout?: ProviderCheckoutState;
  paid?: PaymentReport;
  subscription?: ProviderSubscriptionState;
  /** False when the provider has neither the checkout nor a way to find its subscription by our order id. */
}

/**
 * Subscription checkouts past their expiry (INCOMPLETE): expired at the provider with nothing bought →
 * INCOMPLETE_EXPIRED (`billing.subscription.expired`); completed but its webhooks lost → its payment, invoice and
 * subscription are applied as their webhooks would have been. Asked again later while the provider still calls the
 * checkout open, or a charge is still processing.
 */
export class SubscriptionCheckoutSweep implements Sweep {
  readonly kind = 'subscription';

  constructor(private readonly deps: SweepDeps) {}

  due(now: Date, limit: number): Promise<string[]> {
    return this.deps.uow.reads.subscriptions.listDueForReconciliation(now, limit);
  }

  postpone(id: string): Promise<void> {
    return this.deps.uow.reads.subscriptions.scheduleReconciliation(id, recheckTime(this.deps));
  }

  park(id: string): Promise<void> {
    return this.deps.uow.reads.subscriptions.scheduleReconciliation(id, NEVER);
  }

  async settle(id: string, now: Date, signal?: AbortSignal): Promise<string> {
    const { uow } = this.deps;
    const seen = await uow.reads.subscriptions.get(id);
    if (!seen || seen.status !== 'INCOMPLETE') return 'settled meanwhile';
    const link = await connectSweep(this.deps, uow.reads, seen.storefrontId, seen.provider, signal);
    const report = await this.ask(link.connection, seen);

    return uow.transaction(async (repos) => {
      let subscription = await repos.subscriptions.lockDueForReconciliation(id, now);
      if (!subscription) return 'settled meanwhile, or taken by another replica';
      const { checkout, paid } = report;
      if (checkout && !isFinalCheckout(checkout.status)) {
        // Open, or still processing at the provider (a server-to-server charge, a 3-D Secure step): not abandoned.
        return this.later(repos, id, `checkout still ${checkout.status}`);
      }

      if (checkout?.subscriptionRef && !subscription.providerRef) {
        subscription = { ...subscription, providerRef: checkout.subscriptionRef };
        await repos.subscriptions.update(subscription);
      }
      const asked = AskedFirst.of(id, report.subscription);
      const notes = paid ? await applyPaymentReport(this.deps, repos, link, paid, asked) : [];
      // A first payment that succeeded has activated the subscription already; otherwise apply what was fetched.
      const afterPayment = (await repos.subscriptions.get(id))!;
      if (afterPayment.status === 'INCOMPLETE' && report.subscription) {
        notes.push(
          await this.deps.applier.applyFetched(repos, link.origin, afterPayment, report.subscription, link.source),
        );
      }
      const current = (await repos.subscriptions.get(id))!;
      if (current.status !== 'INCOMPLETE') return notes.join('; ');
      if (checkout?.status === 'COMPLETE') return this.later(repos, id, 'complete; no subscription yet');
      if (paid?.payment.status === 'PROCESSING') return this.later(repos, id, 'payment still processing');

      // Expired at the provider, nothing bought, nothing in flight: the checkout is over.
      const at = this.deps.clock.now();
      const { result } = await applySubscriptionState(
        repos,
        link.origin.storefront,
        current,
        { status: 'INCOMPLETE_EXPIRED', cancelAtPeriodEnd: false, endedAt: at },
        link.source,
        at,
        link.origin.features,
      );
      return `checkout expired: ${result.outcome}`;
    });
  }

  /** Every provider call this sweep makes, before any lock. */
  private async ask(connection: ProviderConnection, seen: Subscription): Promise<CheckoutReport> {
    const getCheckout = connection.optional('getCheckout');
    const checkout =
      seen.checkoutSessionRef && getCheckout ? await getCheckout(connection.ctx, seen.checkoutSessionRef) : undefined;
    if (checkout && !isFinalCheckout(checkout.status)) return { checkout };
    const paid = checkout?.paymentRef ? await fetchPaymentReport(connection, checkout.paymentRef) : undefined;
    const handle = await handleOf(this.deps.uow.reads, seen);
    // Before we know its reference, the provider finds it by our order id (the handle's id).
    const subscription = await connection.operation('getSubscription')(connection.ctx, {
      ...handle,
      providerRef: checkout?.subscriptionRef ?? handle.providerRef,
    });
    return { checkout, paid, subscription };
  }

  private async later(repos: Repositories, id: string, why: string): Promise<string> {
    await repos.subscriptions.scheduleReconciliation(id, recheckTime(this.deps));
    return why;
  }
}
