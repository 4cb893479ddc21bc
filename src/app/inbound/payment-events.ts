import type { EventType } from '../../domain/event-catalogue';
import { newId } from '../../domain/ids';
import type { Invoice } from '../../domain/invoice';
import { canMoveInvoice } from '../../domain/invoice-lifecycle';
import type { Payment, PaymentStatus } from '../../domain/payment';
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
import {
  ABOVE_AMOUNT,
  aboveAmount,
  recordRefunded,
  reportedRefunded,
  settledRefundsOf,
  withRefunded,
} from './payment-refunds';
import { paymentScope, recordedMeanwhile } from './payment-lookup';
import { echoedRefund } from './refund-lookup';
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
    let inserted = false;
    if (!payment) {
      const fresh: Payment = {
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
      inserted = await repos.payments.insertUnlessHeld(fresh);
      // The same report, processed by another transaction since paymentScope looked, recorded it first.
      payment = inserted ? fresh : await recordedMeanwhile(repos, origin, state);
    }
    const before = inserted ? undefined : payment.status;
    if (!inserted) {
      if (payment.status === state.status && payment.providerRef) {
        return this.refundedSince(repos, origin, payment, state, source, now, 'unchanged');
      }
      if (!canMovePayment(payment.status, state.status)) {
        const note = `stays ${payment.status} (reported ${state.status})`;
        return this.refundedSince(repos, origin, payment, state, source, now, note);
      }
      payment = {
        ...payment,
        providerRef: payment.providerRef ?? state.ref,
        status: state.status,
        failure: state.failure ?? payment.failure,
        updatedAt: now,
      };
      await repos.payments.update(payment);
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
    return this.refundedSince(repos, origin, payment, state, source, now, payment.status);
  }
  /**
   * A refund the provider reports with the payment's state (one made at the provider, e.g. in its portal, that no
   * refund object of ours stands for): recorded when the reported refunded total is larger than ours. `note` is
   * what the status step did.
   */
  private async refundedSince(
    repos: Repositories,
    origin: EventOrigin,
    payment: Payment,
    state: ProviderPaymentState,
    source: ActorContext,
    now: Date,
    note: string,
  ): Promise<string> {
    const reported = reportedRefunded(payment, state.refundedAmount);
    if (reported !== undefined && aboveAmount(payment, reported)) {
      return `payment ${payment.id} ${note}, ${ABOVE_AMOUNT}`;
    }
    const refunded = reported === undefined ? undefined : withRefunded(payment, reported, now);
    if (!refunded) return `payment ${payment.id} ${note}`;
    await recordRefunded(repos, origin, refunded, source);
    return `payment ${payment.id} ${note}, ${refunded.refundState}`;
  }
  /**
   * Records an invoice as the provider reports it (webhook or fetch); its status only moves forward
   * (canMoveInvoice). A paid one may renew the subscription.
   */
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
    const reported = {
      id: newId('inv'),
      subscriptionId: subscription.id,
      customerId: subscription.customerId,
      amount: state.amount,
      type: state.type,
      status: state.status,
      cycleIndex: state.cycleIndex,
      periodStart: state.periodStart,
      periodEnd: state.periodEnd,
      providerRef: state.ref,
      createdAt: now,
      updatedAt: now,
    };
    // Recorded as reported unless we have it already, in which case it is locked and compared.
    const existing = await repos.invoices.lockOrInsert(reported);
    const invoice: Invoice = existing ? { ...reported, id: existing.id, createdAt: existing.createdAt } : reported;
    if (existing && existing.status === invoice.status) return `invoice ${existing.id} unchanged`;
    // A report about an earlier attempt arriving late (a redelivered failure after the cycle was paid) changes
    // nothing and tells no one: the invoice keeps the furthest status it reached.
    if (existing && !canMoveInvoice(existing.status, invoice.status)) {
      return `invoice ${existing.id} stays ${existing.status} (reported ${invoice.status})`;
    }
    if (existing) await repos.invoices.update(invoice);
    if (state.paymentRef) {
      await repos.payments.fileUnderInvoice(origin.storefront.id, origin.provider, state.paymentRef, invoice.id, now);
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
  /**
   * Settles a refund exactly once, as the provider reports it (webhook or fetch): ours by its reference, or by our
   * refund id the provider echoes (echoedRefund: it may report it before CreateRefund has recorded it), else one
   * issued outside this service.
   */
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
    let refund =
      (await repos.refunds.findByProviderRef(payment.id, state.ref, { forUpdate: true })) ??
      (await echoedRefund(repos, origin, payment, state, now));
    if (!refund && (await this.beyondPayment(repos, payment, state, outcome))) {
      // Refused whole: a refund object of that amount would itself say more was refunded than paid.
      return `refund of payment ${payment.id} (${origin.provider}:${state.ref}): ${ABOVE_AMOUNT}`;
    }
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
    // The payment's refunded amount is what its settled refunds add up to, unless the provider already reported
    // more with the payment's state (then this refund is in that total, not on top of it). Never more than the
    // payment's amount (aboveAmount): our own refunds are bounded when asked for, so a total above it means refunds
    // reported from elsewhere overlap; the payment then keeps the total it had.
    const settled = await settledRefundsOf(repos, payment.id);
    const refunded = withRefunded(payment, settled, now);
    await repos.outbox.append(
      drafts.refund('billing.refund.succeeded', origin.storefront, refunded ?? payment, refund, source.providerEventId),
      source,
    );
    if (refunded) await recordRefunded(repos, origin, refunded, source);
    return `refund ${refund.id} SUCCEEDED` + (aboveAmount(payment, settled) ? `, ${ABOVE_AMOUNT}` : '');
  }

  /**
   * Whether a refund issued outside this service would take the payment's refunds above its amount: by its own
   * amount, or (settled) with the refunds already settled. A settled refund's amount counts in our refunds' total, so
   * such a refund is not recorded at all.
   */
  private async beyondPayment(
    repos: Repositories,
    payment: Payment,
    state: ProviderRefundState,
    outcome: 'succeeded' | 'failed',
  ): Promise<boolean> {
    const amount = state.amount.amountMinor;
    if (aboveAmount(payment, amount)) return true;
    return outcome === 'succeeded' && aboveAmount(payment, (await settledRefundsOf(repos, payment.id)) + amount);
  }
}
