import type { Address } from '../domain/customer';
import type { Money } from '../domain/money';
import type { IntervalUnit } from '../domain/plan';
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

/** How a provider supports one of our operations (or a variant of it, e.g. `CancelSubscription.at_period_end`). */
export type CapabilitySupport = 'NATIVE' | 'EMULATED';

export interface ProviderCapability {
  /** The RPC, or `RPC.variant`. */
  operation: string;
  support: CapabilitySupport;
}

/**
 * Everything an adapter needs for one call: the storefront's binding (non-secret config and resolved secrets), the
 * caller's deadline, a key that stays the same when the same logical call is retried (the provider's request id or
 * correlation id is derived from it), and where the provider should send this storefront's webhooks.
 */
export interface ProviderCallContext {
  storefrontId: string;
  config: Record<string, string>;
  /** Secrets resolved from the binding's references. Never logged, never put in errors. */
  secrets: Record<string, string>;
  signal: AbortSignal;
  idempotencyKey: string;
  /** Our webhook ingress for this storefront and provider: `PUBLIC_BASE_URL/webhooks/{provider}/{storefrontId}`. */
  webhookUrl: string;
}

/** A subscription as the provider knows it: our id (the order id we gave at checkout) and its references. */
export interface SubscriptionHandle {
  /** Our subscription id, which is also the checkout's order id. */
  id: string;
  /** The provider's subscription id, once known (absent before the checkout completed). */
  providerRef?: string;
  /** The customer's id at the provider (for providers that list subscriptions per customer). */
  customerRef?: string;
  /** The plan's reference at the provider, for providers that price by reference. */
  planRef?: string;
}

/** A plan's terms, for providers whose prices travel inline (and for everyone's records). */
export interface PlanTerms {
  id: string;
  name: string;
  price: Money;
  interval: { unit: IntervalUnit; count: number };
  trialDays: number;
  /** The plan's reference at this provider, when the provider prices by reference. */
  ref?: string;
}

/** The whole customer, as providers that keep customers of their own need it. */
export interface CustomerDetails {
  id: string;
  email: string;
  name: string;
  /** E.164, or empty. */
  phone: string;
  /** ISO 3166-1 alpha-2, or empty. */
  country: string;
  address?: Address;
  /** The customer's id at this provider, when known. */
  providerRef?: string;
}

export interface CheckoutRequest {
  /** Our id for what is sold (subscription or payment id); the same on every retry of one idempotency key. */
  orderId: string;
  mode: 'subscription' | 'payment';
  /** `hosted`: a page to redirect to; `embedded`: a session the caller's page mounts with the provider's SDK. */
  uiMode: 'hosted' | 'embedded';
  customer: CustomerDetails;
  /** Subscription mode: the plan and quantity. */
  plan?: PlanTerms;
  quantity?: number;
  /** Payment mode: the amount to charge. */
  amount?: Money;
  description?: string;
  successUrl?: string;
  cancelUrl?: string;
  promotionCode?: string;
  /** Server-to-server checkout: the customer's stored payment method at the provider (we never see card numbers). */
  paymentMethodRef?: string;
}

/** A mutation's outcome: the provider's new state now, or accepted and confirmed later by webhook. */
export type MutationOutcome =
  | { kind: 'applied'; state: ProviderSubscriptionState }
  /** Nothing changes and nothing is emitted until the provider confirms (e.g. a plan change after its proration charge). */
  | { kind: 'accepted'; note?: string };

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
   * during checkout leave this out; their reference is learned from webhooks.
   */
  ensureCustomer?(ctx: ProviderCallContext, customer: CustomerDetails): Promise<string>;
  /** Sends a changed customer to the provider (only for customers it already knows). */
  updateCustomer?(ctx: ProviderCallContext, customer: CustomerDetails & { providerRef: string }): Promise<void>;
  /** Opens a checkout: a hosted page, or a server-to-server charge that completes later. */
  createCheckout(ctx: ProviderCallContext, request: CheckoutRequest): Promise<ProviderCheckout>;
  /** A checkout's current state (async checkouts are polled; abandoned hosted ones are asked about once expired). */
  getCheckout?(ctx: ProviderCallContext, sessionRef: string): Promise<ProviderCheckoutState>;
  /**
   * The provider's current view of a subscription, by its reference or, before we know one, by our order id.
   * Undefined when the provider has none for this handle yet.
   */
  getSubscription(ctx: ProviderCallContext, handle: SubscriptionHandle): Promise<ProviderSubscriptionState | undefined>;
  cancelSubscription?(
    ctx: ProviderCallContext,
    handle: SubscriptionHandle,
    options: { atPeriodEnd: boolean; reason: string },
  ): Promise<MutationOutcome>;
  revokeCancellation?(ctx: ProviderCallContext, handle: SubscriptionHandle): Promise<MutationOutcome>;
  pauseSubscription?(ctx: ProviderCallContext, handle: SubscriptionHandle, resumeAt?: Date): Promise<MutationOutcome>;
  resumeSubscription?(ctx: ProviderCallContext, handle: SubscriptionHandle): Promise<MutationOutcome>;
  changePlan?(
    ctx: ProviderCallContext,
    handle: SubscriptionHandle,
    change: { plan: PlanTerms; quantity: number },
  ): Promise<MutationOutcome>;
  updateQuantity?(
    ctx: ProviderCallContext,
    handle: SubscriptionHandle,
    change: { plan: PlanTerms; quantity: number },
  ): Promise<MutationOutcome>;
  recordUsage?(
    ctx: ProviderCallContext,
    handle: SubscriptionHandle,
    usage: { quantity: bigint; timestamp: Date },
  ): Promise<ProviderUsageRecord>;
  getUsage?(ctx: ProviderCallContext, handle: SubscriptionHandle, period: UsagePeriod): Promise<ProviderUsage>;
  getPayment?(ctx: ProviderCallContext, paymentRef: string): Promise<ProviderPaymentState>;
  getInvoice?(ctx: ProviderCallContext, invoiceRef: string): Promise<ProviderInvoiceState>;
  /**
   * Refunds part or all of a payment. `refundId` is ours and stays the same across retries; a provider that does not
   * replay refunds is asked what became of an ambiguous attempt instead of being asked twice.
   */
  refund?(
    ctx: ProviderCallContext,
    request: {
      refundId: string;
      payment: { ref: string; orderId: string };
      amount: Money;
      reason: string;
    },
  ): Promise<ProviderRefundState>;
  getRefund?(ctx: ProviderCallContext, refundRef: string): Promise<ProviderRefundState>;
  createPortalSession?(
    ctx: ProviderCallContext,
    customerRef: string,
    returnUrl: string,
  ): Promise<{ url: string; expireTime?: Date }>;
  /**
   * Merchant-initiated renewal (`features.renewals` has `merchant`): charges the subscription's saved payment method
   * for one cycle. `orderId` is the same for every retry of one attempt, so an unknown outcome can be looked up; a
   * declined charge is a FAILED payment, not an error.
   */
  chargeRenewal?(
    ctx: ProviderCallContext,
    request: {
      handle: SubscriptionHandle;
      orderId: string;
      amount: Money;
      paymentMethodRef: string;
      cycleIndex: number;
    },
  ): Promise<ProviderPaymentState>;
}

/** The RPC each operation serves, for capability lists and UNIMPLEMENTED messages. */
export const OPERATION_RPC: Record<keyof ProviderOperations, string> = {
  ensureCustomer: 'CreateCustomer',
  updateCustomer: 'UpdateCustomer',
  createCheckout: 'CreateCheckoutSession',
  getCheckout: 'GetCheckoutSession',
  getSubscription: 'GetSubscription',
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
  // Not an RPC: our scheduler charges renewals itself where the storefront's binding says `renewals: merchant`.
  chargeRenewal: 'Renewals.merchant',
};

/**
 * A provider's documented rules checked on our side, before anything is written or sent: pure (no I/O), so a
 * request the provider would refuse costs no provider call and leaves nothing behind.
 */
export interface ProviderPreflight {
  /**
   * Throws INVALID_ARGUMENT naming our fields (`customer.phone`, `success_url`, …) or FAILED_PRECONDITION (the
   * storefront's configuration) for a checkout the provider would refuse. `request.orderId` is not yet chosen ('').
   */
  checkout?(ctx: ProviderCallContext, request: CheckoutRequest): void;
}

/** What a provider module's `create` builds: its operations, its local checks and its webhook reader. */
export interface ProviderAdapter {
  readonly operations: Partial<ProviderOperations>;
  readonly preflight?: ProviderPreflight;
  readonly webhooks?: ProviderWebhooks;
}
