import { invalidArgument } from '../../src/domain/errors';
import type {
  CheckoutInput,
  ProviderCallContext,
  ProviderCheckout,
  ProviderOperations,
  ProviderSubscriptionState,
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
import { asObject, optionalBigInt, optionalInt, optionalString, optionalTime, requiredString } from './wire';

/** How long a customer-portal link stays valid (README: Endpoints). */
const PORTAL_LINK_TTL_MS = 30 * 60 * 1000;

export interface SubotizOperationsOptions extends SubotizClientOptions {
  client?: SubotizClient;
  clock?: () => Date;
}

// Subotiz creates customers during checkout, and has no pause, plan-change or quantity endpoint.
type Operations = Required<
  Omit<ProviderOperations, 'ensureCustomer' | 'pauseSubscription' | 'changePlan' | 'updateQuantity'>
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

  const getSubscription = getOne('getSubscription', '/api/v1/subscription/{id}', 'id', 'subscription', (data) =>
    toSubscriptionState(data, clock()),
  );

  /** A subscription mutation; some answer success with empty `data`, and then we read the subscription. */
  const mutateSubscription = async (
    ctx: ProviderCallContext,
    operation: string,
    ref: string,
    action: string,
    body?: Record<string, unknown>,
  ): Promise<ProviderSubscriptionState> => {
    const target = subscription(ref);
    const data = await client.call(ctx, {
      operation,
      method: 'POST',
      ...target,
      route: `${target.route}/${action}`,
      body,
    });
    return isEmpty(data) ? getSubscription(ctx, ref) : toSubscriptionState(data, clock());
  };

  return {
    async createCheckout(ctx: ProviderCallContext, input: CheckoutInput): Promise<ProviderCheckout> {
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
        url: requiredString(session, 'session_url', 'session'),
        // A replayed Request-Id answers the first call's session, whose order is the one that counts.
        orderId: optionalString(session, 'order_id', 'session') ?? input.orderId,
        expireTime: validity === undefined ? undefined : new Date(created.getTime() + validity * 1000),
      };
    },

    getCheckout: getOne('getCheckout', '/api/v1/session/{id}', 'id', 'session', toCheckoutState),

    getSubscription,

    async findSubscriptionByOrder(ctx, orderId) {
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
      return first === undefined ? undefined : toSubscriptionState(first, clock());
    },

    cancelSubscription: (ctx, ref, options) =>
      mutateSubscription(ctx, 'cancelSubscription', ref, 'cancel', {
        cancel_type: options.atPeriodEnd ? 'end_of_period' : 'immediate',
        cancel_reason: options.reason,
      }),

    revokeCancellation: (ctx, ref) => mutateSubscription(ctx, 'revokeCancellation', ref, 'revoke-cancel'),

    resumeSubscription: (ctx, ref) => mutateSubscription(ctx, 'resumeSubscription', ref, 'resume'),

    async recordUsage(ctx, ref, usage) {
      if (usage.quantity < 1n || usage.quantity > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw invalidArgument([{ field: 'quantity', rule: `must be between 1 and ${Number.MAX_SAFE_INTEGER}` }]);
      }
      const target = subscription(ref);
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

    async getUsage(ctx, ref, period) {
      const target = subscription(ref);
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

    async refund(ctx, paymentRef, refund) {
      const data = await client.call(ctx, {
        operation: 'refund',
        method: 'POST',
        route: '/api/v1/refund',
        body: { trade_id: paymentRef, amount: toSubotizAmount(refund.amount), reason: refund.reason },
        resource: `trade '${paymentRef}'`,
      });
      return toRefundState(data);
    },

    getRefund: getOne('getRefund', '/api/v1/refund/{refund_id}', 'refund_id', 'refund', (data) => toRefundState(data)),

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

/** POST /api/v1/session: a hosted checkout of one price (subscription) or of an amount (payment). */
function sessionBody(ctx: ProviderCallContext, input: CheckoutInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    access_no: ctx.secrets.access_no || undefined,
    sub_merchant_id: ctx.config.sub_merchant_id || undefined,
    order_id: input.orderId,
    payer_id: input.customer.id,
    email: input.customer.email || undefined,
    customer_id: input.customer.providerRef || undefined,
    integration_method: 'hosted',
    return_url: input.successUrl || undefined,
    cancel_url: input.cancelUrl || undefined,
  };
  if (input.mode === 'subscription') {
    if (!input.planRef) throw invalidArgument([{ field: 'plan', rule: 'has no Subotiz price_id' }]);
    const quantity = input.quantity ?? 1;
    return { ...body, mode: 'checkout', line_items: [{ price_id: input.planRef, quantity: String(quantity) }] };
  }
  if (!input.amount) throw invalidArgument([{ field: 'amount', rule: 'is required for a payment checkout' }]);
  return { ...body, mode: 'payment', amount: toSubotizAmount(input.amount), currency: input.amount.currency };
}

function unixSeconds(time: Date | undefined): number | undefined {
  return time === undefined ? undefined : Math.floor(time.getTime() / 1000);
}

function isEmpty(data: unknown): boolean {
  if (data === undefined || data === null || data === '') return true;
  return typeof data === 'object' && !Array.isArray(data) && Object.keys(data).length === 0;
}
