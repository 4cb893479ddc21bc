import {
  CheckoutSessionStatus,
  checkoutSessionStatusToJSON,
  CreateCheckoutSessionResponse,
  GetCheckoutSessionResponse,
} from '../../gen/billing/v1/subscription';
import type { CommandContext, CommandGroup } from '../command';
import { EmulatorError, settleOnEmulator, storefrontEmulator } from '../emulator';
import { enumName, type Output, printFields, printJson } from '../output';
import { subscriptionStatusName } from './subscriptions';

export const checkout: CommandGroup = {
  async create({ client, flags, out }) {
    const request = {
      storefrontId: flags.required('storefront'),
      customerId: flags.required('customer'),
      planId: flags.required('plan'),
      quantity: flags.integer('quantity', 1) ?? 1,
      paymentMethodRef: flags.optional('payment-method-ref'),
      successUrl: flags.optional('success-url'),
      cancelUrl: flags.optional('cancel-url'),
      promotionCode: flags.optional('promotion-code'),
    };
    flags.done(2);
    const response = await client.api.subscriptions.createCheckoutSession(request);
    if (out.json) return printJson(out, CreateCheckoutSessionResponse.toJSON(response));
    const session = response.checkoutSession!;
    printFields(out, {
      'checkout session': session.id,
      status: sessionStatus(session.status),
      subscription: response.subscription?.id,
      'subscription status': response.subscription && subscriptionStatusName(response.subscription),
      'pay at': session.nextAction?.redirectUrl,
    });
  },

  async get({ client, flags, out }) {
    const checkoutSessionId = flags.required('session');
    flags.done(2);
    printSession(out, await client.api.subscriptions.getCheckoutSession({ checkoutSessionId }));
  },

  complete: (ctx) => settle(ctx, 'complete'),
  decline: (ctx) => settle(ctx, 'decline'),
};

/** Pays or declines the session on the storefront's emulator, then shows the session as the service sees it. */
async function settle({ client, flags, out }: CommandContext, outcome: 'complete' | 'decline'): Promise<void> {
  const storefrontId = flags.required('storefront');
  const checkoutSessionId = flags.required('session');
  flags.done(2);
  const { checkoutSession: session } = await client.api.subscriptions.getCheckoutSession({ checkoutSessionId });
  if (session!.storefrontId !== storefrontId) {
    throw new EmulatorError('INVALID_ARGUMENT', `session: ${checkoutSessionId} belongs to ${session!.storefrontId}`);
  }
  const status = session!.status;
  const S = CheckoutSessionStatus;
  // Already paid, or a server-to-server charge (nothing for a buyer to press; the service learns the outcome itself).
  const nothingToPress =
    status === S.CHECKOUT_SESSION_STATUS_COMPLETE ||
    (status === S.CHECKOUT_SESSION_STATUS_PROCESSING && !session!.nextAction);
  if (status === S.CHECKOUT_SESSION_STATUS_FAILED || status === S.CHECKOUT_SESSION_STATUS_EXPIRED) {
    throw new EmulatorError('FAILED_PRECONDITION', `session: already ${sessionStatus(status)}`);
  }
  if (nothingToPress) {
    if (outcome === 'decline') {
      throw new EmulatorError('FAILED_PRECONDITION', `session: ${sessionStatus(status)}; nothing to decline`);
    }
  } else {
    await settleOnEmulator(await storefrontEmulator(client, storefrontId), session!, outcome);
  }
  printSession(out, await client.api.subscriptions.getCheckoutSession({ checkoutSessionId }));
}

function printSession(out: Output, after: GetCheckoutSessionResponse): void {
  if (out.json) return printJson(out, GetCheckoutSessionResponse.toJSON(after));
  printFields(out, {
    'checkout session': after.checkoutSession!.id,
    status: sessionStatus(after.checkoutSession!.status),
    subscription: after.subscription?.id,
    'subscription status': after.subscription && subscriptionStatusName(after.subscription),
    failure: after.checkoutSession!.failure?.message,
  });
}

function sessionStatus(status: CheckoutSessionStatus): string {
  return enumName(checkoutSessionStatusToJSON(status), 'CHECKOUT_SESSION_STATUS_');
}
