import type { Logger } from 'pino';
import { newId } from '../../domain/ids';
import type { Money } from '../../domain/money';
import type { Subscription } from '../../domain/subscription';
import type { ProviderPaymentState, ProviderSubscriptionState } from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories } from '../../ports/store.port';
import type { EventOrigin, ProviderEventApplier } from '../inbound/provider-events';
import { AskedFirst } from '../inbound/subscription-answers';
import type { ProviderConnection } from '../providers/provider-gateway';
import { recordChange } from '../engine/record-change';

/** A renewal the provider charged after our period end, found when the scheduled cancellation ran late. */
export interface LateRenewal {
  /** The charge, when the provider showed it (a renewed period alone does not say which payment). */
  payment?: ProviderPaymentState;
  /** The provider's refund of it, when the provider can refund. */
  refund?: Awaited<ReturnType<NonNullable<ProviderConnection['provider']['operations']['refund']>>>;
}

/**
 * The scheduled cancellation's payload key for a late renewal it found (with the charge's reference when the provider
 * named one), noted before the refund is asked for: a run that ends early (the refund failed, or the provider's own
 * cancellation ended ours first) leaves it there, so the next run still refunds or reports it.
 */
export const LATE_RENEWAL = 'late_renewal';

/** The payload key saying the noted late renewal was refunded or reported (recorded with the subscription's end). */
export const LATE_RENEWAL_SETTLED_AT = 'late_renewal_settled_at';

/** The payload entries noting `renewal` on the scheduled cancellation. */
export function noteOf(renewal: LateRenewal): Record<string, unknown> {
  return { [LATE_RENEWAL]: { payment_ref: renewal.payment?.ref ?? null } };
}

/** A late renewal noted on the scheduled cancellation and not yet refunded or reported, or undefined. */
export function unsettledLateRenewal(
  payload: Record<string, unknown> | undefined,
): { paymentRef?: string } | undefined {
  const noted = payload?.[LATE_RENEWAL];
  if (!noted || typeof noted !== 'object' || payload?.[LATE_RENEWAL_SETTLED_AT]) return undefined;
  const ref = (noted as Record<string, unknown>).payment_ref;
  return { paymentRef: typeof ref === 'string' ? ref : undefined };
}

/**
 * The noted late renewal as the provider shows it now: its charge found again by reference (or, failing that, as a
 * late renewal of the period), else without a charge (then it is reported for a refund by hand).
 */
export function lateRenewalAgain(
  fresh: ProviderSubscriptionState | undefined,
  ourPeriodEnd: Date | undefined,
  noted: { paymentRef?: string },
): LateRenewal {
  const payment = noted.paymentRef ? fresh?.payments?.find((p) => p.ref === noted.paymentRef) : undefined;
  if (payment) return { payment };
  return (ourPeriodEnd && lateRenewalOf(fresh, ourPeriodEnd)) || {};
}

/**
 * Whether the provider renewed past our period end before the late cancellation reached it: a period starting at or
 * after our period end, or a successful charge after it. The charge is named when the provider showed one.
 */
export function lateRenewalOf(
  fresh: ProviderSubscriptionState | undefined,
  ourPeriodEnd: Date,
): LateRenewal | undefined {
  if (!fresh) return undefined;
  const payment = (fresh.payments ?? []).find(
    (p) => p.status === 'SUCCEEDED' && p.paidAt !== undefined && p.paidAt >= ourPeriodEnd,
  );
  const renewedPeriod = fresh.currentPeriodStart !== undefined && fresh.currentPeriodStart >= ourPeriodEnd;
  return payment || renewedPeriod ? { payment } : undefined;
}

/**
 * Refunds a late renewal charge where the provider can refund (our refund id derived from the scheduled action, so
 * a repeated run asks for the same refund); otherwise leaves it to be reported.
 */
export async function refundLateRenewal(
  connection: ProviderConnection,
  subscription: Subscription,
  renewal: LateRenewal,
  actionId: string,
): Promise<LateRenewal> {
  const refund = connection.optional('refund');
  if (!refund || !renewal.payment) return renewal;
  const state = await refund(connection.ctx, {
    refundId: `ref_${actionId.replace(/^act_/, '').replace(/-/g, '')}`,
    payment: { ref: renewal.payment.ref, orderId: subscription.id },
    amount: renewal.payment.amount,
    reason: 'renewal charged after the subscription was cancelled at period end',
  });
  return { ...renewal, refund: state };
}

/**
 * Records a late renewal in the transaction that ended the subscription: the charge as a payment of the subscription
 * (its `billing.payment.succeeded` tells finance), its refund when one was made, and otherwise a
 * `LateCancellationRenewalCharged` audit entry and a warning, because someone must refund it by hand.
 */
export async function recordLateRenewal(
  repos: Repositories,
  applier: ProviderEventApplier,
  origin: EventOrigin,
  subscription: Subscription,
  renewal: LateRenewal,
  source: ActorContext,
  logger: Pick<Logger, 'warn'>,
): Promise<void> {
  const { payment, refund } = renewal;
  if (payment) {
    // The subscription is live: its payment puts nothing in doubt, so nothing more is asked of the provider.
    await applier.applyPayment(repos, origin, { ...payment, orderId: subscription.id }, source, AskedFirst.of());
  }
  if (refund && refund.status !== 'PENDING') {
    await applier.applyRefund(repos, origin, refund, refund.status === 'SUCCEEDED' ? 'succeeded' : 'failed', source);
  } else if (refund) {
    // Still pending at the provider: on record, so the refund sweep follows it up to its end.
    const paid = await repos.payments.findByProviderRef(subscription.storefrontId, origin.provider, refund.paymentRef);
    if (paid && !(await repos.refunds.findByProviderRef(paid.id, refund.ref))) {
      const at = subscription.updatedAt;
      await repos.refunds.insert({
        id: newId('ref'),
        paymentId: paid.id,
        amount: refund.amount,
        reason: refund.reason,
        status: 'PENDING',
        providerRef: refund.ref,
        createdAt: at,
        updatedAt: at,
      });
    }
  }
  const refunded = refund !== undefined && refund.status !== 'FAILED';
  const amount: Money | undefined = payment?.amount;
  const details = {
    payment_ref: payment?.ref,
    amount_minor: amount?.amountMinor.toString(),
    currency: amount?.currency,
    refund_ref: refund?.ref,
    refund_status: refund?.status,
    ended_at: subscription.currentPeriodEnd?.toISOString(),
  };
  await recordChange(repos, source, {
    audit: {
      action: refunded ? 'LateCancellationRenewalRefunded' : 'LateCancellationRenewalCharged',
      resourceType: 'subscription',
      resourceId: subscription.id,
      storefrontId: subscription.storefrontId,
      details: refunded ? details : { ...details, needs: 'a manual refund of the renewal charge' },
    },
  });
  if (!refunded) {
    logger.warn(
      { subscription_id: subscription.id, provider: subscription.provider, ...details },
      'emulated cancel at period end ran after the provider charged a renewal; refund it by hand',
    );
  }
}
