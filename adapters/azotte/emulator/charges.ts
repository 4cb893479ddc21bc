import type { Failure } from '../../kit/emulator/faults';
import type { EmulatorContext } from './context';
import type { SubscriptionRecord } from './records';
import type { AzotteBundle, AzotteCampaign } from './types';

const BASIS_POINTS = 10_000n;

/** The bundle's price less the campaign (percent floors; amount off never below zero). */
export function discounted(bundle: AzotteBundle, campaign: AzotteCampaign | null): bigint {
  const price = bundle.amountMilpieces;
  if (!campaign) return price;
  if (campaign.percentOffBasisPoints !== undefined) {
    return (price * (BASIS_POINTS - BigInt(campaign.percentOffBasisPoints))) / BASIS_POINTS;
  }
  const off = campaign.amountOffMilpieces ?? 0n;
  return off >= price ? 0n : price - off;
}

/** What the subscription's next charge costs: its campaign applies while cycles are left. */
export function nextChargeAmount(s: SubscriptionRecord): bigint {
  return discounted(s.bundle, s.campaign && s.campaign.cyclesLeft > 0 ? s.campaign.code : null);
}

/** One charge used: the campaign has one cycle fewer. */
export function useCampaignCycle(s: SubscriptionRecord): void {
  if (s.campaign && s.campaign.cyclesLeft > 0) s.campaign.cyclesLeft -= 1;
}

/**
 * Charges a stored card: the kit's "fail next charges" first, then the card itself (its test outcome, its state).
 * Answers the failure, or undefined when captured.
 */
export function chargeCard(
  ctx: EmulatorContext,
  customerUrn: string,
  paymentMethodUrn: string | null,
): Failure | undefined {
  const forced = ctx.chargeFailures.take();
  if (forced) return forced;
  // A subscription from another channel is charged by its store, never on a card here.
  if (paymentMethodUrn === null) return undefined;
  const method = ctx.state.method(customerUrn, paymentMethodUrn);
  if (!method || method.state !== 'Active') {
    return { code: 'CARD_DECLINED', message: 'The stored payment method is not active' };
  }
  if (method.outcome === 'decline') return { code: 'CARD_DECLINED', message: 'The card was declined' };
  return undefined;
}
