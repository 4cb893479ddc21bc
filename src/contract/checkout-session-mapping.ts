import { CheckoutNextAction, CheckoutSession, redirectUrlOf } from '../domain/checkout-session';
import * as pb from '../gen/billing/v1/subscription';
import { toFailureMessage } from './payment-mapping';

function toNextActionMessage(action: CheckoutNextAction | undefined): pb.NextAction | undefined {
  if (!action) return undefined;
  return 'redirectUrl' in action ? { redirectUrl: action.redirectUrl } : { html: action.html };
}

export function toCheckoutSessionMessage(s: CheckoutSession): pb.CheckoutSession {
  return {
    id: s.id,
    url: redirectUrlOf(s.nextAction),
    expireTime: s.expiresAt,
    status: pb.CheckoutSessionStatus[`CHECKOUT_SESSION_STATUS_${s.status}`],
    nextAction: toNextActionMessage(s.nextAction),
    provider: s.provider,
    providerRef: s.providerRef,
    storefrontId: s.storefrontId,
    subscriptionId: s.subscriptionId ?? '',
    paymentId: s.paymentId ?? '',
    failure: toFailureMessage(s.failure),
    createTime: s.createdAt,
    updateTime: s.updatedAt,
  };
}

/** The requested UI mode; UNSPECIFIED is hosted. Undefined for a value this build does not know. */
export function fromCheckoutUiModeMessage(mode: pb.CheckoutUiMode): 'hosted' | 'embedded' | undefined {
  switch (mode) {
    case pb.CheckoutUiMode.CHECKOUT_UI_MODE_UNSPECIFIED:
    case pb.CheckoutUiMode.CHECKOUT_UI_MODE_HOSTED:
      return 'hosted';
    case pb.CheckoutUiMode.CHECKOUT_UI_MODE_EMBEDDED:
      return 'embedded';
    default:
      return undefined;
  }
}
