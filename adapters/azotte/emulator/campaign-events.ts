import type { EmulatorContext } from './context';
import type { SubscriptionRecord } from './records';
import type { AzotteCampaign } from './types';
import { emit } from './webhook-events';
import { campaignJson } from './wire';

/** `campaign.<type>` for a campaign applied to (or triggered on) a subscription (item 38). */
export function emitCampaign(
  ctx: EmulatorContext,
  type: 'trigger_fired' | 'offer_applied' | 'code_redeemed',
  s: SubscriptionRecord,
  campaign: AzotteCampaign,
  correlationId?: string | null,
): void {
  const amountOff = campaign.amountOffMilpieces !== undefined;
  emit(
    ctx,
    s.tenant,
    `campaign.${type}`,
    {
      ...campaignJson(campaign),
      customerUrn: s.customerUrn,
      orderIdentifier: s.orderIdentifier,
      ...(amountOff ? { currency: s.bundle.currency } : {}),
    },
    correlationId,
  );
}
