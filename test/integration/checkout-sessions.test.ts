import { status } from '@grpc/grpc-js';
import {
  CheckoutMode,
  CheckoutSessionStatus,
  CheckoutUiMode,
  CreateCheckoutSessionRequest,
  SubscriptionStatus,
} from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { bearer, call, callError, startTestService, TEST_KEYS, TestService } from '../support/test-service';

/** The emulator keeps a hosted session open this long (its documented 30 minutes). */
const SESSION_VALIDITY_SECONDS = 30 * 60;

/** Checkout sessions as callers follow them: our cs_ id, status, next action, and GetCheckoutSession on Subotiz. */
describe('checkout sessions on Subotiz', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    world = await subotizWorld(service, { storefrontId: 'cs-store' });
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  const open = (overrides: Partial<CreateCheckoutSessionRequest> = {}, metadata: Record<string, string> = {}) =>
    call(subs(), subs().createCheckoutSession, { ...world.checkoutRequest(), ...overrides }, metadata);
  const follow = (checkoutSessionId: string, metadata: Record<string, string> = {}) =>
    call(subs(), subs().getCheckoutSession, { checkoutSessionId }, metadata);
  const rowCount = (table: string) =>
    withClient(db.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number);
  const capabilities = async () => {
    const { storefront } = await call(service.clients.storefronts, service.clients.storefronts.getStorefront, {
      storefrontId: world.storefrontId,
    });
    return storefront!.capabilities.map((c) => c.operation);
  };

  it('answers our cs_ id, OPEN and the hosted page as next_action; the provider session id is provider_ref', async () => {
    const { checkoutSession: session, subscription } = await open();
    expect(session!.id).toMatch(/^cs_[0-9a-z]+$/);
    expect(session!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_OPEN);
    expect(session!.nextAction!.redirectUrl).toContain(world.emulator.url);
    expect(session!.url).toBe(session!.nextAction!.redirectUrl);
    expect(session!.provider).toBe('subotiz');
    expect(session!.providerRef).not.toBe('');
    expect(session!.providerRef).not.toBe(session!.id);
    expect(session!.subscriptionId).toBe(subscription!.id);
    expect(session!.expireTime!.getTime()).toBeGreaterThan(Date.now());

    const followed = await follow(session!.id);
    expect(followed.checkoutSession).toEqual(session);
    expect(followed.subscription!.id).toBe(subscription!.id);
  });

  it('answers the same session to a retry of the same idempotency key', async () => {
    const key = { 'idempotency-key': 'cs-retry-1' };
    const first = await open({}, key);
    const again = await open({}, key);
    expect(again.checkoutSession!.id).toBe(first.checkoutSession!.id);
    expect(again.checkoutSession!.providerRef).toBe(first.checkoutSession!.providerRef);
  });

  it('follows a session to COMPLETE once the customer paid on the emulator', async () => {
    const { checkoutSession: session, subscription } = await open();
    await world.control(`/sessions/${session!.providerRef}/complete`, {});
    const complete = await eventually(
      () => follow(session!.id),
      (r) => r.checkoutSession!.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE,
    );
    expect(complete.checkoutSession!.nextAction).toBeUndefined();
    expect(complete.checkoutSession!.url).toBe('');
    // The webhook activates the subscription; the session stays COMPLETE.
    await eventually(
      () => world.subscription(subscription!.id),
      (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
    );
    const later = await follow(session!.id);
    expect(later.checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE);
    expect(later.subscription!.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
  });

  it('follows a one-time payment checkout the same way', async () => {
    const { checkoutSession: session, payment } = await open({
      mode: CheckoutMode.CHECKOUT_MODE_PAYMENT,
      planId: '',
      amount: { currencyCode: 'EUR', amountMinor: 500n, amountDecimal: '' },
    });
    expect(session!.paymentId).toBe(payment!.id);
    expect(session!.subscriptionId).toBe('');
    expect(session!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_OPEN);
    await world.control(`/sessions/${session!.providerRef}/complete`, {});
    const complete = await eventually(
      () => follow(session!.id),
      (r) => r.checkoutSession!.status === CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_COMPLETE,
    );
    expect(complete.payment!.id).toBe(payment!.id);
  });

  it("answers another tenant's session exactly as a missing one: NOT_FOUND", async () => {
    const { checkoutSession: session } = await open();
    const foreign = await callError(
      subs(),
      subs().getCheckoutSession,
      { checkoutSessionId: session!.id },
      bearer(TEST_KEYS.tenantBService),
    );
    const missingId = `${session!.id.slice(0, -1)}${session!.id.endsWith('0') ? '1' : '0'}`;
    const missing = await callError(
      subs(),
      subs().getCheckoutSession,
      { checkoutSessionId: missingId },
      bearer(TEST_KEYS.tenantBService),
    );
    expect(foreign.code).toBe(status.NOT_FOUND);
    expect(foreign.details.split(session!.id).join(missingId)).toBe(missing.details);
    // Its own tenant's service key reads it.
    const own = await follow(session!.id, bearer(TEST_KEYS.tenantAService));
    expect(own.checkoutSession!.id).toBe(session!.id);
  });

  it('refuses a checkout_session_id that is not one of our ids, and a promotion code with spaces', async () => {
    const badId = await callError(subs(), subs().getCheckoutSession, { checkoutSessionId: 'sess_123' });
    expect(badId.code).toBe(status.INVALID_ARGUMENT);
    expect(badId.metadata.get('error-field')).toEqual(['checkout_session_id']);
    const badCode = await callError(subs(), subs().createCheckoutSession, {
      ...world.checkoutRequest(),
      promotionCode: 'SUMMER 25',
    });
    expect(badCode.code).toBe(status.INVALID_ARGUMENT);
    expect(badCode.metadata.get('error-field')).toEqual(['promotion_code']);
  });

  // Checkouts read their storefront outside any transaction, from the cache the ingress uses (dropped when any replica
  // changes the storefront: provider-swap.test.ts sells on the new provider right after a switch).
  it('opens and follows a checkout without reading its storefront from the database', async () => {
    await open();
    let storefrontReads = 0;
    const seen = (query: { sql: string }) => (storefrontReads += /from "storefronts"/i.test(query.sql) ? 1 : 0);
    service.database.knex.on('query', seen);
    try {
      const { checkoutSession: session } = await open();
      await follow(session!.id);
    } finally {
      service.database.knex.removeListener('query', seen);
    }
    expect(storefrontReads).toBe(0);
  });

  it('does an embedded checkout exactly when the storefront lists CreateCheckoutSession.embedded', async () => {
    const listed = (await capabilities()).includes('CreateCheckoutSession.embedded');
    const before = await rowCount('subscriptions');
    if (listed) {
      const { checkoutSession: session } = await open({ uiMode: CheckoutUiMode.CHECKOUT_UI_MODE_EMBEDDED });
      expect(session!.id).toMatch(/^cs_/);
      expect(session!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_OPEN);
      expect(session!.nextAction).toBeDefined();
    } else {
      const error = await callError(subs(), subs().createCheckoutSession, {
        ...world.checkoutRequest(),
        uiMode: CheckoutUiMode.CHECKOUT_UI_MODE_EMBEDDED,
      });
      expect(error.code).toBe(status.UNIMPLEMENTED);
      expect(error.details).toContain('CreateCheckoutSession.embedded');
      expect(error.details).toContain("'subotiz'");
      expect(error.details).toContain(world.storefrontId);
      expect(await rowCount('subscriptions')).toBe(before);
    }
  });

  it('takes a promotion code exactly when the storefront lists CreateCheckoutSession.promotion_code', async () => {
    const listed = (await capabilities()).includes('CreateCheckoutSession.promotion_code');
    const before = await rowCount('checkout_sessions');
    if (listed) {
      const { checkoutSession: session } = await open({ promotionCode: 'SUMMER-25' });
      expect(session!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_OPEN);
    } else {
      const error = await callError(subs(), subs().createCheckoutSession, {
        ...world.checkoutRequest(),
        promotionCode: 'SUMMER-25',
      });
      expect(error.code).toBe(status.UNIMPLEMENTED);
      expect(error.details).toContain('CreateCheckoutSession.promotion_code');
      expect(await rowCount('checkout_sessions')).toBe(before);
    }
  });

  // Last: it moves the emulator's clock.
  it('follows an abandoned session to EXPIRED once the provider closed it', async () => {
    const { checkoutSession: session } = await open();
    await world.control('/clock/advance', { seconds: SESSION_VALIDITY_SECONDS + 60 });
    const expired = await follow(session!.id);
    expect(expired.checkoutSession!.status).toBe(CheckoutSessionStatus.CHECKOUT_SESSION_STATUS_EXPIRED);
    expect(expired.checkoutSession!.nextAction).toBeUndefined();
    // Final: stored, and not asked about again.
    const stored = await withClient(db.url, (c) =>
      c.query('SELECT status, next_action FROM checkout_sessions WHERE id = $1', [session!.id]),
    );
    expect(stored.rows[0]).toEqual({ status: 'EXPIRED', next_action: null });
  });
});
