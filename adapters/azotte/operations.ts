import { DomainError, failedPrecondition } from '../../src/domain/errors';
import { Validator } from '../../src/domain/validation';
import type { Clock } from '../../src/ports/clock.port';
import type { HttpTransport } from '../../src/ports/http-transport.port';
import type {
  CustomerDetails,
  MutationOutcome,
  ProviderCallContext,
  ProviderOperations,
  ProviderSubscriptionState,
  SubscriptionHandle,
} from '../../src/ports/provider-adapter.port';
import { readAnswer } from './answers';
import { bundleTerms, checkBinding, checkCheckout } from './checkout-checks';
import { AzotteClient, createAzotteClient } from './client';
import { followReplacements, toCheckoutState, toSubscriptionState } from './mapping';
import { checkoutOffer, paymentMethodRefused } from './offers';
import { checkCustomer, claimedRegion, customerFields, splitName } from './validation';
import { arr, asObject, obj, optStr, str } from '../kit/json';
import { sha256Hex } from '../kit/signatures';
import { requiredConfig, WireObject } from './wire';

/** What Azotte's C2A API does for us; absent operations (pause, resume, usage, refunds, portal) answer UNIMPLEMENTED. */
type Operations = Required<
  Pick<
    ProviderOperations,
    | 'ensureCustomer'
    | 'updateCustomer'
    | 'createCheckout'
    | 'getCheckout'
    | 'getSubscription'
    | 'cancelSubscription'
    | 'revokeCancellation'
    | 'changePlan'
  >
>;

/** A subscription as Azotte listed it, and as our state. */
interface Found {
  raw: WireObject;
  state: ProviderSubscriptionState;
}

export function createAzotteOperations(options: {
  transport: HttpTransport;
  clock: Clock;
  client?: AzotteClient;
}): Operations {
  const client = options.client ?? createAzotteClient(options.transport);
  const now = () => options.clock.now();

  const customerInfo = async (
    ctx: ProviderCallContext,
    operation: string,
    query: { urn: string } | { exId: string },
  ) => {
    const answer = await client.call(ctx, {
      operation,
      method: 'GET',
      route: '/customer/info',
      query,
      subject: 'urn' in query ? { customerUrn: query.urn } : { externalId: query.exId },
    });
    return readAnswer(ctx, operation, () => obj(answer.body, 'result', ''));
  };

  /** validate → store (CUSTOMER_ALREADY_STORED is success) or info?exId (README 16). */
  const ensureCustomer = async (ctx: ProviderCallContext, customer: CustomerDetails, operation = 'ensureCustomer') => {
    checkBinding(ctx);
    const v = new Validator();
    checkCustomer(customer, v);
    v.check();
    const region = claimedRegion(ctx, customer.country);
    const subject = { externalId: customer.id, email: customer.email, phone: customer.phone };
    const validated = await client.call(ctx, {
      operation,
      method: 'POST',
      route: '/customer/validate',
      body: { externalId: customer.id },
      subject,
    });
    const available = readAnswer(ctx, operation, () => validated.body.isAvailable === true);
    if (available) {
      const stored = await client.call(ctx, {
        operation,
        method: 'POST',
        route: '/customer/store',
        body: { customer: customerFields(customer), claimedRegion: region },
        subject,
        accept: ['CUSTOMER_ALREADY_STORED'],
      });
      const urn = readAnswer(ctx, operation, () => {
        const result = stored.body.result;
        return result === null || result === undefined
          ? undefined
          : str(asObject(result, 'result'), 'customerUrn', 'result');
      });
      if (urn) return urn;
    }
    const found = await customerInfo(ctx, operation, { exId: customer.id });
    return readAnswer(ctx, operation, () => str(found, 'customerUrn', 'result'));
  };

  /** Every subscription of the customer (README 27), and the one of `handle`, followed to its newest replacement. */
  const find = async (
    ctx: ProviderCallContext,
    operation: string,
    handle: SubscriptionHandle,
  ): Promise<Found | undefined> => {
    const customerUrn = handle.customerRef;
    if (!customerUrn) {
      throw failedPrecondition(`subscription '${handle.id}': its customer has no Azotte customerUrn yet`);
    }
    const answer = await client.call(ctx, {
      operation,
      method: 'GET',
      route: '/subscription/{customerUrn}',
      params: { customerUrn },
      subject: { customerUrn, orderIdentifier: handle.providerRef },
    });
    const list = readAnswer(ctx, operation, () =>
      arr(answer.body, 'result', '').map((s, i) => asObject(s, `result[${i}]`)),
    );
    const start = handle.providerRef
      ? list.find((s) => s.orderIdentifier === handle.providerRef)
      : list.find((s) => s.correlationId === handle.id);
    if (!start) return undefined;
    // A Replace leaves the old one Canceled with a link to the new one: ours lives on as the newest (README 32).
    const { newest: raw, previous } = followReplacements(list, start);
    const state = readAnswer(ctx, operation, () => toSubscriptionState(raw, 'subscription', now()));
    if (previous) state.previousRef = state.previousRef ?? optStr(previous, 'orderIdentifier', 'subscription');
    return { raw, state };
  };

  const require = async (ctx: ProviderCallContext, operation: string, handle: SubscriptionHandle): Promise<Found> => {
    const found = await find(ctx, operation, handle);
    if (!found) {
      throw new DomainError(
        'NOT_FOUND',
        `Azotte has no subscription ${handle.providerRef ? `'${handle.providerRef}'` : `of order '${handle.id}'`}`,
      );
    }
    return found;
  };

  const applied = async (ctx: ProviderCallContext, operation: string, handle: SubscriptionHandle, ref: string) => {
    const { state } = await require(ctx, operation, { ...handle, providerRef: ref });
    return { kind: 'applied', state } as MutationOutcome;
  };

  return {
    ensureCustomer: (ctx, customer) => ensureCustomer(ctx, customer),

    async updateCustomer(ctx, customer) {
      checkBinding(ctx);
      const v = new Validator();
      checkCustomer(customer, v);
      v.check();
      const current = await customerInfo(ctx, 'updateCustomer', { urn: customer.providerRef });
      // Only what changed is sent (README 17: absent fields stay as they are).
      const { firstName, lastName } = splitName(customer.name);
      const wanted: Record<string, string | undefined> = {
        email: customer.email,
        phoneNumber: customer.phone || undefined,
        firstName,
        lastName,
      };
      const changed: Record<string, string> = {};
      for (const [key, value] of Object.entries(wanted)) {
        if (value !== undefined && current[key] !== value) changed[key] = value;
      }
      const region = optStr(
        asObject(current.claimedRegion ?? {}, 'result.claimedRegion'),
        'countryCode',
        'result.claimedRegion',
      );
      const newRegion =
        customer.country && customer.country.toUpperCase() !== region
          ? claimedRegion(ctx, customer.country)
          : undefined;
      if (Object.keys(changed).length === 0 && !newRegion) return;
      await client.call(ctx, {
        operation: 'updateCustomer',
        method: 'POST',
        route: '/customer/update',
        body: { customer: { customerUrn: customer.providerRef, ...changed }, claimedRegion: newRegion },
        subject: { customerUrn: customer.providerRef, email: customer.email, phone: customer.phone },
      });
    },

    async createCheckout(ctx, request) {
      // The preflight's checks, again: nothing is sent unless all of them pass.
      const checked = checkCheckout(ctx, request);
      const customerUrn =
        request.customer.providerRef ?? (await ensureCustomer(ctx, request.customer, 'createCheckout'));
      // Only an Active stored method of this very customer is charged (README 19).
      const methods = await client.call(ctx, {
        operation: 'createCheckout',
        method: 'GET',
        route: '/customer/payment/methods/list',
        query: { c: customerUrn },
        subject: { customerUrn },
      });
      const usable = readAnswer(ctx, 'createCheckout', () =>
        arr(methods.body, 'result', '').some((m, i) => {
          const method = asObject(m, `result[${i}]`);
          return method.paymentMethodUrn === checked.paymentMethodRef && method.state === 'Active';
        }),
      );
      if (!usable) throw paymentMethodRefused(checked.paymentMethodRef, customerUrn);
      const answer = await checkoutOffer(
        client,
        ctx,
        {
          operation: 'createCheckout',
          customerUrn,
          storefrontUrn: requiredConfig(ctx, 'storefront_urn'),
          plan: request.plan!,
          promotionCode: checked.promotionCode,
        },
        { correlationId: request.orderId, paymentMethodUrn: checked.paymentMethodRef },
      );
      const state = readAnswer(ctx, 'createCheckout', () =>
        toCheckoutState(answer.body, answer.messageCode, now(), answer.retryAfterSeconds),
      );
      return {
        sessionRef: state.ref,
        status: state.status,
        nextAction: state.nextAction,
        // A replayed correlationId answers the first submission's checkout, in its current state (README 23).
        orderId: state.orderId ?? request.orderId,
        checkAt: state.checkAt,
        subscriptionRef: state.subscriptionRef,
      };
    },

    async getCheckout(ctx, sessionRef) {
      const answer = await client.call(ctx, {
        operation: 'getCheckout',
        method: 'GET',
        route: '/offer/checkout/{trackingNumber}/status',
        params: { trackingNumber: sessionRef },
        subject: { trackingNumber: sessionRef },
      });
      return readAnswer(ctx, 'getCheckout', () =>
        toCheckoutState(answer.body, answer.messageCode, now(), answer.retryAfterSeconds),
      );
    },

    async getSubscription(ctx, handle) {
      return (await find(ctx, 'getSubscription', handle))?.state;
    },

    async cancelSubscription(ctx, handle, cancel) {
      const { raw, state } = await require(ctx, 'cancelSubscription', handle);
      // Already as asked: a retry must not meet SUBSCRIPTION_NOT_CANCELABLE (README 30).
      if (state.status === 'CANCELED' || (cancel.atPeriodEnd && state.cancelAtPeriodEnd)) {
        return { kind: 'applied', state };
      }
      const orderIdentifier = state.ref;
      const cancelationMethod = cancel.atPeriodEnd ? 'EndOfPeriod' : 'Immediate';
      const subject = { orderIdentifier, state: typeof raw.state === 'string' ? raw.state : '' };
      await client.call(ctx, {
        operation: 'cancelSubscription',
        method: 'POST',
        route: '/subscription/cancel/request',
        body: { orderIdentifier, cancelationMethod, currentStep: 0 },
        subject,
      });
      // Whatever responseType says: the caller asked to cancel; retention flows are not ours to show (README 29).
      await client.call(ctx, {
        operation: 'cancelSubscription',
        method: 'POST',
        route: '/subscription/cancel/confirm',
        body: {
          orderIdentifier,
          cancelationMethod,
          currentStep: 1,
          survey: JSON.stringify({ reason: cancel.reason.slice(0, 500) }),
        },
        subject,
      });
      return applied(ctx, 'cancelSubscription', handle, orderIdentifier);
    },

    async revokeCancellation(ctx, handle) {
      const { state } = await require(ctx, 'revokeCancellation', handle);
      if (!state.cancelAtPeriodEnd && state.status !== 'CANCELED') return { kind: 'applied', state };
      await client.call(ctx, {
        operation: 'revokeCancellation',
        method: 'POST',
        route: '/subscription/reactivate',
        body: { orderIdentifier: state.ref },
        subject: { orderIdentifier: state.ref },
      });
      return applied(ctx, 'revokeCancellation', handle, state.ref);
    },

    async changePlan(ctx, handle, change) {
      checkBinding(ctx);
      bundleTerms(ctx, change.plan, change.quantity);
      const correlationId = `${handle.id}.replace.${sha256Hex(ctx.idempotencyKey).slice(0, 16)}`;
      const { raw, state } = await require(ctx, 'changePlan', handle);
      // This very change already made the newest subscription: a retry must not replace it again.
      if (raw.correlationId === correlationId) return accepted(correlationId);
      const paymentMethodUrn = state.paymentMethodRef;
      const customerUrn = state.customerRef ?? handle.customerRef!;
      if (!paymentMethodUrn) {
        throw failedPrecondition(
          `Azotte subscription '${state.ref}' has no stored payment method to charge the new bundle`,
        );
      }
      const answer = await checkoutOffer(
        client,
        ctx,
        {
          operation: 'changePlan',
          customerUrn,
          storefrontUrn: requiredConfig(ctx, 'storefront_urn'),
          plan: change.plan,
          replacing: state.ref,
        },
        { correlationId, paymentMethodUrn },
      );
      const tracking = readAnswer(ctx, 'changePlan', () => str(answer.body, 'trackingNumber', ''));
      return accepted(correlationId, tracking);
    },
  };
}

/** A Replace completes later (checkout, then webhooks move our provider ref to the new orderIdentifier). */
function accepted(correlationId: string, trackingNumber?: string): MutationOutcome {
  const checkout = trackingNumber ? ` (checkout '${trackingNumber}')` : '';
  return {
    kind: 'accepted',
    note: `Azotte replaces the subscription${checkout}; correlation '${correlationId}' applies when it completes`,
  };
}
