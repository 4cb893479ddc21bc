import { failedPrecondition, invalidArgument } from '../../src/domain/errors';
import type {
  CheckoutRequest,
  MutationOutcome,
  ProviderCallContext,
  ProviderCheckout,
  ProviderOperations,
  ProviderSubscriptionState,
  SubscriptionHandle,
} from '../../src/ports/provider-adapter.port';
import { createSubotizClient, deriveRequestId, SubotizClient, SubotizClientOptions } from './client';
import {
  toCheckoutState,
  toInvoiceState,
  toPaymentState,
  toRefundState,
  toSubotizAmount,
  toSubscriptionState,
  toUsageRecord,
} from './mapping';
import { findInList, sendOnce } from './send-once';
import { asObject, optionalBigInt, optionalInt, optionalString, optionalTime, requiredString } from './wire';

/** How long a customer-portal link stays valid (README: Endpoints). */
const PORTAL_LINK_TTL_MS = 30 * 60 * 1000;

export interface SubotizOperationsOptions extends SubotizClientOptions {
  client?: SubotizClient;
  clock?: () => Date;
}

// Subotiz creates customers during checkout, and has no pause, plan-change or quantity endpoint.
type Operations = Required<
  Omit<ProviderOperations, 'ensureCustomer' | 'updateCustomer' | 'pauseSubscription' | 'changePlan' | 'updateQuantity'>
>;

/**
 * What Subotiz does for us. There is no pause, plan-change or quantity-change endpoint, so those operations are
 * absent and the core answers UNIMPLEMENTED.
 */
export function createSubotizOperations(options: SubotizOperationsOptions = {}): Operations {
  const client = options.client ?? createSubotizClient(options);
  const clock = options.clock ?? (() => new Date());

  const subscription = (id: string) => ({
    route: '/api/v1/subscription/{id}',
    params: { id },
    resource: `subscription '${id}'`,
  });

  /** GET one object by its id and map it (subscriptions, trades, invoices, refunds). */
  const getOne =
    <T>(operation: string, route: string, param: string, noun: string, map: (data: unknown) => T) =>
    async (ctx: ProviderCallContext, ref: string): Promise<T> => {
      const data = await client.call(ctx, {
        operation,
        method: 'GET',
        route,
        params: { [param]: ref },
        resource: `${noun} '${ref}'`,
      });
      return map(data);
    };

  const getByRef = getOne('getSubscription', '/api/v1/subscription/{id}', 'id', 'subscription', (data) =>
    toSubscriptionState(data, clock()),
  );

  /**
   * Before a checkout completes we know only our order id: Subotiz lists subscriptions by `order_id`. A listed
   * subscription must carry that order id (a filter the API ignored would otherwise hand us someone else's).
   */
  const findByOrder = async (
    ctx: ProviderCallContext,
    orderId: string,
  ): Promise<ProviderSubscriptionState | undefined> => {
    const data = await client.call(ctx, {
      operation: 'findSubscriptionByOrder',
      method: 'GET',
      route: '/api/v1/subscription',
      query: { order_id: orderId, page: 1, page_size: 1 },
    });
    const list = asObject(data, 'subscriptions').list;
    if (list !== undefined && list !== null && !Array.isArray(list)) {
      throw invalidArgument([{ field: 'subscriptions.list', rule: 'must be a list' }]);
    }
    const first: unknown = list?.[0];
    if (first === undefined) return undefined;
    const state = toSubscriptionState(first, clock());
    if (state.orderId !== undefined && state.orderId !== orderId) {
      throw failedPrecondition(`Subotiz answered the order lookup for '${orderId}' with order '${state.orderId}'`);
    }
    return state;
  };

  const getSubscription = (ctx: ProviderCallContext, handle: SubscriptionHandle) =>
    handle.providerRef ? getByRef(ctx, handle.providerRef) : findByOrder(ctx, handle.id);

  /** A subscription mutation; some answer success with empty `data`, and then we read the subscription. */
  const mutateSubscription = async (
    ctx: ProviderCallContext,
    operation: string,
    handle: SubscriptionHandle,
    action: string,
    body?: Record<string, unknown>,
  ): Promise<MutationOutcome> => {
    const ref = refOf(handle);
    const target = subscription(ref);
    const data = await client.call(ctx, {
      operation,
      method: 'POST',
      ...target,
      route: `${target.route}/${action}`,
      body,
    });
    const state = isEmpty(data) ? await getByRef(ctx, ref) : toSubscriptionState(data, clock());
    return { kind: 'applied', state };
  };

  return {
    async createCheckout(ctx: ProviderCallContext, input: CheckoutRequest): Promise<ProviderCheckout> {
      const data = await client.call(ctx, {
        operation: 'createCheckout',
        method: 'POST',
        route: '/api/v1/session',
        body: sessionBody(ctx, input),
      });
      const session = asObject(data, 'session');
      const created = optionalTime(session, 'created_at', 'session') ?? clock();
      const validity = optionalInt(session, 'expire_time', 'session');
      return {
        sessionRef: optionalString(session, 'session_id', 'session') ?? requiredString(session, 'id', 'session'),
        status: 'OPEN',
        // Hosted: the page to redirect to. Embedded: what the SDK's `fetchSessionUrl` returns to mount the checkout
        // (its `fetchSessionId` alternative is our provider_ref).
        nextAction: { redirectUrl: requiredString(session, 'session_url', 'session') },
        // A replayed Request-Id answers the first call's session, whose order is the one that counts.
        orderId: optionalString(session, 'order_id', 'session') ?? input.orderId,
        expireTime: validity === undefined ? undefined : new Date(created.getTime() + validity * 1000),
      };
    },

    getCheckout: getOne('getCheckout', '/api/v1/session/{id}', 'id', 'session', toCheckoutState),

    getSubscription,

    cancelSubscription: (ctx, handle, options) =>
      mutateSubscription(ctx, 'cancelSubscription', handle, 'cancel', {
        cancel_type: options.atPeriodEnd ? 'end_of_period' : 'immediate',
        cancel_reason: options.reason,
      }),

    revokeCancellation: (ctx, handle) => mutateSubscription(ctx, 'revokeCancellation', handle, 'revoke-cancel'),

    resumeSubscription: (ctx, handle) => mutateSubscription(ctx, 'resumeSubscription', handle, 'resume'),

    async recordUsage(ctx, handle, usage) {
      if (usage.quantity < 1n || usage.quantity > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw invalidArgument([{ field: 'quantity', rule: `must be between 1 and ${Number.MAX_SAFE_INTEGER}` }]);
      }
      const target = subscription(refOf(handle));
      const data = await client.call(ctx, {
        operation: 'recordUsage',
        method: 'POST',
        ...target,
        route: `${target.route}/usage`,
        body: {
          quantity: Number(usage.quantity),
          timestamp: Math.floor(usage.timestamp.getTime() / 1000),
          // Subotiz keeps the first record per key, so a retried RecordUsage never counts twice.
          idempotency_key: deriveRequestId(ctx.idempotencyKey, 'recordUsage:usage'),
        },
      });
      return toUsageRecord(data);
    },

    async getUsage(ctx, handle, period) {
      const target = subscription(refOf(handle));
      const data = await client.call(ctx, {
        operation: 'getUsage',
        method: 'GET',
        ...target,
        route: `${target.route}/usage`,
        query: { start: unixSeconds(period.start), end: unixSeconds(period.end) },
      });
      const usage = asObject(data, 'usage');
      const list = usage.list ?? [];
      if (!Array.isArray(list)) throw invalidArgument([{ field: 'usage.list', rule: 'must be a list' }]);
      const records = list.map((record: unknown) => toUsageRecord(record));
      return {
        totalQuantity:
          optionalBigInt(usage, 'total_quantity', 'usage') ?? records.reduce((sum, r) => sum + r.quantity, 0n),
        records,
      };
    },

    getPayment: getOne('getPayment', '/api/v1/trade/{trade_id}', 'trade_id', 'trade', (data) => toPaymentState(data)),

    getInvoice: getOne('getInvoice', '/api/v1/invoice/{id}', 'id', 'invoice', (data) => toInvoiceState(data)),

    async refund(ctx, refund) {
      const tradeId = refund.payment.ref;
      // Subotiz does not promise to replay a refund by Request-Id, so it is never sent twice blindly: our refund id
      // travels in `metadata.refund_id` (the Refund object keeps metadata) and finds it again (README: Assumptions).
      const send = async () =>
        toRefundState(
          await client.call(ctx, {
            operation: 'refund',
            method: 'POST',
            route: '/api/v1/refund',
            body: {
              trade_id: tradeId,
              amount: toSubotizAmount(refund.amount),
              reason: refund.reason,
              metadata: { refund_id: refund.refundId },
            },
            resource: `trade '${tradeId}'`,
            replayable: false,
          }),
        );
      const find = async () => {
        const found = await findInList(
          client,
          ctx,
          { operation: 'findRefund', route: '/api/v1/refunds', query: { trade_id: tradeId }, noun: 'refunds' },
          (item) => item.trade_id === tradeId && metadataOf(item).refund_id === refund.refundId,
        );
        return found === undefined ? undefined : toRefundState(found);
      };
      return sendOnce(send, find);
    },

    getRefund: getOne('getRefund', '/api/v1/refund/{refund_id}', 'refund_id', 'refund', (data) => toRefundState(data)),

    async chargeRenewal(ctx, request) {
      const { orderId } = request;
      // Flow 4: Create Trade with the saved payment_token. Not sent twice blindly either: an unknown outcome is
      // looked up by our order id (List Trades), stable for this attempt of this cycle.
      const send = async () =>
        toPaymentState(
          await client.call(ctx, {
            operation: 'chargeRenewal',
            method: 'POST',
            route: '/api/v1/trade',
            body: {
              access_no: ctx.secrets.access_no,
              sub_merchant_id: ctx.config.sub_merchant_id,
              order_id: orderId,
              payment_mode: 'recurring_payment',
              payment_token: request.paymentMethodRef,
              amount: toSubotizAmount(request.amount),
              currency: request.amount.currency,
              customer_id: request.handle.customerRef || undefined,
              metadata: { subscription_id: request.handle.id, cycle_index: String(request.cycleIndex) },
            },
            replayable: false,
          }),
        );
      const find = async () => {
        const found = await findInList(
          client,
          ctx,
          { operation: 'findTrade', route: '/api/v1/trades', query: { order_id: orderId }, noun: 'trades' },
          (item) => item.order_id === orderId,
        );
        return found === undefined ? undefined : toPaymentState(found);
      };
      return sendOnce(send, find);
    },

    async createPortalSession(ctx, customerRef) {
      // Subotiz's portal auth takes no return URL; the portal's way back is set in its dashboard.
      const requested = clock();
      const data = await client.call(ctx, {
        operation: 'createPortalSession',
        method: 'POST',
        route: '/api/v1/customer-portal/auth',
        body: { customer_id: customerRef },
        resource: `customer '${customerRef}'`,
      });
      const portal = asObject(data, 'portal');
      return {
        url: requiredString(portal, 'customer_portal_link', 'portal'),
        expireTime: new Date(requested.getTime() + PORTAL_LINK_TTL_MS),
      };
    },
  };
}

/** The provider's subscription id; the core calls mutations only once the checkout created one. */
function refOf(handle: SubscriptionHandle): string {
  if (!handle.providerRef) throw failedPrecondition(`subscription '${handle.id}' has no Subotiz subscription yet`);
  return handle.providerRef;
}

/**
 * POST /api/v1/session with every field the Checkout Session table marks required: `access_no`, `sub_merchant_id`,
 * `order_id`, `integration_method`, `return_url`, and `cancel_url` for hosted. The URLs come from the request or
 * else the binding's `return_url` / `cancel_url`; with neither we refuse before calling Subotiz.
 */
function sessionBody(ctx: ProviderCallContext, input: CheckoutRequest): Record<string, unknown> {
  const embedded = input.uiMode === 'embedded';
  const returnUrl = input.successUrl || ctx.config.return_url || '';
  const cancelUrl = input.cancelUrl || ctx.config.cancel_url || '';
  const missing = [];
  if (!returnUrl) missing.push({ field: 'success_url', rule: MISSING_URL('return_url') });
  if (!cancelUrl && !embedded) missing.push({ field: 'cancel_url', rule: MISSING_URL('cancel_url') });
  if (missing.length > 0) throw invalidArgument(missing);
  const body: Record<string, unknown> = {
    access_no: ctx.secrets.access_no,
    sub_merchant_id: ctx.config.sub_merchant_id,
    order_id: input.orderId,
    payer_id: input.customer.id,
    email: input.customer.email || undefined,
    customer_id: input.customer.providerRef || undefined,
    integration_method: embedded ? 'embedded' : 'hosted',
    return_url: returnUrl,
    cancel_url: cancelUrl || undefined,
    // Flow 2: an embedded checkout stays on the caller's page unless the payment method needs a redirect.
    redirect_on_completion: embedded ? 'if_required' : undefined,
  };
  if (input.mode === 'subscription') {
    const priceId = input.plan?.ref;
    if (!priceId) throw invalidArgument([{ field: 'plan', rule: 'has no Subotiz price_id' }]);
    const quantity = input.quantity ?? 1;
    return { ...body, mode: 'checkout', line_items: [{ price_id: priceId, quantity: String(quantity) }] };
  }
  if (!input.amount) throw invalidArgument([{ field: 'amount', rule: 'is required for a payment checkout' }]);
  return { ...body, mode: 'payment', amount: toSubotizAmount(input.amount), currency: input.amount.currency };
}

const MISSING_URL = (setting: string) =>
  `is required: Subotiz needs it and the storefront's binding has no default ${setting}`;

/** An object's `metadata` (absent or null: empty). */
function metadataOf(item: Record<string, unknown>): Record<string, unknown> {
  const metadata = item.metadata;
  return typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)
    ? (metadata as Record<string, unknown>)
    : {};
}

function unixSeconds(time: Date | undefined): number | undefined {
  return time === undefined ? undefined : Math.floor(time.getTime() / 1000);
}

function isEmpty(data: unknown): boolean {
  if (data === undefined || data === null || data === '') return true;
  return typeof data === 'object' && !Array.isArray(data) && Object.keys(data).length === 0;
}
