import { randomBytes } from 'node:crypto';
import type { BindingSpec } from '../../src/domain/binding-rules';
import { checkBinding } from '../../src/domain/binding-rules';
import { invalidArgument, notFound, unavailable } from '../../src/domain/errors';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import type {
  CheckoutRequest,
  CheckoutStatus,
  MutationOutcome,
  NextAction,
  ProviderCallContext,
  ProviderCheckout,
  ProviderCheckoutState,
  ProviderFeatures,
  ProviderInvoiceState,
  ProviderModule,
  ProviderPaymentState,
  ProviderRefundState,
  ProviderOperations,
  ProviderSubscriptionState,
  SubscriptionHandle,
  SubscriptionHint,
} from '../../src/ports/provider-adapter.port';
import { fakeWebhooks, sign, SIGNATURE_HEADER, stateJson } from './fake-provider-wire';

/** The features a test picks for its fake provider (the rest are fixed: no checkout variants, provider renewals). */
export interface FakeFeatures {
  pricing: 'reference' | 'inline';
  checkout: ProviderFeatures['checkout'];
  cancelAtPeriodEnd: ProviderFeatures['cancelAtPeriodEnd'];
  entitlements: ProviderFeatures['entitlements'];
  webhooks: ProviderFeatures['webhooks'];
  trials: ProviderFeatures['trials'];
  /** The fake creates the subscription (INCOMPLETE) when the checkout opens, and names it in its answer. */
  subscriptionAtCheckout: boolean;
  /** Its subscription read shows the recent invoices and their payments. */
  invoicesWithSubscription: boolean;
  /** It can refund payments (the `refund` operation). */
  refunds: boolean;
}

/** An invoice and its payment, as the fake keeps them for each charge. */
interface FakeCharge {
  invoice: ProviderInvoiceState;
  payment: ProviderPaymentState;
}

/** A subscription as the fake keeps it: already in our vocabulary (the fake has no mapping to get wrong). */
export type FakeSubscription = ProviderSubscriptionState & { orderId: string; storefrontId: string };

export interface FakeCheckout {
  ref: string;
  orderId: string;
  storefrontId: string;
  status: CheckoutStatus;
  nextAction?: NextAction;
  request: CheckoutRequest;
  /** Server-to-server: the customer must pass a 3-D Secure step before the charge completes. */
  needsThreeDSecure: boolean;
  subscriptionRef?: string;
  expireTime: Date;
}

/** One webhook the fake sends: its own envelope (id, type, optional ordering key and sequence) around `data`. */
export interface FakeWebhook {
  type: 'subscription.updated' | 'subscription.changed' | 'entitlement.granted' | 'entitlement.revoked' | string;
  data: Record<string, unknown>;
  id?: string;
  orderingKey?: string;
  sequence?: string;
}

/** What the core asked the fake, in order (tests assert that nothing reached the provider, or what did). */
export interface FakeCall {
  operation: keyof ProviderOperations;
  storefrontId: string;
  /** Where the core said this storefront's webhooks go (ctx.webhookUrl). */
  webhookUrl: string;
  detail?: unknown;
}

/** A call `holdNext` stops at the fake until the test releases it. */
interface FakeGate {
  about: (detail: unknown) => boolean;
  reached: () => void;
  released: Promise<void>;
}

const CHECKOUT_VALIDITY_MS = 30 * 60_000;
const DAY_MS = 86_400_000;
const INTERVAL_DAYS = { DAY: 1, WEEK: 7, MONTH: 30, YEAR: 365 } as const;
/** Ours, so a binding holding only its webhook secret is valid: no `base_url`, no `url` setting, no hosts. */
const BINDING: BindingSpec = { config: {}, secrets: ['webhook_secret', 'webhook_secret_previous'], hosts: [] };

/**
 * An in-memory provider that drives the engine through the real port: the test decides each mutation's outcome
 * (`applied` or `accepted`), re-issues a subscription's reference, walks a server-to-server checkout through
 * PROCESSING → ACTION_REQUIRED (3-D Secure html) → COMPLETE, renews on its own clock (failing charges on request),
 * and POSTs HMAC-signed webhooks to the service's real HTTP ingress (dropping some on request).
 */
export class FakeProvider {
  readonly module: ProviderModule;
  readonly webhookSecret = `whsec_fake_${randomBytes(8).toString('hex')}`;
  readonly subscriptions = new Map<string, FakeSubscription>();
  readonly checkouts = new Map<string, FakeCheckout>();
  readonly calls: FakeCall[] = [];
  /** Webhooks not delivered because a fault dropped them. */
  readonly dropped: string[] = [];
  private readonly outcomes: MutationOutcome['kind'][] = [];
  private readonly pending = new Map<string, { patch: Partial<FakeSubscription>; hint: SubscriptionHint }>();
  private reissueNext = false;
  private threeDSecure = false;
  private failCharges = 0;
  private dropWebhooks = 0;
  private offsetMs = 0;
  private counter = 0;
  private ingress = '';
  private readonly pastDueSince = new Map<string, number>();
  /** Charges per subscription ref, oldest first. */
  readonly charges = new Map<string, FakeCharge[]>();
  readonly refunds: ProviderRefundState[] = [];
  /** Operations whose next call is refused as INVALID_ARGUMENT before any "HTTP" (local validation). */
  private readonly rejections = new Set<keyof ProviderOperations>();
  /** Operations that answer UNAVAILABLE until `restore` (the provider is down for them). */
  private readonly down = new Set<keyof ProviderOperations>();
  /** Every checkout the core had the fake's preflight check, in order. */
  readonly preflights: CheckoutRequest[] = [];
  private refuseNextPreflight = false;
  /** Operations whose next call waits, once it reached the fake, until the test releases it. */
  private readonly gates = new Map<keyof ProviderOperations, FakeGate>();
  /** Operations whose next answer a test corrupts (`corruptNextAnswer`). */
  private readonly corruptions = new Map<keyof ProviderOperations, (answer: unknown) => unknown>();

  constructor(
    readonly id: string,
    readonly features: FakeFeatures,
  ) {
    this.module = {
      id,
      binding: BINDING,
      validateBinding: (config, secretRefs) => checkBinding(BINDING, config, secretRefs),
      webhookSecretNames: { current: 'webhook_secret', previous: 'webhook_secret_previous' },
      features: {
        pricing: features.pricing === 'reference' ? { by: 'reference', referenceName: 'fake_price' } : { by: 'inline' },
        checkout: features.checkout,
        checkoutVariants: [],
        cancelAtPeriodEnd: features.cancelAtPeriodEnd,
        entitlements: features.entitlements,
        webhooks: features.webhooks,
        renewals: ['provider'],
        trials: features.trials,
      },
      create: () => ({
        operations: this.operations(),
        preflight: { checkout: (_ctx, request) => this.preflightCheckout(request) },
        webhooks: fakeWebhooks,
      }),
    };
  }

  // ---- test controls ----

  /** Where the service's webhook ingress listens (`http://127.0.0.1:<HTTP_PORT>`). */
  deliverTo(baseUrl: string): void {
    this.ingress = baseUrl;
  }

  /** The secret references of a binding to this fake for a storefront of `tenantId` (the value set in env). */
  secretRefs(tenantId: string): Record<string, string> {
    const variable = `${tenantEnvPrefix(tenantId)}${this.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_WEBHOOK_SECRET`;
    process.env[variable] = this.webhookSecret;
    return { webhook_secret: `env:${variable}` };
  }

  /** How the next `count` mutations answer (default: `applied`). */
  answerNext(kind: MutationOutcome['kind'], count = 1): void {
    for (let i = 0; i < count; i++) this.outcomes.push(kind);
  }

  /** The next applied mutation re-issues the subscription under a new reference (an upgrade that replaces it). */
  reissueOnNextChange(): void {
    this.reissueNext = true;
  }

  /** Server-to-server checkouts from now on need a 3-D Secure step before they complete. */
  requireThreeDSecure(on = true): void {
    this.threeDSecure = on;
  }

  /** The next call of `operation` fails its own validation: INVALID_ARGUMENT, nothing sent or created. */
  rejectNext(operation: keyof ProviderOperations): void {
    this.rejections.add(operation);
  }

  /** Every call of `operation` answers UNAVAILABLE from now on, until `restore(operation)`: the provider is down. */
  goDown(operation: keyof ProviderOperations): void {
    this.down.add(operation);
  }

  restore(operation: keyof ProviderOperations): void {
    this.down.delete(operation);
  }

  /**
   * The next answer of `operation` is what `corrupt` makes of it (a NUL in a text, an amount past int64): a provider,
   * or an adapter's mapping, answering what cannot be stored. The fake's own records keep the true answer.
   */
  corruptNextAnswer<K extends keyof ProviderOperations>(
    operation: K,
    corrupt: (answer: Awaited<ReturnType<NonNullable<ProviderOperations[K]>>>) => unknown,
  ): void {
    this.corruptions.set(operation, corrupt as (answer: unknown) => unknown);
  }

  /** The next checkout fails the fake's preflight (its documented rules): INVALID_ARGUMENT before anything is sent. */
  refuseNextCheckoutPreflight(): void {
    this.refuseNextPreflight = true;
  }

  /**
   * The next call of `operation` (whose detail — a handle, a customer — satisfies `about`) waits, once it reached the
   * fake, until `release()`: a provider call in flight, to race something against it. `reached` resolves when the
   * call arrives.
   */
  holdNext(
    operation: keyof ProviderOperations,
    about: (detail: unknown) => boolean = () => true,
  ): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.gates.set(operation, { about, reached, released });
    return { reached: arrived, release };
  }

  failNextCharges(count: number): void {
    this.failCharges += count;
  }

  dropNextWebhooks(count: number): void {
    this.dropWebhooks += count;
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves the fake's clock on: renewals, failed charges and their retry a day later, cancels at period end. */
  async advanceClock(seconds: number): Promise<void> {
    this.offsetMs += seconds * 1000;
    for (const subscription of this.subscriptions.values()) await this.bill(subscription);
  }

  /** The customer paid (hosted) or the charge went through (server-to-server): a subscription, and its webhook. */
  async completeCheckout(sessionRef: string): Promise<FakeSubscription> {
    const checkout = this.checkout(sessionRef);
    const { plan, quantity, customer } = checkout.request;
    const start = this.now();
    const subscription: FakeSubscription = {
      ref: checkout.subscriptionRef ?? this.newRef('fsub'),
      orderId: checkout.orderId,
      storefrontId: checkout.storefrontId,
      customerRef: customer.providerRef ?? `fcus_${customer.id}`,
      planRef: plan ? (plan.ref ?? plan.id) : undefined,
      quantity: quantity ?? 1,
      status: plan && plan.trialDays > 0 ? 'TRIALING' : 'ACTIVE',
      currentPeriodStart: start,
      currentPeriodEnd: this.periodEnd(start, checkout),
      cancelAtPeriodEnd: false,
      observedAt: start,
    };
    this.subscriptions.set(subscription.ref, subscription);
    Object.assign(checkout, { status: 'COMPLETE', nextAction: undefined, subscriptionRef: subscription.ref });
    this.charge(subscription, 'INITIAL', true);
    await this.sendState(subscription, 'activated');
    return subscription;
  }

  /** The customer's payment was declined: the checkout failed and nothing was bought. */
  declineCheckout(sessionRef: string): void {
    Object.assign(this.checkout(sessionRef), { status: 'FAILED', nextAction: undefined });
  }

  /** The customer passed the 3-D Secure step: the charge completes. */
  passThreeDSecure(sessionRef: string): Promise<FakeSubscription> {
    return this.completeCheckout(sessionRef);
  }

  /**
   * A subscription made at the provider without any checkout of ours (its own portal, another integration): no order
   * id of ours. Nothing is sent; a test tells it with `send`, as its provider would.
   */
  createElsewhere(
    storefrontId: string,
    fields: Pick<FakeSubscription, 'customerRef' | 'planRef'> & Partial<FakeSubscription>,
  ): FakeSubscription {
    const start = this.now();
    const subscription: FakeSubscription = {
      ref: this.newRef('fsub'),
      orderId: '',
      storefrontId,
      quantity: 1,
      status: 'ACTIVE',
      currentPeriodStart: start,
      currentPeriodEnd: new Date(start.getTime() + 30 * DAY_MS),
      cancelAtPeriodEnd: false,
      observedAt: start,
      ...fields,
    };
    this.subscriptions.set(subscription.ref, subscription);
    return subscription;
  }

  /** A `subscription.updated` webhook telling `state` (by default the subscription as it is now), to `send` as is. */
  stateWebhook(
    state: ProviderSubscriptionState,
    envelope: Omit<FakeWebhook, 'type' | 'data'> = {},
    hint: SubscriptionHint = 'updated',
  ): FakeWebhook {
    return { ...envelope, type: 'subscription.updated', data: { hint, subscription: stateJson(state) } };
  }

  /** Changes a subscription at the fake without telling anyone (a later webhook or fetch reveals it). */
  update(ref: string, patch: Partial<FakeSubscription>): FakeSubscription {
    const subscription = this.subscription(ref);
    Object.assign(subscription, patch, { observedAt: this.now() });
    return subscription;
  }

  /** Confirms an `accepted` change: applies it and sends the webhook that says so. */
  async confirm(ref: string): Promise<number> {
    const change = this.pending.get(ref);
    if (!change) throw new Error(`no accepted change is waiting for ${ref}`);
    this.pending.delete(ref);
    return this.sendState(this.update(ref, change.patch), change.hint);
  }

  /** Sends a subscription's current state as a `subscription.updated` webhook. */
  sendState(subscription: FakeSubscription, hint: SubscriptionHint = 'updated'): Promise<number> {
    return this.send(subscription.storefrontId, {
      type: 'subscription.updated',
      data: { hint, subscription: stateJson(subscription) },
    });
  }

  /** Signs `webhook` with this fake's secret and POSTs it to the storefront's ingress; the HTTP status. */
  async send(storefrontId: string, webhook: FakeWebhook): Promise<number> {
    if (!this.ingress) throw new Error('deliverTo(service) first');
    const id = webhook.id ?? this.newRef('fevt');
    if (this.dropWebhooks > 0) {
      this.dropWebhooks--;
      this.dropped.push(id);
      return 0;
    }
    const body = JSON.stringify({
      id,
      type: webhook.type,
      created_at: this.now().toISOString(),
      ...(webhook.orderingKey !== undefined && { ordering_key: webhook.orderingKey }),
      ...(webhook.sequence !== undefined && { sequence: webhook.sequence }),
      data: webhook.data,
    });
    const response = await fetch(`${this.ingress}/webhooks/${this.id}/${storefrontId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(this.webhookSecret, body) },
      body,
    });
    await response.text();
    return response.status;
  }

  subscription(ref: string): FakeSubscription {
    const subscription = this.subscriptions.get(ref);
    if (!subscription) throw new Error(`the fake has no subscription ${ref}`);
    return subscription;
  }

  checkout(ref: string): FakeCheckout {
    const checkout = this.checkouts.get(ref);
    if (!checkout) throw new Error(`the fake has no checkout ${ref}`);
    return checkout;
  }

  // ---- the adapter ----

  /** The operations, each answering through a corruption a test asked for (`corruptNextAnswer`). */
  private operations(): Partial<ProviderOperations> {
    const honest = this.honestOperations() as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const corruptible = Object.entries(honest).map(([name, op]) => [
      name,
      async (...args: unknown[]) => {
        const answer = await op(...args);
        const corrupt = this.corruptions.get(name as keyof ProviderOperations);
        this.corruptions.delete(name as keyof ProviderOperations);
        return corrupt ? corrupt(structuredClone(answer)) : answer;
      },
    ]);
    return Object.fromEntries(corruptible) as Partial<ProviderOperations>;
  }

  private honestOperations(): Partial<ProviderOperations> {
    return {
      ensureCustomer: async (ctx, customer) => {
        this.record('ensureCustomer', ctx, customer.id);
        return `fcus_${customer.id}`;
      },
      createCheckout: async (ctx, request) => this.createCheckout(ctx, request),
      getCheckout: async (ctx, ref) => {
        this.record('getCheckout', ctx, ref);
        return this.checkoutState(this.checkoutOrThrow(ref));
      },
      getSubscription: async (ctx, handle) => {
        this.record('getSubscription', ctx, handle);
        await this.passGate('getSubscription', handle, ctx.signal);
        if (this.down.has('getSubscription')) throw unavailable('the fake is down for getSubscription');
        const found = this.find(handle);
        if (!found) return undefined;
        const charges = this.features.invoicesWithSubscription ? (this.charges.get(found.ref) ?? []) : [];
        return {
          ...found,
          observedAt: this.now(),
          ...(this.features.invoicesWithSubscription && {
            invoices: charges.map((c) => ({ ...c.invoice })),
            payments: charges.map((c) => ({ ...c.payment })),
          }),
        };
      },
      updateCustomer: async (ctx, customer) => {
        this.record('updateCustomer', ctx, customer);
        await this.passGate('updateCustomer', customer, ctx.signal);
        this.refuseIfAsked('updateCustomer');
      },
      ...(this.features.refunds && {
        refund: async (ctx, request) => {
          this.record('refund', ctx, request);
          await this.passGate('refund', request, ctx.signal);
          const known = this.refunds.find((r) => r.ref === `fref_${request.refundId}`);
          if (known) return known;
          const refund: ProviderRefundState = {
            ref: `fref_${request.refundId}`,
            paymentRef: request.payment.ref,
            amount: request.amount,
            status: 'SUCCEEDED',
            reason: request.reason,
          };
          this.refunds.push(refund);
          return refund;
        },
      }),
      cancelSubscription: (ctx, handle, { atPeriodEnd }) =>
        this.mutate('cancelSubscription', ctx, handle, 'canceled', () =>
          atPeriodEnd
            ? { cancelAtPeriodEnd: true }
            : { status: 'CANCELED', canceledAt: this.now(), endedAt: this.now() },
        ),
      revokeCancellation: (ctx, handle) =>
        this.mutate('revokeCancellation', ctx, handle, 'cancellation_revoked', () => ({ cancelAtPeriodEnd: false })),
      pauseSubscription: (ctx, handle) =>
        this.mutate('pauseSubscription', ctx, handle, 'paused', () => ({ status: 'PAUSED' })),
      resumeSubscription: (ctx, handle) =>
        this.mutate('resumeSubscription', ctx, handle, 'resumed', () => ({ status: 'ACTIVE' })),
      changePlan: (ctx, handle, { plan, quantity }) =>
        this.mutate('changePlan', ctx, handle, 'plan_changed', () => ({
          planRef: plan.ref ?? plan.id,
          quantity,
        })),
      updateQuantity: (ctx, handle, { quantity }) =>
        this.mutate('updateQuantity', ctx, handle, 'updated', () => ({ quantity })),
    };
  }

  private createCheckout(ctx: ProviderCallContext, request: CheckoutRequest) {
    this.record('createCheckout', ctx, request.orderId);
    this.refuseIfAsked('createCheckout');
    // The same order again (a retried request) is the same checkout, as a provider keyed on our order id answers.
    const existing = [...this.checkouts.values()].find((c) => c.orderId === request.orderId);
    if (existing) return this.answer(existing);
    const serverToServer = this.features.checkout === 'server_to_server';
    if (serverToServer && !request.paymentMethodRef) {
      throw invalidArgument([{ field: 'payment_method', rule: 'the fake charges a stored payment method' }]);
    }
    const ref = this.newRef('fcs');
    const checkout: FakeCheckout = {
      ref,
      orderId: request.orderId,
      storefrontId: ctx.storefrontId,
      status: serverToServer ? 'PROCESSING' : 'OPEN',
      nextAction: serverToServer ? undefined : { redirectUrl: `https://pay.fake.test/checkout/${ref}` },
      request,
      needsThreeDSecure: serverToServer && this.threeDSecure,
      expireTime: new Date(this.now().getTime() + CHECKOUT_VALIDITY_MS),
      subscriptionRef: this.features.subscriptionAtCheckout && request.plan ? this.newRef('fsub') : undefined,
    };
    this.checkouts.set(ref, checkout);
    return this.answer(checkout);
  }

  /** The answer to CreateCheckoutSession: as the checkout is now (the 3-D Secure step shows only when asked later). */
  private answer(checkout: FakeCheckout): ProviderCheckout {
    const { ref, status, nextAction, orderId, expireTime, subscriptionRef } = checkout;
    const checkAt = status === 'PROCESSING' ? new Date(this.now().getTime() + 1000) : undefined;
    return { sessionRef: ref, status, nextAction, checkAt, orderId, expireTime, subscriptionRef };
  }

  /** A server-to-server checkout still processing turns ACTION_REQUIRED the first time it is asked about. */
  private checkoutState(checkout: FakeCheckout): ProviderCheckoutState {
    if (checkout.status === 'PROCESSING' && checkout.needsThreeDSecure) {
      checkout.status = 'ACTION_REQUIRED';
      checkout.nextAction = { html: `<form id="fake-3ds" action="https://3ds.fake.test/${checkout.ref}"></form>` };
    }
    return {
      ref: checkout.ref,
      status: checkout.status,
      nextAction: checkout.nextAction,
      orderId: checkout.orderId,
      subscriptionRef: checkout.subscriptionRef,
      checkAt: checkout.status === 'PROCESSING' ? new Date(this.now().getTime() + 1000) : undefined,
    };
  }

  /**
   * Waits at the gate `holdNext` put before `operation`, when this call is the one it holds; or until the caller
   * gives up (`signal`), as a real HTTP call ends then, UNAVAILABLE.
   */
  private async passGate(operation: keyof ProviderOperations, detail: unknown, signal?: AbortSignal): Promise<void> {
    const gate = this.gates.get(operation);
    if (!gate?.about(detail)) return;
    this.gates.delete(operation);
    gate.reached();
    let abandoned: (() => void) | undefined;
    const gaveUp = new Promise<void>((_, reject) => {
      abandoned = () =>
        reject(unavailable(`fake ${operation} abandoned: the call was cancelled or its deadline passed`));
      if (signal?.aborted) abandoned();
      signal?.addEventListener('abort', abandoned, { once: true });
    });
    try {
      await Promise.race([gate.released, gaveUp]);
    } finally {
      signal?.removeEventListener('abort', abandoned!);
    }
  }

  private preflightCheckout(request: CheckoutRequest): void {
    this.preflights.push(request);
    if (!this.refuseNextPreflight) return;
    this.refuseNextPreflight = false;
    throw invalidArgument([{ field: 'customer.phone', rule: "the fake's documented rules need a phone number" }]);
  }

  private async mutate(
    operation: keyof ProviderOperations,
    ctx: ProviderCallContext,
    handle: SubscriptionHandle,
    hint: SubscriptionHint,
    change: () => Partial<FakeSubscription>,
  ): Promise<MutationOutcome> {
    this.record(operation, ctx, handle);
    await this.passGate(operation, handle, ctx.signal);
    this.refuseIfAsked(operation);
    const subscription = this.find(handle);
    if (!subscription) throw notFound('subscription', handle.providerRef ?? handle.id);
    const patch = change();
    if ((this.outcomes.shift() ?? 'applied') === 'accepted') {
      this.pending.set(subscription.ref, { patch, hint });
      return { kind: 'accepted', note: `${operation} waits for the fake's confirmation` };
    }
    let target = subscription;
    if (this.reissueNext) {
      this.reissueNext = false;
      this.subscriptions.delete(subscription.ref);
      target = { ...subscription, ref: this.newRef('fsub'), previousRef: subscription.ref };
      this.subscriptions.set(target.ref, target);
    }
    return { kind: 'applied', state: { ...this.update(target.ref, patch) } };
  }

  private async bill(subscription: FakeSubscription): Promise<void> {
    for (;;) {
      const { status, currentPeriodEnd: end } = subscription;
      const now = this.now().getTime();
      if (!end || !['ACTIVE', 'TRIALING', 'PAST_DUE'].includes(status)) return;
      if (subscription.cancelAtPeriodEnd && end.getTime() <= now && this.features.cancelAtPeriodEnd === 'native') {
        this.update(subscription.ref, { status: 'CANCELED', endedAt: end, canceledAt: end });
        await this.sendState(subscription, 'canceled');
        return;
      }
      const retryAt = status === 'PAST_DUE' ? this.pastDueSince.get(subscription.ref)! + DAY_MS : end.getTime();
      if (retryAt > now) return;
      if (this.failCharges > 0) {
        // Declined: past due, and asked again a day later (the period stays the unpaid one).
        this.failCharges--;
        this.charge(subscription, 'RENEWAL', false);
        this.pastDueSince.set(subscription.ref, now);
        this.update(subscription.ref, { status: 'PAST_DUE' });
        await this.sendState(subscription, 'past_due');
        return;
      }
      this.pastDueSince.delete(subscription.ref);
      const checkout = [...this.checkouts.values()].find((c) => c.orderId === subscription.orderId)!;
      this.update(subscription.ref, {
        status: 'ACTIVE',
        currentPeriodStart: end,
        currentPeriodEnd: this.periodEnd(end, checkout),
      });
      this.charge(subscription, 'RENEWAL', true);
      await this.sendState(subscription, status === 'PAST_DUE' ? 'activated' : 'updated');
    }
  }

  /** One charge of the subscription's current period: its invoice and payment, paid or declined. */
  private charge(subscription: FakeSubscription, type: 'INITIAL' | 'RENEWAL', paid: boolean): void {
    const list = this.charges.get(subscription.ref) ?? [];
    const checkout = [...this.checkouts.values()].find((c) => c.orderId === subscription.orderId);
    const plan = checkout?.request.plan;
    const amount = plan
      ? { ...plan.price, amountMinor: plan.price.amountMinor * BigInt(subscription.quantity ?? 1) }
      : { currency: 'EUR', amountMinor: 0n };
    const paymentRef = this.newRef('fpay');
    list.push({
      invoice: {
        ref: this.newRef('finv'),
        subscriptionRef: subscription.ref,
        amount,
        type,
        status: paid ? 'PAID' : 'FAILED',
        cycleIndex: list.length,
        periodStart: subscription.currentPeriodStart,
        periodEnd: subscription.currentPeriodEnd,
        paymentRef,
      },
      payment: {
        ref: paymentRef,
        kind: type === 'INITIAL' ? 'initial' : 'recurring',
        subscriptionRef: subscription.ref,
        amount,
        status: paid ? 'SUCCEEDED' : 'FAILED',
        refundState: 'NONE',
        refundedAmount: { ...amount, amountMinor: 0n },
        paidAt: paid ? this.now() : undefined,
        failure: paid ? undefined : { code: 'card_declined', message: 'declined by the fake' },
      },
    });
    this.charges.set(subscription.ref, list);
  }

  private refuseIfAsked(operation: keyof ProviderOperations): void {
    if (!this.rejections.delete(operation)) return;
    throw invalidArgument([{ field: 'fake_field', rule: `the fake's own validation refused ${operation}` }]);
  }

  private find(handle: SubscriptionHandle): FakeSubscription | undefined {
    if (handle.providerRef) return this.subscriptions.get(handle.providerRef);
    return [...this.subscriptions.values()].find((s) => s.orderId === handle.id);
  }

  private checkoutOrThrow(ref: string): FakeCheckout {
    const checkout = this.checkouts.get(ref);
    if (!checkout) throw notFound('checkout', ref);
    return checkout;
  }

  private periodEnd(start: Date, checkout: FakeCheckout): Date {
    const interval = checkout.request.plan?.interval ?? { unit: 'MONTH', count: 1 };
    return new Date(start.getTime() + INTERVAL_DAYS[interval.unit] * interval.count * DAY_MS);
  }

  private record(operation: keyof ProviderOperations, ctx: ProviderCallContext, detail: unknown): void {
    this.calls.push({ operation, storefrontId: ctx.storefrontId, webhookUrl: ctx.webhookUrl, detail });
  }

  private newRef(prefix: string): string {
    return `${prefix}_${++this.counter}_${randomBytes(3).toString('hex')}`;
  }
}

/** A fake provider with `features` (defaults: priced by reference, hosted, native cancel, derived, state webhooks). */
export function fakeProvider(id = 'fakepay', features: Partial<FakeFeatures> = {}): FakeProvider {
  return new FakeProvider(id, {
    pricing: 'reference',
    checkout: 'hosted',
    cancelAtPeriodEnd: 'native',
    entitlements: 'derived',
    webhooks: 'state',
    trials: 'native',
    subscriptionAtCheckout: false,
    invoicesWithSubscription: false,
    refunds: false,
    ...features,
  });
}
