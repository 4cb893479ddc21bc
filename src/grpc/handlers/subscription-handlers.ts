import type { CheckoutUseCases } from '../../app/use-cases/checkout';
import type { CheckoutSessionUseCases } from '../../app/use-cases/checkout-sessions';
import type { PortalUseCases } from '../../app/use-cases/portal';
import type { SubscriptionUseCases } from '../../app/use-cases/subscriptions';
import type { UsageUseCases } from '../../app/use-cases/usage';
import { fromCheckoutUiModeMessage, toCheckoutSessionMessage } from '../../contract/checkout-session-mapping';
import { fromMoneyMessage } from '../../contract/money-mapping';
import {
  fromSubscriptionStatusMessage,
  toSubscriptionMessage,
  toUsageRecordMessage,
} from '../../contract/subscription-mapping';
import { toPaymentMessage } from '../../contract/payment-mapping';
import { invalidArgument } from '../../domain/errors';
import type { SubscriptionStatus } from '../../domain/subscription';
import type { SubscriptionServiceService } from '../../gen/billing/v1/subscription';
import * as pb from '../../gen/billing/v1/subscription';
import { Handlers, mutation, query } from '../rpc-wrapper';

/** The use cases SubscriptionService serves. */
export interface SubscriptionServiceUseCases {
  checkout: CheckoutUseCases;
  checkoutSessions: CheckoutSessionUseCases;
  subscriptions: SubscriptionUseCases;
  usage: UsageUseCases;
  portal: PortalUseCases;
}

export function subscriptionHandlers({
  checkout,
  checkoutSessions,
  subscriptions,
  usage,
  portal,
}: SubscriptionServiceUseCases): Handlers<SubscriptionServiceService> {
  const one = (s: Parameters<typeof toSubscriptionMessage>[0]) => ({ subscription: toSubscriptionMessage(s) });
  return {
    createCheckoutSession: mutation(
      (req: pb.CreateCheckoutSessionRequest, ctx) =>
        checkout.createCheckout(
          {
            storefrontId: req.storefrontId,
            customerId: req.customerId,
            mode: checkoutMode(req.mode),
            planId: req.planId,
            quantity: req.quantity,
            amount: fromMoneyMessage(req.amount),
            description: req.description,
            successUrl: req.successUrl,
            cancelUrl: req.cancelUrl,
            uiMode: uiModeOf(req.uiMode),
            promotionCode: req.promotionCode,
            paymentMethodRef: req.paymentMethodRef,
          },
          ctx,
        ),
      (result): pb.CreateCheckoutSessionResponse => sessionResponse(result),
    ),
    getCheckoutSession: query(async (req: pb.GetCheckoutSessionRequest, ctx): Promise<pb.GetCheckoutSessionResponse> =>
      sessionResponse(await checkoutSessions.get(req.checkoutSessionId, ctx)),
    ),
    // The hottest read: no async layer of its own (see rpc-wrapper's run).
    getSubscription: query((req: pb.GetSubscriptionRequest) => subscriptions.get(req.subscriptionId).then(one)),
    listSubscriptions: query(async (req: pb.ListSubscriptionsRequest): Promise<pb.ListSubscriptionsResponse> => {
      const page = await subscriptions.list(
        { storefrontId: req.storefrontId, customerId: req.customerId, statuses: statusesOf(req.statuses) },
        req.pageSize,
        req.pageToken,
      );
      return { subscriptions: page.items.map(toSubscriptionMessage), nextPageToken: page.nextPageToken };
    }),
    changePlan: mutation(
      (req: pb.ChangePlanRequest, ctx) => subscriptions.changePlan(req.subscriptionId, req.planId, ctx),
      one,
    ),
    updateQuantity: mutation(
      (req: pb.UpdateQuantityRequest, ctx) => subscriptions.updateQuantity(req.subscriptionId, req.quantity, ctx),
      one,
    ),
    pauseSubscription: mutation(
      (req: pb.PauseSubscriptionRequest, ctx) => subscriptions.pause(req.subscriptionId, req.resumeTime, ctx),
      one,
    ),
    resumeSubscription: mutation(
      (req: pb.ResumeSubscriptionRequest, ctx) => subscriptions.resume(req.subscriptionId, ctx),
      one,
    ),
    cancelSubscription: mutation(
      (req: pb.CancelSubscriptionRequest, ctx) =>
        subscriptions.cancel(
          { subscriptionId: req.subscriptionId, atPeriodEnd: req.atPeriodEnd, reason: req.reason },
          ctx,
        ),
      one,
    ),
    revokeCancellation: mutation(
      (req: pb.RevokeCancellationRequest, ctx) => subscriptions.revokeCancellation(req.subscriptionId, ctx),
      one,
    ),
    recordUsage: mutation(
      (req: pb.RecordUsageRequest, ctx) =>
        usage.recordUsage(
          { subscriptionId: req.subscriptionId, quantity: req.quantity, timestamp: req.timestamp },
          ctx,
        ),
      (record): pb.RecordUsageResponse => ({ usageRecord: toUsageRecordMessage(record) }),
    ),
    getUsage: query(async (req: pb.GetUsageRequest): Promise<pb.GetUsageResponse> => {
      const read = await usage.getUsage({
        subscriptionId: req.subscriptionId,
        periodStart: req.periodStart,
        periodEnd: req.periodEnd,
      });
      return { totalQuantity: read.totalQuantity, records: read.records.map(toUsageRecordMessage) };
    }),
    createPortalSession: mutation(
      (req: pb.CreatePortalSessionRequest, ctx) => portal.createPortalSession(req.customerId, req.returnUrl, ctx),
      (portal): pb.CreatePortalSessionResponse => ({ url: portal.url, expireTime: portal.expireTime }),
    ),
  };
}

/** A checkout session with the subscription or payment it sells. */
function sessionResponse(result: Awaited<ReturnType<CheckoutSessionUseCases['get']>>) {
  return {
    checkoutSession: toCheckoutSessionMessage(result.session),
    subscription: result.subscription ? toSubscriptionMessage(result.subscription) : undefined,
    payment: result.payment ? toPaymentMessage(result.payment) : undefined,
  };
}

/** Unset (UNSPECIFIED) stays unset: the provider's own kind of checkout, which an explicit HOSTED is not everywhere. */
function uiModeOf(mode: pb.CheckoutUiMode): 'hosted' | 'embedded' | undefined {
  if (mode === pb.CheckoutUiMode.CHECKOUT_UI_MODE_UNSPECIFIED) return undefined;
  const uiMode = fromCheckoutUiModeMessage(mode);
  if (!uiMode)
    throw invalidArgument([{ field: 'ui_mode', rule: 'must be CHECKOUT_UI_MODE_HOSTED or CHECKOUT_UI_MODE_EMBEDDED' }]);
  return uiMode;
}

function checkoutMode(mode: pb.CheckoutMode): 'subscription' | 'payment' {
  if (mode === pb.CheckoutMode.CHECKOUT_MODE_PAYMENT) return 'payment';
  if (mode === pb.CheckoutMode.CHECKOUT_MODE_SUBSCRIPTION || mode === pb.CheckoutMode.CHECKOUT_MODE_UNSPECIFIED) {
    return 'subscription';
  }
  throw invalidArgument([{ field: 'mode', rule: 'must be CHECKOUT_MODE_SUBSCRIPTION or CHECKOUT_MODE_PAYMENT' }]);
}

function statusesOf(values: pb.SubscriptionStatus[]): SubscriptionStatus[] {
  return values.map((value, index) => {
    const status = fromSubscriptionStatusMessage(value);
    if (!status) throw invalidArgument([{ field: `statuses[${index}]`, rule: 'is not a subscription status' }]);
    return status;
  });
}
