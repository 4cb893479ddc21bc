import type { BindingSpec } from '../domain/binding-rules';
import type { Violation } from '../domain/errors';
import type { Money } from '../domain/money';
import type { ProviderWebhooks } from './provider-webhooks';
import type {
  ProviderCheckout,
  ProviderCheckoutState,
  ProviderInvoiceState,
  ProviderPaymentState,
  ProviderRefundState,
  ProviderSubscriptionState,
  ProviderUsage,
  ProviderUsageRecord,
} from './provider-state';

export type * from './provider-event';
export type * from './provider-webhooks';
export type * from './provider-state';

/** How a provider supports one of our operations. */
export type CapabilitySupport = 'NATIVE' | 'EMULATED';

/** An operation (named after its RPC, e.g. "PauseSubscription") and how the provider supports it. */
export interface ProviderCapability {
  operation: string;
  support: CapabilitySupport;
}

/**
 * Everything an adapter needs for one call: the storefront's binding (non-secret config and resolved secrets), the
 * caller's deadline, and a key that stays the same when the same logical call is retried, so the provider never
 * creates a second object (Subotiz `Request-Id`, Paytiko orderId, Azotte correlationId).
 */
export interface ProviderCallContext {
  storefrontId: string;
  config: Record<string, string>;
  /** Secrets resolved from the binding's references. Never logged, never put in errors. */
  secrets: Record<string, string>;
  signal: AbortSignal;
  idempotencyKey: string;
}

export interface CheckoutInput {
  /** Our id for what is being sold: the subscription id (subscription mode) or payment id (payment mode). */
  orderId: string;
  mode: 'subscription' | 'payment';
  customer: { id: string; email: string; name: string; providerRef?: string };
  /** Subscription mode: the plan's reference at this provider (Subotiz price_id) and the quantity. */
  planRef?: string;
  quantity?: number;
  /** Payment mode: the amount to charge. */
  amount?: Money;
  description?: string;
  successUrl?: string;
  cancelUrl?: string;
}

/** Where to read usage: [start, end). */
export interface UsagePeriod {
  start?: Date;
  end?: Date;
}

/**
 * The operations a provider may support. An adapter implements those its provider has; the core answers
 * UNIMPLEMENTED (naming storefront, provider and operation) for the rest, and derives the capability list from
 * what is present. Every call throws DomainError: INVALID_ARGUMENT with the provider's message for its 4xx
 * validation errors, NOT_FOUND, FAILED_PRECONDITION for illegal state, UNAVAILABLE for 5xx/timeouts after bounded
 * retries of idempotent calls.
 */
export interface ProviderOperations {
  /**
   * Creates (or finds) the customer at the provider and returns its reference. Providers that create customers
   * during checkout (Subotiz) leave this out; their reference is learned from webhooks.
   */
  ensureCustomer?(
    ctx: ProviderCallContext,
    customer: { id: string; email: string; name: string; phone: string; country: string },
  ): Promise<string>;
  /** Opens a hosted checkout; the provider later reports the outcome by webhook. */
  createCheckout(ctx: ProviderCallContext, input: CheckoutInput): Promise<ProviderCheckout>;
  /**
   * A checkout's current state. The reconciler asks once our record of it has expired: an expired checkout ends its
   * INCOMPLETE subscription (or closes its payment), a completed one whose webhooks never came is caught up.
   */
  getCheckout?(ctx: ProviderCallContext, sessionRef: string): Promise<ProviderCheckoutState>;
  /** The provider's current view of a subscription (also used to reconcile when webhook order is in doubt). */
  getSubscription(ctx: ProviderCallContext, subscriptionRef: string): Promise<ProviderSubscriptionState>;
  /** Finds a subscription by our order id, for webhooks that name only the order (e.g. a trade). */
  findSubscriptionByOrder?(ctx: ProviderCallContext, orderId: string): Promise<ProviderSubscriptionState | undefined>;
  cancelSubscription?(
    ctx: ProviderCallContext,
    subscriptionRef: string,
    options: { atPeriodEnd: boolean; reason: string },
  ): Promise<ProviderSubscriptionState>;
  revokeCancellation?(ctx: ProviderCallContext, subscriptionRef: string): Promise<ProviderSubscriptionState>;
  pauseSubscription?(
    ctx: ProviderCallContext,
    subscriptionRef: string,
    resumeAt?: Date,
  ): Promise<ProviderSubscriptionState>;
  resumeSubscription?(ctx: ProviderCallContext, subscriptionRef: string): Promise<ProviderSubscriptionState>;
  changePlan?(ctx: ProviderCallContext, subscriptionRef: string, planRef: string): Promise<ProviderSubscriptionState>;
  updateQuantity?(
    ctx: ProviderCallContext,
    subscriptionRef: string,
    quantity: number,
  ): Promise<ProviderSubscriptionState>;
  recordUsage?(
    ctx: ProviderCallContext,
    subscriptionRef: string,
    usage: { quantity: bigint; timestamp: Date },
  ): Promise<ProviderUsageRecord>;
  getUsage?(ctx: ProviderCallContext, subscriptionRef: string, period: UsagePeriod): Promise<ProviderUsage>;
  getPayment?(ctx: ProviderCallContext, paymentRef: string): Promise<ProviderPaymentState>;
  getInvoice?(ctx: ProviderCallContext, invoiceRef: string): Promise<ProviderInvoiceState>;
  refund?(
    ctx: ProviderCallContext,
    paymentRef: string,
    refund: { amount: Money; reason: string },
  ): Promise<ProviderRefundState>;
  getRefund?(ctx: ProviderCallContext, refundRef: string): Promise<ProviderRefundState>;
  createPortalSession?(
    ctx: ProviderCallContext,
    customerRef: string,
    returnUrl: string,
  ): Promise<{ url: string; expireTime?: Date }>;
}

/** The RPC each operation serves, for capability lists and UNIMPLEMENTED messages. */
export const OPERATION_RPC: Record<keyof ProviderOperations, string> = {
  ensureCustomer: 'CreateCustomer',
  createCheckout: 'CreateCheckoutSession',
  // Used only by the reconciler, never answered as UNIMPLEMENTED; it belongs to the checkout capability.
  getCheckout: 'CreateCheckoutSession',
  getSubscription: 'GetSubscription',
  findSubscriptionByOrder: 'GetSubscription',
  cancelSubscription: 'CancelSubscription',
  revokeCancellation: 'RevokeCancellation',
  pauseSubscription: 'PauseSubscription',
  resumeSubscription: 'ResumeSubscription',
  changePlan: 'ChangePlan',
  updateQuantity: 'UpdateQuantity',
  recordUsage: 'RecordUsage',
  getUsage: 'GetUsage',
  getPayment: 'GetPayment',
  getInvoice: 'GetInvoice',
  refund: 'CreateRefund',
  getRefund: 'GetRefund',
  createPortalSession: 'CreatePortalSession',
};

/**
 * What the core needs from a provider adapter. Each `adapters/<provider>/index.ts` exports one factory returning
 * this; the registry loads them and the core imports none.
 */
export interface ProviderAdapter {
  /** Stable provider id used in bindings, pins and events: "subotiz", "paytiko", "azotte". */
  readonly id: string;
  /**
   * The name of the per-plan reference this provider needs (Subotiz `price_id`, Azotte `bundleUrn`), or undefined
   * when prices travel inline (Paytiko). SwitchProvider refuses while an active plan lacks it.
   */
  readonly planReference?: string;
  /** What a binding holds: settings (which are URLs), secret names, the provider's documented hosts. */
  readonly binding?: BindingSpec;
  /** Rules for a storefront binding's non-secret config and secret references. Empty when valid. */
  validateBinding(config: Record<string, string>, secretRefs: Record<string, string>): Violation[];
  /** The binding's secret names that hold webhook secrets: current first, then previous. */
  readonly webhookSecretNames?: { current: string; previous: string };
  /** Provider operations; absent when the adapter does not call the provider yet. */
  readonly operations?: Partial<ProviderOperations>;
  /** Operations we emulate on top of the provider (e.g. cancel at period end by our scheduler). */
  readonly emulated?: readonly string[];
  readonly webhooks?: ProviderWebhooks;
}

/** Builds an adapter; it validates its own options at start-up. */
export type ProviderAdapterFactory = () => ProviderAdapter;
