import { createAzotteOperations } from '../../adapters/azotte/operations';
import type { DomainError } from '../../src/domain/errors';
import type { HttpTransport, ProviderHttpRequest } from '../../src/ports/http-transport.port';
import type { CheckoutRequest, ProviderCallContext } from '../../src/ports/provider-adapter.port';

const ctx: ProviderCallContext = {
  storefrontId: 'sf_1',
  config: { base_url: 'http://127.0.0.1:8091/azotte', tenant: 'tn-1', storefront_urn: 'st.00.001' },
  secrets: { api_key: 'sk_secret' },
  signal: new AbortController().signal,
  idempotencyKey: 'idem-1',
  webhookUrl: 'https://example.test/w',
};
const NOW = new Date('2026-01-15T00:00:00Z');
const ok = (extra: Record<string, unknown>, code = 'SUCCESS') => ({ status: { messageCode: code }, ...extra });

/** A fake C2A: answers by path, records what was sent. */
function fake(routes: Record<string, (body: Record<string, unknown>) => [number, unknown]>) {
  const sent: { path: string; body: Record<string, unknown> }[] = [];
  const transport: HttpTransport = {
    send: (request: ProviderHttpRequest) => {
      const path = new URL(request.url).pathname.replace('/azotte/api/v1/c2a', '');
      const body = request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
      sent.push({ path, body });
      const route = routes[path];
      if (!route) throw new Error(`unexpected ${path}`);
      const [status, answer] = route(body);
      return Promise.resolve({ status, headers: {}, body: JSON.stringify(answer) });
    },
  };
  return { sent, ops: createAzotteOperations({ transport, clock: { now: () => NOW } }) };
}

const request: CheckoutRequest = {
  orderId: 'sub_A',
  mode: 'subscription',
  uiMode: 'hosted',
  customer: { id: 'cus_1', email: 'a@b.de', name: 'Ada Lovelace', phone: '', country: 'DE', providerRef: 'cu.00.1' },
  plan: {
    id: 'plan_1',
    name: 'Pro',
    price: { currency: 'EUR', amountMinor: 1499n },
    interval: { unit: 'MONTH', count: 1 },
    trialDays: 0,
    ref: 'bn.00.1',
  },
  quantity: 1,
  paymentMethodRef: 'pm.test.visa',
};

const offer = (amountMilpieces = 1499) =>
  ok({
    offer: {
      offerIdentifier: 'of_1',
      artifactGroups: [
        {
          itemIdentifier: 'it_1',
          bundleUrn: 'bn.00.1',
          price: { amountMilpieces, currency: 'EUR' },
          billingPeriod: { unit: 'Month', count: 1 },
          trialDays: 0,
        },
      ],
    },
  });
const methods = (state = 'Active') =>
  ok({ result: [{ paymentMethodUrn: 'pm.test.visa', customerUrn: 'cu.00.1', state }] });

describe('Azotte createCheckout', () => {
  it('lists methods, takes an offer, checks out with correlationId = orderId, resubmits once on OFFER_EXPIRED', async () => {
    let checkouts = 0;
    const { sent, ops } = fake({
      '/customer/payment/methods/list': () => [200, methods()],
      '/offer/bundles': () => [200, offer()],
      '/offer/checkout': () => {
        checkouts += 1;
        if (checkouts === 1) return [409, { status: { messageCode: 'OFFER_EXPIRED' } }];
        return [
          202,
          ok(
            { trackingNumber: 'trk_1', correlationId: 'sub_A', followUpInstructions: { retryAfterSeconds: 2 } },
            'CHECK_OUT_PROCESSING',
          ),
        ];
      },
    });
    const checkout = await ops.createCheckout(ctx, request);
    expect(checkout).toMatchObject({ sessionRef: 'trk_1', status: 'PROCESSING', orderId: 'sub_A' });
    expect(checkout.checkAt).toEqual(new Date(NOW.getTime() + 2000));
    expect(sent.map((s) => s.path)).toEqual([
      '/customer/payment/methods/list',
      '/offer/bundles',
      '/offer/checkout',
      '/offer/bundles',
      '/offer/checkout',
    ]);
    expect(sent[4]!.body).toEqual({
      order: {
        offerIdentifier: 'of_1',
        correlationId: 'sub_A',
        items: [{ itemIdentifier: 'it_1', quantity: 1 }],
        customer: { customerUrn: 'cu.00.1' },
      },
      paymentMethod: { paymentChannel: 'CreditCard', useStoredMethod: true, paymentMethodUrn: 'pm.test.visa' },
    });
  });

  it('refuses an inactive method naming payment_method_ref, and a price Azotte does not charge', async () => {
    const inactive = fake({ '/customer/payment/methods/list': () => [200, methods('Inactive')] });
    const refused = (await inactive.ops.createCheckout(ctx, request).catch((e: unknown) => e)) as DomainError;
    expect(refused.code).toBe('FAILED_PRECONDITION');
    expect(refused.violations[0]!.field).toBe('payment_method_ref');
    const priced = fake({
      '/customer/payment/methods/list': () => [200, methods()],
      '/offer/bundles': () => [200, offer(1999)],
    });
    const mismatch = (await priced.ops.createCheckout(ctx, request).catch((e: unknown) => e)) as DomainError;
    expect(mismatch.code).toBe('FAILED_PRECONDITION');
    expect(mismatch.message).toContain("Azotte prices bundle 'bn.00.1' at 19.99 EUR, our plan at 14.99 EUR");
  });
});

describe('Azotte customers', () => {
  it('store answering CUSTOMER_ALREADY_STORED is success', async () => {
    const { ops, sent } = fake({
      '/customer/validate': () => [200, ok({ isAvailable: true })],
      '/customer/store': () => [
        409,
        { status: { messageCode: 'CUSTOMER_ALREADY_STORED' }, result: { customerUrn: 'cu.00.9' } },
      ],
    });
    const customer = { ...request.customer, providerRef: undefined };
    expect(await ops.ensureCustomer(ctx, customer)).toBe('cu.00.9');
    expect(sent[1]!.body).toEqual({
      customer: {
        externalIdentifier: 'cus_1',
        email: 'a@b.de',
        firstName: 'Ada',
        lastName: 'Lovelace',
        legalType: 'Individual',
      },
      claimedRegion: { countryCode: 'DE', languageCode: 'en' },
    });
  });
});

const SUBSCRIPTION = {
  orderIdentifier: 'or_1',
  correlationId: 'sub_A',
  customerUrn: 'cu.00.1',
  bundleUrn: 'bn.00.1',
  state: 'Active',
  startDate: '2026-01-01T00:00:00Z',
  endDate: null,
  currentPeriodStart: '2026-01-01T00:00:00Z',
  currentPeriodEnd: '2026-02-01T00:00:00Z',
  cancelationMethod: null,
  canceledAt: null,
  quantity: 1,
  paymentMethodUrn: 'pm.test.visa',
  initialAssignmentType: 'Purchase',
  replacedByOrderIdentifier: null,
  originalOrderIdentifier: null,
};
const handle = { id: 'sub_A', customerRef: 'cu.00.1', providerRef: 'or_1' };

/** A fake whose subscription list is `list()` at the time of the call. */
function withSubscriptions(list: () => unknown[], routes: Parameters<typeof fake>[0] = {}) {
  return fake({ '/subscription/cu.00.1': () => [200, ok({ result: list() })], ...routes });
}

describe('Azotte getSubscription and getCheckout', () => {
  it('finds by correlationId before a ref, by ref after, follows a Replace; none is undefined', async () => {
    const replaced = {
      ...SUBSCRIPTION,
      state: 'Canceled',
      endDate: '2026-01-10T00:00:00Z',
      replacedByOrderIdentifier: 'or_2',
    };
    const newer = {
      ...SUBSCRIPTION,
      orderIdentifier: 'or_2',
      correlationId: 'sub_A.replace.0123456789abcdef',
      bundleUrn: 'bn.00.2',
      initialAssignmentType: 'Replace',
      originalOrderIdentifier: 'or_1',
    };
    let list: unknown[] = [SUBSCRIPTION];
    const { ops, sent } = withSubscriptions(() => list);
    expect(await ops.getSubscription(ctx, { id: 'sub_A', customerRef: 'cu.00.1' })).toMatchObject({
      ref: 'or_1',
      status: 'ACTIVE',
      orderId: 'sub_A',
      planRef: 'bn.00.1',
    });
    expect(sent[0]!.path).toBe('/subscription/cu.00.1');
    list = [replaced, newer];
    expect(await ops.getSubscription(ctx, handle)).toMatchObject({
      ref: 'or_2',
      planRef: 'bn.00.2',
      previousRef: 'or_1',
      orderId: 'sub_A',
    });
    expect(await ops.getSubscription(ctx, { ...handle, providerRef: 'or_9' })).toBeUndefined();
    const noCustomer = (await ops.getSubscription(ctx, { id: 'sub_A' }).catch((e: unknown) => e)) as DomainError;
    expect(noCustomer.code).toBe('FAILED_PRECONDITION');
  });

  it('maps the status answers: PROCESSING with Retry-After, 3-D Secure html, DONE, FAILED, unknown → NOT_FOUND', async () => {
    let answer: [number, unknown] = [200, {}];
    const { ops, sent } = fake({ '/offer/checkout/trk_1/status': () => answer });
    answer = [
      200,
      ok(
        { trackingNumber: 'trk_1', correlationId: 'sub_A', followUpInstructions: { retryAfterSeconds: 3 } },
        'CHECK_OUT_PROCESSING',
      ),
    ];
    expect(await ops.getCheckout(ctx, 'trk_1')).toEqual({
      ref: 'trk_1',
      status: 'PROCESSING',
      orderId: 'sub_A',
      checkAt: new Date(NOW.getTime() + 3000),
    });
    expect(sent[0]!.path).toBe('/offer/checkout/trk_1/status');
    answer = [
      200,
      ok(
        {
          trackingNumber: 'trk_1',
          correlationId: 'sub_A',
          redirectInstructions: { isRedirectRequired: false, showHtmlContent: true, htmlContent: '<form></form>' },
        },
        'CHECK_OUT_3DS_REQUIRED',
      ),
    ];
    expect(await ops.getCheckout(ctx, 'trk_1')).toMatchObject({
      status: 'ACTION_REQUIRED',
      nextAction: { html: '<form></form>' },
    });
    answer = [200, ok({ trackingNumber: 'trk_1', correlationId: 'sub_A', orderIdentifier: 'or_1' }, 'CHECK_OUT_DONE')];
    expect(await ops.getCheckout(ctx, 'trk_1')).toEqual({
      ref: 'trk_1',
      status: 'COMPLETE',
      orderId: 'sub_A',
      subscriptionRef: 'or_1',
    });
    answer = [
      200,
      ok(
        { trackingNumber: 'trk_1', correlationId: 'sub_A', failure: { code: 'CARD_DECLINED', message: 'no' } },
        'CHECK_OUT_FAILED',
      ),
    ];
    expect(await ops.getCheckout(ctx, 'trk_1')).toMatchObject({
      status: 'FAILED',
      failure: { code: 'CARD_DECLINED', message: 'no' },
    });
    answer = [404, { status: { messageCode: 'ORDERED_ITEM_NOT_FOUND' } }];
    const missing = (await ops.getCheckout(ctx, 'trk_1').catch((e: unknown) => e)) as DomainError;
    expect(missing.code).toBe('NOT_FOUND');
  });
});

describe('Azotte cancel and revoke', () => {
  it('cancel at period end: request then confirm with the same method; the state is read back', async () => {
    let current: Record<string, unknown> = SUBSCRIPTION;
    const { ops, sent } = withSubscriptions(() => [current], {
      '/subscription/cancel/request': () => [
        200,
        ok({ responseType: 'Processed', offer: null, cancellationReasons: [] }),
      ],
      '/subscription/cancel/confirm': () => {
        current = {
          ...SUBSCRIPTION,
          state: 'Canceled',
          cancelationMethod: 'EndOfPeriod',
          endDate: '2026-02-01T00:00:00Z',
          previousState: 'Active',
        };
        return [200, ok({})];
      },
    });
    const outcome = await ops.cancelSubscription(ctx, handle, { atPeriodEnd: true, reason: 'too dear' });
    expect(outcome).toMatchObject({
      kind: 'applied',
      state: { ref: 'or_1', status: 'ACTIVE', cancelAtPeriodEnd: true },
    });
    expect(sent.map((s) => s.path)).toEqual([
      '/subscription/cu.00.1',
      '/subscription/cancel/request',
      '/subscription/cancel/confirm',
      '/subscription/cu.00.1',
    ]);
    expect(sent[1]!.body).toEqual({ orderIdentifier: 'or_1', cancelationMethod: 'EndOfPeriod', currentStep: 0 });
    expect(sent[2]!.body).toEqual({
      orderIdentifier: 'or_1',
      cancelationMethod: 'EndOfPeriod',
      currentStep: 1,
      survey: JSON.stringify({ reason: 'too dear' }),
    });
    // Already as asked: answered from the state, nothing sent that Azotte would refuse.
    sent.length = 0;
    expect(await ops.cancelSubscription(ctx, handle, { atPeriodEnd: true, reason: 'again' })).toMatchObject({
      kind: 'applied',
    });
    expect(sent.map((s) => s.path)).toEqual(['/subscription/cu.00.1']);
  });

  it('cancel immediately ends it; an unknown subscription is NOT_FOUND; NOT_CANCELABLE is FAILED_PRECONDITION', async () => {
    let current: Record<string, unknown> = SUBSCRIPTION;
    const { ops, sent } = withSubscriptions(() => [current], {
      '/subscription/cancel/request': () => [200, ok({ responseType: 'Processed' })],
      '/subscription/cancel/confirm': () => {
        current = {
          ...SUBSCRIPTION,
          state: 'Canceled',
          cancelationMethod: 'Immediate',
          endDate: NOW.toISOString(),
          canceledAt: NOW.toISOString(),
        };
        return [200, ok({})];
      },
    });
    const ended = await ops.cancelSubscription(ctx, handle, { atPeriodEnd: false, reason: '' });
    expect(ended).toMatchObject({ kind: 'applied', state: { status: 'CANCELED', endedAt: NOW } });
    expect(sent[1]!.body).toMatchObject({ cancelationMethod: 'Immediate' });
    const unknown = (await ops
      .cancelSubscription(ctx, { ...handle, providerRef: 'or_9' }, { atPeriodEnd: false, reason: '' })
      .catch((e: unknown) => e)) as DomainError;
    expect(unknown.code).toBe('NOT_FOUND');
    const refusing = withSubscriptions(() => [SUBSCRIPTION], {
      '/subscription/cancel/request': () => [409, { status: { messageCode: 'SUBSCRIPTION_NOT_CANCELABLE' } }],
    });
    const refused = (await refusing.ops
      .cancelSubscription(ctx, handle, { atPeriodEnd: false, reason: '' })
      .catch((e: unknown) => e)) as DomainError;
    expect(refused.code).toBe('FAILED_PRECONDITION');
  });

  it('revoke reactivates a scheduled cancel and reads the state back; nothing to revoke sends nothing', async () => {
    let current: Record<string, unknown> = {
      ...SUBSCRIPTION,
      state: 'Canceled',
      cancelationMethod: 'EndOfPeriod',
      endDate: '2026-02-01T00:00:00Z',
    };
    const { ops, sent } = withSubscriptions(() => [current], {
      '/subscription/reactivate': () => {
        current = { ...SUBSCRIPTION, state: 'Reactivated' };
        return [200, ok({})];
      },
    });
    expect(await ops.revokeCancellation(ctx, handle)).toMatchObject({
      kind: 'applied',
      state: { status: 'ACTIVE', cancelAtPeriodEnd: false },
    });
    expect(sent.map((s) => [s.path, s.body])).toEqual([
      ['/subscription/cu.00.1', {}],
      ['/subscription/reactivate', { orderIdentifier: 'or_1' }],
      ['/subscription/cu.00.1', {}],
    ]);
    sent.length = 0;
    expect(await ops.revokeCancellation(ctx, handle)).toMatchObject({ kind: 'applied' });
    expect(sent.map((s) => s.path)).toEqual(['/subscription/cu.00.1']);
  });
});

describe('Azotte changePlan', () => {
  const PRO = { ...request.plan!, id: 'plan_2', ref: 'bn.00.2', price: { currency: 'EUR', amountMinor: 1999n } };
  const proOffer = ok({
    offer: {
      offerIdentifier: 'of_2',
      artifactGroups: [
        {
          itemIdentifier: 'it_2',
          bundleUrn: 'bn.00.2',
          price: { amountMilpieces: 1999, currency: 'EUR' },
          billingPeriod: { unit: 'Month', count: 1 },
          trialDays: 0,
        },
      ],
    },
  });

  it('offers a Replace of the current subscription and checks out with <id>.replace.<hash>: accepted', async () => {
    let list: unknown[] = [SUBSCRIPTION];
    const { ops, sent } = withSubscriptions(() => list, {
      '/offer/bundles': () => [200, proOffer],
      '/offer/checkout': () => [202, ok({ trackingNumber: 'trk_9', correlationId: 'x' }, 'CHECK_OUT_PROCESSING')],
    });
    const outcome = await ops.changePlan(ctx, handle, { plan: PRO, quantity: 1 });
    expect(outcome.kind).toBe('accepted');
    expect(outcome.kind === 'accepted' && outcome.note).toContain('trk_9');
    expect(sent[1]!.body).toMatchObject({
      context: { customerUrn: 'cu.00.1', storefrontUrn: 'st.00.001', originalSubscriptionIdentifier: 'or_1' },
    });
    const order = (sent[2]!.body as { order: { correlationId: string; items: unknown } }).order;
    expect(order.correlationId).toMatch(/^sub_A\.replace\.[0-9a-f]{16}$/);
    expect(order.items).toEqual([{ itemIdentifier: 'it_2', quantity: 1 }]);
    expect(sent[2]!.body).toMatchObject({ paymentMethod: { paymentMethodUrn: 'pm.test.visa' } });

    // A retry after the Replace completed: the newest subscription is this very change, nothing is sent again.
    list = [
      { ...SUBSCRIPTION, state: 'Canceled', endDate: '2026-01-10T00:00:00Z', replacedByOrderIdentifier: 'or_2' },
      { ...SUBSCRIPTION, orderIdentifier: 'or_2', correlationId: order.correlationId, bundleUrn: 'bn.00.2' },
    ];
    sent.length = 0;
    expect((await ops.changePlan(ctx, handle, { plan: PRO, quantity: 1 })).kind).toBe('accepted');
    expect(sent.map((s) => s.path)).toEqual(['/subscription/cu.00.1']);
  });

  it('refuses quantity ≠ 1 and a plan without a bundleUrn before any call; NO_OFFER_FOUND is FAILED_PRECONDITION', async () => {
    const { ops, sent } = withSubscriptions(() => [SUBSCRIPTION], {
      '/offer/bundles': () => [404, { status: { messageCode: 'NO_OFFER_FOUND' } }],
    });
    for (const change of [
      { plan: PRO, quantity: 2 },
      { plan: { ...PRO, ref: undefined }, quantity: 1 },
    ]) {
      const error = (await ops.changePlan(ctx, handle, change).catch((e: unknown) => e)) as DomainError;
      expect(error.code).toBe('FAILED_PRECONDITION');
    }
    expect(sent).toHaveLength(0);
    const none = (await ops
      .changePlan(ctx, handle, { plan: PRO, quantity: 1 })
      .catch((e: unknown) => e)) as DomainError;
    expect(none.code).toBe('FAILED_PRECONDITION');
  });
});
