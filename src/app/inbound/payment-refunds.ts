import type { Money } from '../../domain/money';
import { Payment, refundStateOf, refundsTotal } from '../../domain/payment';
import type { ActorContext, Repositories } from '../../ports/store.port';
import { drafts } from '../engine/event-drafts';
import type { EventOrigin } from './event-origin';

/** Every refund a payment can have: a bound well above any real count, as CreateRefund reads them. */
const ALL_REFUNDS = { size: 10_000 };

/** What the inbox note says of a refunded total above the payment's amount (refused, see aboveAmount). */
export const ABOVE_AMOUNT = "refund above the payment's amount, not applied";

/**
 * Whether a refunded total is more than the payment's amount. No payment is refunded beyond what was paid: such a
 * report is wrong (the provider's or someone's with its key), and taking it would emit it to consumers and leave a
 * negative amount left to refund. It is refused, never clamped to the amount (that would be a state no one reported).
 */
export function aboveAmount(payment: Payment, refundedMinor: bigint): boolean {
  return refundedMinor > payment.amount.amountMinor;
}

/**
 * The payment with `refundedMinor` of it refunded, or undefined when that is not more than it has, or more than its
 * amount (aboveAmount: refused). Refunded amounts only grow: a total no larger than ours (a late or repeated report,
 * or one our own refunds already count) is no change.
 */
export function withRefunded(payment: Payment, refundedMinor: bigint, now: Date): Payment | undefined {
  if (refundedMinor <= payment.refundedMinor || aboveAmount(payment, refundedMinor)) return undefined;
  return {
    ...payment,
    refundedMinor,
    refundState: refundStateOf(payment.amount.amountMinor, refundedMinor),
    updatedAt: now,
  };
}

/** Stores a payment `withRefunded` raised (it is locked) and tells consumers: `billing.payment.refunded`. */
export async function recordRefunded(
  repos: Repositories,
  origin: EventOrigin,
  refunded: Payment,
  source: ActorContext,
): Promise<void> {
  await repos.payments.update(refunded);
  await repos.outbox.append(
    drafts.payment('billing.payment.refunded', origin.storefront, refunded, source.providerEventId),
    source,
  );
}

/**
 * The refunded total a provider reports with a payment's state, when it is one we can take: only a captured payment
 * is refunded, and only an amount in the payment's own currency counts.
 */
export function reportedRefunded(payment: Payment, reported: Money): bigint | undefined {
  if (payment.status !== 'SUCCEEDED' || reported.currency !== payment.amount.currency) return undefined;
  return reported.amountMinor;
}

/** What the payment's settled refunds add up to (each refund recorded once, ours and the provider's alike). */
export async function settledRefundsOf(repos: Repositories, paymentId: string): Promise<bigint> {
  return refundsTotal(await repos.refunds.listOfPayment(paymentId, ALL_REFUNDS), 'SUCCEEDED');
}
