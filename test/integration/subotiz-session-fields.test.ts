import { status } from '@grpc/grpc-js';
import { CheckoutMode, CheckoutUiMode } from '../../src/gen/billing/v1/subscription';
import { storefrontRequest } from '../support/fixtures';
import {
  FAST_WEBHOOKS,
  SUBOTIZ_CANCEL_URL,
  SUBOTIZ_RETURN_URL,
  subotizSecretRefs,
  subotizWorld,
  SubotizWorld,
} from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, callError, startTestService, TestService } from '../support/test-service';

/** The Checkout Session fields Subotiz's document marks required, from the request or the binding's defaults. */
describe('Subotiz Checkout Session required fields', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    world = await subotizWorld(service, { storefrontId: 'fields-store' });
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  const storefronts = () => service.clients.storefronts;
  const sessionsAtSubotiz = async () => (await world.control<{ sessions: number }>('/state')).sessions;
  /** The session as Subotiz stored it (GET /api/v1/session/{id}). */
  const sessionAtSubotiz = async (ref: string) => {
    const response = await fetch(`${world.emulator.url}/api/v1/session/${ref}`, {
      headers: { authorization: `Bearer ${process.env.TEST_SUBOTIZ_API_KEY}`, 'request-id': crypto.randomUUID() },
    });
    return ((await response.json()) as { data: Record<string, unknown> }).data;
  };

  it('refuses a binding without sub_merchant_id or access_no, naming both', async () => {
    const refs = subotizSecretRefs();
    const error = await callError(storefronts(), storefronts().createStorefront, {
      ...storefrontRequest('no-merchant'),
      providerConfig: { base_url: world.emulator.url },
      secretRefs: { api_key: refs.api_key, webhook_secret: refs.webhook_secret },
    });
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain('provider_config.sub_merchant_id');
    expect(error.details).toContain('secret_refs.access_no');
  });

  it('refuses default return/cancel URLs that are not absolute http(s) URLs, but accepts any host', async () => {
    const refs = subotizSecretRefs();
    const request = (config: Record<string, string>) =>
      storefrontRequest(`urls-${Object.values(config).join('').length}`, {
        providerConfig: { base_url: world.emulator.url, sub_merchant_id: 'm-1', ...config },
        secretRefs: refs,
      });
    const bad = await callError(
      storefronts(),
      storefronts().createStorefront,
      request({ return_url: 'shop/thanks', cancel_url: 'ftp://shop.example/cart' }),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toContain('provider_config.return_url');
    expect(bad.details).toContain('provider_config.cancel_url');
    // Our own pages live anywhere: not one of Subotiz's API hosts.
    await call(
      storefronts(),
      storefronts().createStorefront,
      request({ return_url: 'https://anywhere.example/ok', cancel_url: 'https://anywhere.example/back' }),
    );
  });

  it('sends access_no, sub_merchant_id, integration_method and the request URLs', async () => {
    const { checkoutSession } = await call(subs(), subs().createCheckoutSession, {
      ...world.checkoutRequest(),
      successUrl: 'https://buyer.example/done',
      cancelUrl: 'https://buyer.example/back',
    });
    const session = await sessionAtSubotiz(checkoutSession!.providerRef);
    expect(session).toMatchObject({
      access_no: 'acc_test',
      sub_merchant_id: 'm-1',
      integration_method: 'hosted',
      return_url: 'https://buyer.example/done',
      cancel_url: 'https://buyer.example/back',
    });
  });

  it("uses the binding's return_url and cancel_url when the request names none", async () => {
    const { checkoutSession } = await call(subs(), subs().createCheckoutSession, world.checkoutRequest());
    const session = await sessionAtSubotiz(checkoutSession!.providerRef);
    expect(session).toMatchObject({ return_url: SUBOTIZ_RETURN_URL, cancel_url: SUBOTIZ_CANCEL_URL });
  });

  it('opens an embedded checkout (Flow 2): the SDK session URL as next action; the capability is listed', async () => {
    const { storefront } = await call(storefronts(), storefronts().getStorefront, { storefrontId: world.storefrontId });
    expect(storefront!.capabilities.map((c) => c.operation)).toContain('CreateCheckoutSession.embedded');

    const { checkoutSession } = await call(subs(), subs().createCheckoutSession, {
      ...world.checkoutRequest(),
      uiMode: CheckoutUiMode.CHECKOUT_UI_MODE_EMBEDDED,
    });
    const session = await sessionAtSubotiz(checkoutSession!.providerRef);
    expect(session).toMatchObject({ integration_method: 'embedded', redirect_on_completion: 'if_required' });
    expect(checkoutSession!.nextAction!.redirectUrl).toBe(session.session_url);
  });

  it('opens a payment-only checkout (Flow 3): mode payment with an amount and no line items', async () => {
    const { checkoutSession } = await call(subs(), subs().createCheckoutSession, {
      ...world.checkoutRequest(),
      mode: CheckoutMode.CHECKOUT_MODE_PAYMENT,
      planId: '',
      amount: { currencyCode: 'EUR', amountMinor: 1250n, amountDecimal: '' },
      description: 'one-off',
    });
    const session = await sessionAtSubotiz(checkoutSession!.providerRef);
    expect(session).toMatchObject({ mode: 'payment', total_amount: '12.50', currency: 'EUR', price_id: null });
  });

  it('refuses a checkout with neither request URLs nor binding defaults before calling Subotiz', async () => {
    // The same storefront without its defaults.
    // The same storefront without its defaults (this test runs last).
    await call(storefronts(), storefronts().updateStorefront, {
      storefrontId: world.storefrontId,
      providerConfig: { base_url: world.emulator.url, auth_mode: 'bearer', sub_merchant_id: 'm-1' },
      replaceProviderConfig: true,
      secretRefs: {},
      replaceSecretRefs: false,
      expectedVersion: 0n,
    });
    const before = await sessionsAtSubotiz();
    const error = await callError(subs(), subs().createCheckoutSession, world.checkoutRequest());
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain('success_url');
    expect(error.details).toContain('cancel_url');
    expect(await sessionsAtSubotiz()).toBe(before);
  });
});
