import { MAX_AMOUNT_MINOR } from '../../domain/money';
import type { Subscription } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type { ProviderPaymentState } from '../../ports/provider-adapter.port';
import type { ActorContext, Repositories, ScheduledAction, UnitOfWork } from '../../ports/store.port';
import { systemContext } from '../call-context';
import { applySubscriptionState } from '../engine/subscription-changes';
import { handleOf } from '../engine/subscription-handle';
import type { ProviderEventApplier } from '../inbound/provider-events';
import { askingNow } from '../inbound/subscription-answers';
import type { ProviderGateway } from '../providers/provider-gateway';
import { renewsByMerchant } from '../engine/merchant-renewal-schedule';
import type { ActionHandler, ActionOutcome } from './scheduler';

export { MERCHANT_RENEWAL } from '../engine/merchant-renewal-schedule';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export interface MerchantRenewalDeps {
  uow: UnitOfWork;
  gateway: ProviderGateway;
  applier: ProviderEventApplier;
  clock: Clock;
  /** Days after the period end at which a declined renewal is charged again; after the last: UNPAID. */
  dunningDays: readonly number[];
}

/**
 * Charges one renewal (Flow 4 where the provider has it): the plan's price × quantity with the subscription's saved
 * payment method, once per attempt of a cycle (the order id says which). Paid: the payment and its invoice are
 * recorded and the provider's new period applied (renewed, payment succeeded, invoice paid), which schedules the
 * next one. Declined: PAST_DUE and a retry on the dunning schedule; after the last retry UNPAID. A subscription set
 * to cancel at period end is not charged: the provider ends it.
 */
export function merchantRenewalHandler(deps: MerchantRenewalDeps): ActionHandler {
  return (action, signal) =>
    deps.uow.transaction(async (repos): Promise<ActionOutcome> => {
      const subscription = await repos.subscriptions.get(action.subjectId, { forUpdate: true });
      const storefront = subscription && (await repos.storefronts.get(subscription.storefrontId));
      if (!subscription || !storefront || !renewsByMerchant(storefront)) return 'done';
      const dueFor = String(action.payload.periodEnd ?? '');
      const renewable = ['ACTIVE', 'TRIALING', 'PAST_DUE'].includes(subscription.status);
      // Renewed already (a period end after the one this charge was for), ended, or ending at its period end.
      if (!renewable || subscription.cancelAtPeriodEnd) return 'done';
      if (subscription.currentPeriodEnd && subscription.currentPeriodEnd.toISOString() > dueFor) return 'done';

      const source: ActorContext = { actor: 'system:merchant-renewal', correlationId: action.id };
      const call = { ...systemContext(action.id), signal };
      const connection = await deps.gateway.connect(repos, storefront, subscription.provider, call);
      const charge = connection.optional('chargeRenewal');
      if (!charge) return 'done';
      const handle = await handleOf(repos, subscription);
      const plan = await repos.plans.get(subscription.planId);
      if (!plan) return { retryAt: later(deps.clock, DAY_MS), reason: `plan '${subscription.planId}' not found` };
      const amountMinor = plan.price.amountMinor * BigInt(subscription.quantity);
      // Price and quantity are each bounded, their product is not: a charge past the bound of every amount we hold
      // would go out, and the provider's answer (its echo of it) could not be recorded. Nothing is charged.
      if (amountMinor > MAX_AMOUNT_MINOR) {
        return {
          retryAt: later(deps.clock, DAY_MS),
          reason: `price × quantity is ${amountMinor} minor units, beyond ${MAX_AMOUNT_MINOR}: not charged`,
        };
      }

      const origin = {
        provider: subscription.provider,
        storefront,
        correlationId: action.id,
        features: connection.provider.features,
      };
      const periodEnd = new Date(dueFor).getTime();
      // The saved payment method and cycle, from the provider's subscription (first renewal: learned here).
      const fresh = await connection.operation('getSubscription')(connection.ctx, handle);
      // Renewed at the provider already: a charge of ours went through there and its answer was lost (the run threw
      // after it; its webhooks not applied yet). Charging now would take the provider's next cycle index, a new
      // order, and the customer would pay twice. Its period is applied as the provider has it instead; the charge
      // itself is recorded when its webhooks come (providers deliver again until one is acknowledged). A renewal
      // moves the end by a day at least (the shortest interval); an hour's margin keeps a provider that rounds its
      // times differently from ours from skipping a charge that is due.
      if (fresh?.currentPeriodEnd && fresh.currentPeriodEnd.getTime() > periodEnd + HOUR_MS) {
        await deps.applier.applyFetched(repos, origin, subscription, fresh, source);
        const after = await repos.subscriptions.get(subscription.id);
        // Applied: the new period schedules the next renewal. Not (an answer older than our record, say): looked at
        // again later, still without charging, rather than marked done with no renewal pending.
        if (after?.currentPeriodEnd && after.currentPeriodEnd.toISOString() > dueFor) return 'done';
        return {
          retryAt: later(deps.clock, HOUR_MS),
          reason: 'renewed at the provider already; its period not applied yet',
        };
      }
      const paymentMethodRef = subscription.paymentMethodRef ?? fresh?.paymentMethodRef;
      if (!paymentMethodRef) {
        return { retryAt: later(deps.clock, DAY_MS), reason: 'no saved payment method to charge yet' };
      }
      let current = subscription;
      if (current.paymentMethodRef !== paymentMethodRef) {
        current = { ...current, paymentMethodRef };
        await repos.subscriptions.update(current);
      }
      const cycleIndex = (fresh?.cycleIndex ?? 0) + 1;
      const step = dunningStep(action, periodEnd, deps.dunningDays);
      const orderId = `${subscription.id}-c${cycleIndex}${step > 0 ? `-r${step}` : ''}`;
      const payment = await charge(
        { ...connection.ctx, idempotencyKey: `merchant-renewal:${orderId}` },
        {
          handle,
          orderId,
          amount: { currency: plan.price.currency, amountMinor },
          paymentMethodRef,
          cycleIndex,
        },
      );
      await deps.applier.applyPayment(repos, origin, payment, source, askingNow(repos, connection));
      if (payment.status === 'SUCCEEDED') {
        await recordRenewal(repos, deps, connection, origin, payment, source, current);
        return 'done';
      }
      // Declined (or still processing: treated as not paid yet, and asked again on the dunning schedule).
      const retryDay = deps.dunningDays[step];
      const status = retryDay === undefined ? 'UNPAID' : 'PAST_DUE';
      await applySubscriptionState(
        repos,
        storefront,
        current,
        { status, observedAt: observedAt(deps.clock, action.dueAt, current.providerObservedAt) },
        source,
        deps.clock.now(),
        origin.features,
      );
      if (retryDay === undefined) return 'done';
      // The next step is kept with the retry's time, in one statement: a crash before it repeats this step (the same
      // order, its decline found again), never runs the next one before its day.
      return {
        retryAt: new Date(periodEnd + retryDay * DAY_MS),
        reason: `renewal declined (${status})`,
        payload: { step: step + 1 },
      };
    });
}

/**
 * Which dunning step this run is: 0 for the charge at the period end, n for the retry after n declines. Every run of
 * one step charges the same order, so an answer lost after the provider charged is found, not charged again. The
 * step is counted by declines (the action's payload, written with each retry), never from the time the run fell due: a
 * run that threw is retried with a growing backoff, and once that passed the next dunning day the time said "next
 * step": the charge went out under the next order id, not the one a lost answer of this step would be found by. An
 * action scheduled before the step was kept has none, and is counted from its due time as it was then.
 */
function dunningStep(action: ScheduledAction, periodEnd: number, dunningDays: readonly number[]): number {
  const kept = action.payload.step;
  if (typeof kept === 'number' && Number.isInteger(kept) && kept >= 0) return kept;
  return dunningDays.filter((day) => periodEnd + day * DAY_MS <= action.dueAt.getTime()).length;
}

/** A paid renewal: its invoice (RENEWAL, cycle index) and the provider's new period, applied as a webhook would be. */
async function recordRenewal(
  repos: Repositories,
  deps: MerchantRenewalDeps,
  connection: Awaited<ReturnType<ProviderGateway['connect']>>,
  origin: Parameters<ProviderEventApplier['applyPayment']>[1],
  payment: ProviderPaymentState,
  source: ActorContext,
  current: Subscription,
): Promise<void> {
  // This handler charges under the subscription's lock (so a renewal is charged once): it asks under it too.
  const answers = askingNow(repos, connection);
  const getInvoice = connection.optional('getInvoice');
  if (payment.invoiceRef && getInvoice) {
    const invoice = await getInvoice(connection.ctx, payment.invoiceRef);
    await deps.applier.applyInvoice(repos, origin, invoice, 'paid', source, answers);
  }
  await deps.applier.reconcile(repos, origin, current, source, 'merchant renewal paid', answers);
}

/**
 * When our own finding (declined → PAST_DUE/UNPAID) is true: now, but never before the charge fell due nor before the
 * provider state we applied last, which our scheduler's charge follows.
 */
function observedAt(clock: Clock, dueAt: Date, lastObserved: Date | undefined): Date {
  const at = Math.max(clock.now().getTime(), dueAt.getTime(), (lastObserved?.getTime() ?? 0) + 1);
  return new Date(at);
}

function later(clock: Clock, ms: number): Date {
  return new Date(clock.now().getTime() + ms);
}
