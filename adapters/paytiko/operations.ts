import { failedPrecondition } from '../../src/domain/errors';
import type { Clock } from '../../src/ports/clock.port';
import type { HttpTransport } from '../../src/ports/http-transport.port';
import type {
  CheckoutRequest,
  CustomerDetails,
  MutationOutcome,
  PlanTerms,
  ProviderCallContext,
  ProviderCheckout,
  ProviderOperations,
  ProviderSubscriptionState,
  SubscriptionHandle,
} from '../../src/ports/provider-adapter.port';
import { AmbiguousOutcome } from '../kit/errors';
import { readAnswer } from './answers';
import { checkCheckout, requireProcessorKey } from './checkout-checks';
import { createPaytikoClient, PaytikoClient } from './client';
import { changeIdOf, keyOf, readMetadata, toCheckoutState, toSubscriptionState, writeMetadata } from './mapping';
import { checkReturnLink, customerBody, membershipTerms, requireKey, requirePhone, trialRefused } from './validation';
import { asObject, CUSTOMER_KEY_PREFIX, MEMBERSHIP_KEY_PREFIX, optionalObject, requiredString } from './wire';

/** How long a hosted checkout session stays valid (house assumptions: UI sessions). */
const CHECKOUT_TTL_MS = 24 * 60 * 60 * 1000;

/** What Paytiko does for us; absent operations (pause, resume, usage, refunds, payments) answer UNIMPLEMENTED. */
type Operations = Required<
  Pick<
    ProviderOperations,
    | 'ensureCustomer'
    | 'updateCustomer'
    | 'createCheckout'
    | 'getCheckout'
    | 'getSubscription'
    | 'cancelSubscription'
    | 'changePlan'
    | 'updateQuantity'
    | 'createPortalSession'
  >
>;

export interface PaytikoOperationsOptions {
  transport: HttpTransport;
  clock: Clock;
  client?: PaytikoClient;
}

export function createPaytikoOperations(options: PaytikoOperationsOptions): Operations {
  const client = options.client ?? createPaytikoClient(options);
  const now = () => options.clock.now();

  const getMembership = async (ctx: ProviderCallContext, operation: string, key: string) =>
    client.call(ctx, {
      operation,
      method: 'GET',
      route: '/membership/{key}',
      params: { key },
      resource: `membership '${key}'`,
    });

  /** POST /customer: Paytiko answers the existing key for an email it knows, so sending again is harmless. */
  const postCustomer = async (ctx: ProviderCallContext, operation: string, body: Record<string, unknown>) => {
    const data = await client.call(ctx, { operation, method: 'POST', route: '/customer', body });
    return readAnswer(ctx, operation, 'customer', () => keyOf(data, 'customerKey', CUSTOMER_KEY_PREFIX, 'customer'));
  };

  const ensureCustomer = async (ctx: ProviderCallContext, customer: CustomerDetails): Promise<string> =>
    postCustomer(ctx, 'ensureCustomer', customerBody(customer, requireProcessorKey(ctx)));

  /** The membership, checked to be the one of our subscription `handle` (never apply another order's state). */
  const membershipOf = async (
    ctx: ProviderCallContext,
    operation: string,
    handle: SubscriptionHandle,
  ): Promise<{ key: string; raw: Record<string, unknown>; state: ProviderSubscriptionState }> => {
    const key = requireKey(handle.providerRef, MEMBERSHIP_KEY_PREFIX, `subscription '${handle.id}'`);
    const data = await getMembership(ctx, operation, key);
    const { raw, state } = readAnswer(ctx, operation, 'membership', () => {
      const object = asObject(data, 'membership');
      return { raw: object, state: toSubscriptionState(object) };
    });
    if (state.orderId !== handle.id) {
      throw failedPrecondition(
        `Paytiko membership '${key}' belongs to order '${state.orderId ?? ''}', not to subscription '${handle.id}'`,
      );
    }
    return { key, raw, state };
  };

  /**
   * PUT /membership with the new terms. Paytiko charges the proration first and applies the change after, so the
   * answer is `accepted`; the SUBSCRIPTION_UPDATED webhook (or the sweep) brings the change. The PUT is not
   * idempotent at Paytiko, so it is sent at most once per call: our change id in the metadata tells a retried call
   * whether an earlier attempt already landed (applied or pending), and an unknown outcome is never sent again.
   */
  const update = async (
    ctx: ProviderCallContext,
    operation: 'changePlan' | 'updateQuantity',
    handle: SubscriptionHandle,
    change: { plan: PlanTerms; quantity: number },
  ): Promise<MutationOutcome> => {
    if (change.plan.trialDays > 0) throw trialRefused(change.plan);
    const changeId = changeIdOf(ctx.idempotencyKey, operation);
    const metadata = writeMetadata({ subscription_id: handle.id, plan_id: change.plan.id, change: changeId });
    const terms = membershipTerms({ plan: change.plan, quantity: change.quantity, orderId: handle.id, metadata });
    const { key, raw } = await membershipOf(ctx, operation, handle);
    const { landed, currency } = readAnswer(ctx, operation, 'membership', () => ({
      landed: hasLanded(raw, changeId),
      currency: typeof raw.currency === 'string' ? raw.currency.toUpperCase() : '',
    }));
    if (landed) return accepted(changeId);
    if (currency !== terms.pricing.currency) {
      throw failedPrecondition(
        `Paytiko membership '${key}' bills in ${currency}; it cannot change to a plan priced in ${terms.pricing.currency}`,
      );
    }
    try {
      await client.call(ctx, {
        operation,
        method: 'PUT',
        route: '/membership',
        body: {
          membershipKey: key,
          name: terms.name,
          pricePerUnit: terms.pricing.pricePerUnit,
          quantity: terms.pricing.quantity,
          intervalType: terms.cycle.intervalType,
          intervalCount: terms.cycle.intervalCount,
          metadata,
        },
        resource: `membership '${key}'`,
        replayable: false,
      });
    } catch (error) {
      if (!(error instanceof AmbiguousOutcome)) throw error;
      // Sending again could charge a second proration (the first one declined and dropped the change), or meet a 409
      // while the first is still pending: Paytiko's webhooks or the sweep tell what became of the one PUT.
      return {
        kind: 'accepted',
        note: `Paytiko's answer to the change (${changeId}) was lost; it applies if Paytiko took it and its proration charge succeeds`,
      };
    }
    return accepted(changeId);
  };

  return {
    ensureCustomer,

    async updateCustomer(ctx, customer) {
      const key = requireKey(customer.providerRef, CUSTOMER_KEY_PREFIX, `customer '${customer.id}'`);
      // Paytiko can change only the phone; any other field stays as it was created (README: Customers).
      const phone = requirePhone(customer.phone);
      const data = await client.call(ctx, {
        operation: 'updateCustomer',
        method: 'GET',
        route: '/customer/{key}',
        params: { key },
        resource: `customer '${key}'`,
      });
      const current = readAnswer(ctx, 'updateCustomer', 'customer', () => asObject(data, 'customer').phone);
      if (current === phone) return;
      await client.call(ctx, {
        operation: 'updateCustomer',
        method: 'PUT',
        route: '/customer/phone',
        // Setting the same phone twice leaves it as it is.
        body: { customerKey: key, phone },
        resource: `customer '${key}'`,
      });
    },

    async createCheckout(ctx: ProviderCallContext, request: CheckoutRequest): Promise<ProviderCheckout> {
      // The preflight's checks, again: nothing is sent unless all of them pass.
      const checked = checkCheckout(ctx, request);
      const { terms } = checked;
      const customerKey =
        'key' in checked.customer
          ? checked.customer.key
          : await postCustomer(ctx, 'createCheckout', checked.customer.body);

      const created = await client.call(ctx, {
        operation: 'createCheckout',
        method: 'POST',
        route: '/membership',
        // Paytiko answers the existing membership for an orderId it knows within the customer: safe to send again.
        body: {
          customerKey,
          subscriptionName: terms.name,
          endDate: null,
          webhookUrl: checked.webhookUrl,
          metadata: checked.metadata,
          chargeEmitterQueue: checked.emitterQueue,
          productInfo: { orderId: request.orderId, description: request.description || terms.name },
          pricingInfo: terms.pricing,
          billingCycle: terms.cycle,
        },
        resource: `customer '${customerKey}'`,
      });
      const membershipKey = readAnswer(ctx, 'createCheckout', 'membership', () =>
        keyOf(created, 'membershipKey', MEMBERSHIP_KEY_PREFIX, 'membership'),
      );
      const session = await client.call(ctx, {
        operation: 'createCheckout',
        method: 'POST',
        route: '/checkout/session',
        body: { customerKey, membershipKey, returnToWebsiteLink: checked.returnLink },
        resource: `membership '${membershipKey}'`,
      });
      const redirectUrl = readAnswer(ctx, 'createCheckout', 'checkout session', () =>
        requiredString(asObject(session, 'session'), 'checkoutRedirectUrl', 'session'),
      );
      return {
        sessionRef: membershipKey,
        status: 'OPEN',
        nextAction: { redirectUrl },
        orderId: request.orderId,
        expireTime: new Date(now().getTime() + CHECKOUT_TTL_MS),
        subscriptionRef: membershipKey,
      };
    },

    async getCheckout(ctx, sessionRef) {
      const key = requireKey(sessionRef, MEMBERSHIP_KEY_PREFIX, `checkout '${sessionRef}'`);
      const data = await getMembership(ctx, 'getCheckout', key);
      return readAnswer(ctx, 'getCheckout', 'membership', () => toCheckoutState(data));
    },

    async getSubscription(ctx, handle) {
      if (!handle.providerRef) return undefined;
      return (await membershipOf(ctx, 'getSubscription', handle)).state;
    },

    async cancelSubscription(ctx, handle, cancel) {
      if (cancel.atPeriodEnd) {
        // The core emulates cancel at period end (features.cancelAtPeriodEnd = emulated); Paytiko cancels at once.
        throw failedPrecondition('Paytiko cancels immediately only: cancel at period end is the core’s to schedule');
      }
      // Ours before anything is sent: a stored reference that names another order's membership cancels nothing.
      const { key, state: before } = await membershipOf(ctx, 'cancelSubscription', handle);
      if (before.status === 'CANCELED') return { kind: 'applied', state: before };
      // Cancelling a Canceled membership answers 200 again: safe to send twice.
      const answer = await client.call(ctx, {
        operation: 'cancelSubscription',
        method: 'POST',
        route: '/membership/cancel/{key}',
        params: { key },
        resource: `membership '${key}'`,
      });
      readAnswer(ctx, 'cancelSubscription', 'cancel', () =>
        keyOf(answer, 'membershipKey', MEMBERSHIP_KEY_PREFIX, 'cancel'),
      );
      const { state } = await membershipOf(ctx, 'cancelSubscription', handle);
      return { kind: 'applied', state };
    },

    changePlan: (ctx, handle, change) => update(ctx, 'changePlan', handle, change),

    updateQuantity: (ctx, handle, change) => update(ctx, 'updateQuantity', handle, change),

    async createPortalSession(ctx, customerRef, returnUrl) {
      const key = requireKey(customerRef, CUSTOMER_KEY_PREFIX, 'the customer');
      const link = returnUrl || ctx.config.return_url || undefined;
      checkReturnLink(returnUrl, 'return_url').throwIfAny();
      const data = await client.call(ctx, {
        operation: 'createPortalSession',
        method: 'POST',
        route: '/portal/session',
        body: { customerKey: key, returnToWebsiteLink: link },
        resource: `customer '${key}'`,
      });
      const url = readAnswer(ctx, 'createPortalSession', 'portal session', () =>
        requiredString(asObject(data, 'portal'), 'portalRedirectUrl', 'portal'),
      );
      return { url };
    },
  };
}

/** Whether our change already reached the membership: applied (metadata) or pending (pendingUpdate.metadata). */
function hasLanded(membership: Record<string, unknown>, changeId: string): boolean {
  if (readMetadata(membership.metadata).change === changeId) return true;
  const pending = optionalObject(membership, 'pendingUpdate', 'membership');
  return pending !== undefined && readMetadata(pending.metadata).change === changeId;
}

function accepted(changeId: string): MutationOutcome {
  return {
    kind: 'accepted',
    note: `Paytiko charges the proration first; the change (${changeId}) applies when it confirms`,
  };
}
