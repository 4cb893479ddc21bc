import type { Payment } from '../../domain/payment';
import type { ProviderCheckoutState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import type { ProviderConnection } from '../providers/provider-gateway';
import { applyPaymentReport, fetchPaymentReport, PaymentReport } from './payment-report';
import { connectSweep, NEVER, recheckTime, Sweep, SweepDeps } from './sweep';

/**
 * One-time payment checkouts past their expiry (REQUIRES_PAYMENT_METHOD): CLOSED once the provider says the
 * checkout expired unpaid, or caught up when it was paid and the webhooks were lost.
 */
export class PaymentCheckoutSweep implements Sweep {
  readonly kind = 'payment';

  constructor(private readonly deps: SweepDeps) {}

  due(now: Date, limit: number): Promise<string[]> {
    return this.deps.uow.reads.payments.listDueForReconciliation(now, limit);
  }

  postpone(id: string): Promise<void> {
    return this.deps.uow.reads.payments.scheduleReconciliation(id, recheckTime(this.deps));
  }

  park(id: string): Promise<void> {
    return this.deps.uow.reads.payments.scheduleReconciliation(id, NEVER);
  }

  async settle(id: string, now: Date, signal?: AbortSignal): Promise<string> {
    const { uow } = this.deps;
    const seen = await uow.reads.payments.get(id);
    if (!seen || seen.status !== 'REQUIRES_PAYMENT_METHOD') return 'settled meanwhile';
    const link = await connectSweep(this.deps, uow.reads, seen.storefrontId, seen.provider, signal);
    const { checkout, paid } = await this.ask(link.connection, seen);

    return uow.transaction(async (repos) => {
      const payment = await repos.payments.lockDueForReconciliation(id, now);
      if (!payment) return 'settled meanwhile, or taken by another replica';
      if (checkout?.status === 'OPEN') return this.later(repos, id, 'checkout still open');
      if (paid) {
        const notes = await applyPaymentReport(this.deps, repos, link, {
          ...paid,
          payment: { ...paid.payment, orderId: payment.id },
        });
        if ((await repos.payments.get(id))!.status !== 'REQUIRES_PAYMENT_METHOD') return notes.join('; ');
      }
      // Closed only on the provider's word that the checkout expired, and with no charge in flight: CLOSED is final.
      if (checkout?.status !== 'EXPIRED' || paid?.payment.status === 'PROCESSING') {
        return this.later(repos, id, `checkout ${checkout?.status ?? 'state unknown'}; not paid yet`);
      }
      // No billing.* type exists for an abandoned checkout: a state change only (GetPayment / ListPayments).
      await repos.payments.update({ ...payment, status: 'CLOSED', updatedAt: this.deps.clock.now() });
      await repos.audit.record({
        ...link.source,
        action: 'CheckoutExpired',
        resourceType: 'payment',
        resourceId: payment.id,
        storefrontId: payment.storefrontId,
        details: { provider: payment.provider },
      });
      return 'checkout expired: payment CLOSED';
    });
  }

  /** Every provider call this sweep makes, before any lock. */
  private async ask(
    connection: ProviderConnection,
    seen: Payment,
  ): Promise<{ checkout?: ProviderCheckoutState; paid?: PaymentReport }> {
    const getCheckout = connection.optional('getCheckout');
    const checkout =
      seen.checkoutSessionRef && getCheckout ? await getCheckout(connection.ctx, seen.checkoutSessionRef) : undefined;
    const paymentRef = checkout?.paymentRef ?? seen.providerRef;
    const paid =
      paymentRef && checkout?.status !== 'OPEN' ? await fetchPaymentReport(connection, paymentRef) : undefined;
    return { checkout, paid };
  }

  private async later(repos: Repositories, id: string, why: string): Promise<string> {
    await repos.payments.scheduleReconciliation(id, recheckTime(this.deps));
    return why;
  }
}
