import { DomainError, failedPrecondition } from '../../src/domain/errors';
import { formatDecimal } from '../../src/domain/money';
import type { IntervalUnit } from '../../src/domain/plan';
import type { PlanTerms, ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { readAnswer } from './answers';
import type { AzotteAnswer, AzotteClient } from './client';
import { errorFromEnvelope } from './errors';
import { moneyField } from './mapping';
import { arr, asObject, int, obj, optInt, str } from '../kit/json';

/** The offer → checkout flow both createCheckout and changePlan use (README 20–23, 32). */

export interface OfferContext {
  operation: 'createCheckout' | 'changePlan';
  customerUrn: string;
  storefrontUrn: string;
  plan: PlanTerms;
  promotionCode?: string;
  /** A Replace: the subscription being replaced. */
  replacing?: string;
}

const PERIOD_UNIT: Record<string, IntervalUnit> = { Day: 'DAY', Week: 'WEEK', Month: 'MONTH', Year: 'YEAR' };

/** A fresh offer, and the item of our plan's bundle in it, checked against our plan's terms (README 21). */
export async function offerItem(
  client: AzotteClient,
  ctx: ProviderCallContext,
  offer: OfferContext,
): Promise<{ offerIdentifier: string; itemIdentifier: string }> {
  const bundleUrn = offer.plan.ref!;
  const subject = { customerUrn: offer.customerUrn, bundleUrn, storefrontUrn: offer.storefrontUrn };
  const answer = await client.call(ctx, {
    operation: offer.operation,
    method: 'POST',
    route: '/offer/bundles',
    body: {
      context: {
        customerUrn: offer.customerUrn,
        storefrontUrn: offer.storefrontUrn,
        interactionType: offer.replacing ? 'Replace' : 'NewAcquisition',
        channel: 'Azotte',
        clientPlatformType: 'Web',
        promotionCode: offer.promotionCode,
        originalSubscriptionIdentifier: offer.replacing,
      },
    },
    subject,
  });
  const read = readAnswer(ctx, offer.operation, () => {
    const o = obj(answer.body, 'offer', '');
    const groups = arr(o, 'artifactGroups', 'offer').map((g, i) => asObject(g, `offer.artifactGroups[${i}]`));
    const index = groups.findIndex((g) => g.bundleUrn === bundleUrn);
    if (index < 0) return undefined;
    const p = `offer.artifactGroups[${index}]`;
    const g = groups[index]!;
    const price = obj(g, 'price', p);
    const period = obj(g, 'billingPeriod', p);
    return {
      offerIdentifier: str(o, 'offerIdentifier', 'offer'),
      itemIdentifier: str(g, 'itemIdentifier', p),
      price: moneyField(price, 'amountMilpieces', str(price, 'currency', `${p}.price`), `${p}.price`),
      unit: str(period, 'unit', `${p}.billingPeriod`),
      count: int(period, 'count', `${p}.billingPeriod`),
      trialDays: optInt(g, 'trialDays', p) ?? 0,
    };
  });
  const where = `storefront '${ctx.storefrontId}'`;
  if (!read) {
    throw failedPrecondition(`${where}: Azotte offers no bundle '${bundleUrn}' to customer '${offer.customerUrn}'`);
  }
  const ours = offer.plan;
  const show = (m: { amountMinor: bigint; currency: string }) =>
    `${formatDecimal(m.amountMinor, m.currency)} ${m.currency}`;
  if (read.price.currency !== ours.price.currency.toUpperCase() || read.price.amountMinor !== ours.price.amountMinor) {
    throw failedPrecondition(
      `${where}: Azotte prices bundle '${bundleUrn}' at ${show(read.price)}, our plan at ${show(ours.price)}`,
    );
  }
  if (PERIOD_UNIT[read.unit] !== ours.interval.unit || read.count !== ours.interval.count) {
    throw failedPrecondition(
      `${where}: Azotte bills bundle '${bundleUrn}' every ${read.count} ${read.unit}, our plan every ${ours.interval.count} ${ours.interval.unit}`,
    );
  }
  if (read.trialDays !== ours.trialDays) {
    throw failedPrecondition(
      `${where}: Azotte gives bundle '${bundleUrn}' ${read.trialDays} trial days, our plan ${ours.trialDays}`,
    );
  }
  return { offerIdentifier: read.offerIdentifier, itemIdentifier: read.itemIdentifier };
}

/**
 * offer/checkout with a stored method; on OFFER_EXPIRED a fresh offer and one more submission with the same
 * correlationId (Azotte dedupes by it, so the resubmission can never charge twice).
 */
export async function checkoutOffer(
  client: AzotteClient,
  ctx: ProviderCallContext,
  offer: OfferContext,
  order: { correlationId: string; paymentMethodUrn: string },
): Promise<AzotteAnswer> {
  for (let attempt = 1; ; attempt += 1) {
    const item = await offerItem(client, ctx, offer);
    const answer = await client.call(ctx, {
      operation: offer.operation,
      method: 'POST',
      route: '/offer/checkout',
      body: {
        order: {
          offerIdentifier: item.offerIdentifier,
          correlationId: order.correlationId,
          items: [{ itemIdentifier: item.itemIdentifier, quantity: 1 }],
          customer: { customerUrn: offer.customerUrn },
        },
        paymentMethod: {
          paymentChannel: 'CreditCard',
          useStoredMethod: true,
          paymentMethodUrn: order.paymentMethodUrn,
        },
      },
      subject: { customerUrn: offer.customerUrn, paymentMethodRef: order.paymentMethodUrn, bundleUrn: offer.plan.ref },
      accept: ['OFFER_EXPIRED'],
    });
    if (answer.messageCode !== 'OFFER_EXPIRED') return answer;
    if (attempt >= 2) {
      throw errorFromEnvelope(answer.body, 409, { storefrontId: ctx.storefrontId, operation: offer.operation });
    }
  }
}

/** FAILED_PRECONDITION naming our payment_method_ref (README 12: PAYMENT_METHOD_NOT_FOUND). */
export function paymentMethodRefused(ref: string, customerUrn: string): DomainError {
  const rule = `is not an active method of customer '${customerUrn}' at Azotte`;
  return new DomainError('FAILED_PRECONDITION', `payment method '${ref}' ${rule}`, [
    { field: 'payment_method_ref', rule },
  ]);
}
