import type { EventType } from '../../domain/event-catalogue';
import { newId } from '../../domain/ids';
import type { Invoice } from '../../domain/invoice';
import { Payment, PaymentStatus, refundStateOf } from '../../domain/payment';
import { canMovePayment } from '../../domain/payment-lifecycle';
import { isTerminal, Subscription } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type {
  ProviderEvent,
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderRefundState,
} from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { drafts } from '../engine/event-drafts';
import { applySubscriptionState } from '../engine/subscription-changes';
import { EventOrigin, ForeignOrUnknownObject } from './event-origin';
import { subscriptionOf } from './object-lookup';
import { paymentScope } from './payment-lookup';
import type { SubscriptionAnswers } from './subscription-answers';

type Of<K extends ProviderEvent['kind']> = Extract<ProviderEvent, { kind: K }>;

/** The payment statuses consumers hear about when a payment reaches them. */
const PAYMENT_EVENTS: Partial<Record<PaymentStatus, EventType>> = {
  SUCCEEDED: 'billing.payment.succeeded',
  FAILED: 'billing.payment.failed',
};

/** What a payment or invoice asks of the subscription side when the subscription's state is in doubt. */
export interface SubscriptionReconciler {
  /** Applies the provider's current state of a subscription, as `answers` gives it. */
  reconcile(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    source: ActorContext,
    why: string,
    answers: SubscriptionAnswers,
  ): Promise<string>;
}

/** How a fetched invoice is recorded: the outcome its status means, or `recorded` (no outcome of its own). */
export type InvoiceOutcome = Of<'invoice'>['outcome'] | 'recorded';

/** Payments, invoices and refunds as the provider reports them (webhook or fetch); settled ones never move back. */
export class PaymentEvents {
  constructor(
    private readonly clock: Clock,
    /** Asked when a payment or invoice means the subscription's state is in doubt. */
    private readonly subscriptions: SubscriptionReconciler,
  ) {}

  /**
   * Records a payment as the provider reports it (webhook or fetch); settled payments never move back. Its
   * subscription is locked before it (paymentScope). `answers` has the subscription's state where the payment puts
   * it in doubt (a first payment that succeeded).
   */
  async applyPayment(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderPaymentState,
    source: ActorContext,
    answers: SubscriptionAnswers,
  ): Promise<string> {
    const now = this.clock.now();
    const scope = await paymentScope(repos, origin, state, true);
    const subscription = scope.subscription;
    let payment = scope.payment;
    const before = payment?.status;
    if (!payment) {
      payment = {
        id: newId('pay'),
        storefrontId: subscription!.storefrontId,
        customerId: subscription!.customerId,
        subscriptionId: subscription!.id,
        kind: state.kind,
        provider: origin.provider,
        providerRef: state.ref,
        amount: state.amount,
        status: state.status,
        refundState: 'NONE',
        refundedMinor: 0n,
        failure: state.failure,
        createdAt: now,
        updatedAt: now,
      };
      await repos.payments.insert(payment);
    } else if (payment.status === state.status && payment.providerRef) {
      return `payment ${payment.id} unchanged`;
    } else if (canMovePayment(payment.status, state.status)) {
      payment = {
        ...payment,
        providerRef: payment.providerRef ?? state.ref,
        status: state.status,
        failure: state.failure ?? payment.failure,
        updatedAt: now,
      };
      await repos.payments.update(payment);
    } else {
      return `payment ${payment.id} stays ${payment.status} (reported ${state.status})`;
    }
    const type = payment.status === before ? undefined : PAYMENT_EVENTS[payment.status];
    if (type) {
      await repos.outbox.append(drafts.payment(type, origin.storefront, payment, source.providerEventId), source);
    }
    // A first payment that succeeded while we still hold the subscription INCOMPLETE: its activation event may be
    // late or lost, so the provider's state of it (asked before anything was locked) decides.
    if (subscription?.status === 'INCOMPLETE' && payment.status === 'SUCCEEDED') {
      await this.subscriptions.reconcile(repos, origin, subscription, source, 'first payment succeeded', answers);
    }
    return `payment ${payment.id} ${payment.status}`;
  }
  /** Records an invoice as the provider reports it (webhook or fetch); a paid one may renew the subscription. */
  async applyInvoice(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderInvoiceState,
    outcome: InvoiceOutcome,
    source: ActorContext,
    answers: SubscriptionAnswers,
  ): Promise<string> {
    const now = this.clock.now();
    const subscription = await subscriptionOf(repos, origin, state.subscriptionRef, state.orderId);
    const existing = await repos.invoices.findByProviderRef(subscription.id, state.ref, { forUpdate: true });
    const invoice: Invoice = {
      id: existing?.id ?? newId('inv'),
      subscriptionId: subscription.id,
      customerId: subscription.customerId,
      amount: state.amount,
      type: state.type,
      status: state.status,
      cycleIndex: state.cycleIndex,
      periodStart: state.periodStart,
      periodEnd: state.periodEnd,
      providerRef: state.ref,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (existing && existing.status === invoice.status) return `invoice ${existing.id} unchanged`;
    if (existing) await repos.invoices.update(invoice);
    else await repos.invoices.insert(invoice);
    if (state.paymentRef) {
      const payment = await repos.payments.findByProviderRef(origin.storefront.id, origin.provider, state.paymentRef, {
        forUpdate: true,
      });
      if (payment && payment.invoiceId !== invoice.id) {
        await repos.payments.update({ ...payment, invoiceId: invoice.id, updatedAt: now });
      }
    }
    const type: EventType | undefined =
      outcome === 'paid'
        ? 'billing.invoice.paid'
        : outcome === 'payment_failed'
          ? 'billing.invoice.payment_failed'
          : invoice.status === 'VOID'
            ? 'billing.invoice.voided'
            : undefined;
    if (type) {
      await repos.outbox.append(
        drafts.invoice(type, origin.storefront, subscription, invoice, source.providerEventId),
        source,
      );
    }
    if (outcome === 'paid' && invoice.type !== 'TRIAL') {
      await this.renew(repos, origin, subscription, invoice, source, answers);
    }
    return `invoice ${invoice.id} ${invoice.status}`;
  }
  /** A paid invoice for a later period renews the subscription; one that ends a dunning run needs the provider's word. */
  private async renew(
    repos: Repositories,
    origin: EventOrigin,
    subscription: Subscription,
    invoice: Invoice,
    source: ActorContext,
    answers: SubscriptionAnswers,
  ): Promise<void> {
    // An ended subscription is never renewed by an invoice (a late charge after our own cancellation, say).
    if (isTerminal(subscription.status)) return;
    if (subscription.status === 'PAST_DUE' || subscription.status === 'UNPAID') {
      await this.subscriptions.reconcile(repos, origin, subscription, source, 'paid during dunning', answers);
      return;
    }
    const later =
      invoice.periodEnd && (!subscription.currentPeriodEnd || invoice.periodEnd > subscription.currentPeriodEnd);
    if (!later || subscription.status === 'INCOMPLETE') return;
    await applySubscriptionState(
      repos,
      origin.storefront,
      subscription,
      {
        ...subscription,
        currentPeriodStart: invoice.periodStart,
        currentPeriodEnd: invoice.periodEnd,
        observedAt: undefined,
      },
      source,
      this.clock.now(),
      origin.features,
    );
  }
  /** Settles a refund exactly once, as the provider reports it (webhook or fetch). */
  async applyRefund(
    repos: Repositories,
    origin: EventOrigin,
    state: ProviderRefundState,
    outcome: 'succeeded' | 'failed',
    source: ActorContext,
  ): Promise<string> {
    const now = this.clock.now();
    const payment = await repos.payments.findByProviderRef(origin.storefront.id, origin.provider, state.paymentRef, {
      forUpdate: true,
    });
    if (!payment) throw new ForeignOrUnknownObject('payment', `${origin.provider}:${state.paymentRef}`);
    let refund = await repos.refunds.findByProviderRef(payment.id, state.ref, { forUpdate: true });
    if (!refund) {
      // Issued outside this service (e.g. the provider's dashboard): record it like ours.
      refund = {
        id: newId('ref'),
        paymentId: payment.id,
        amount: state.amount,
        reason: state.reason,
        status: 'PENDING',
        providerRef: state.ref,
        createdAt: now,
        updatedAt: now,
      };
      await repos.refunds.insert(refund);
    }
    if (refund.status !== 'PENDING') return `refund ${refund.id} already ${refund.status}`;
    if (outcome === 'failed') {
      refund = { ...refund, status: 'FAILED', failure: state.failure, updatedAt: now };
      await repos.refunds.update(refund);
      await repos.outbox.append(
        drafts.refund('billing.refund.failed', origin.storefront, payment, refund, source.providerEventId),
        source,
      );
      return `refund ${refund.id} FAILED`;
    }
    refund = { ...refund, status: 'SUCCEEDED', updatedAt: now };
    await repos.refunds.update(refund);
    const refundedMinor = payment.refundedMinor + refund.amount.amountMinor;
    const refunded: Payment = {
      ...payment,
      refundedMinor,
      refundState: refundStateOf(payment.amount.amountMinor, refundedMinor),
      updatedAt: now,
    };
    await repos.payments.update(refunded);
    await repos.outbox.append(
      drafts.refund('billing.refund.succeeded', origin.storefront, refunded, refund, source.providerEventId),
      source,
    );
    await repos.outbox.append(
      drafts.payment('billing.payment.refunded', origin.storefront, refunded, source.providerEventId),
      source,
    );
    return `refund ${refund.id} SUCCEEDED`;
  }
}
