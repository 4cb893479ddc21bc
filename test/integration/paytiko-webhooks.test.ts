import { randomUUID } from 'node:crypto';
import type { PaytikoEmulator } from '../../adapters/paytiko/emulator';
import { webhookSignature } from '../../adapters/paytiko/emulator';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { paytikoStore, PaytikoStore } from '../support/paytiko-store';
import { paytikoControl, paytikoMerchant, startPaytiko } from '../support/paytiko-world';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, webhooksSettled, withClient } from '../support/test-database';
import { call, eventTypesOf, startTestService, TestService } from '../support/test-service';

const ACTIVE = SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;

/**
 * Attacks on POST /webhooks/paytiko/{storefrontId}, over real HTTP. Paytiko signs only the OrderId, so a valid
 * signature proves only which order changed: every accepted webhook is a notification, and what is applied is what
 * the emulator answers when the core fetches the membership.
 */
describe('Paytiko webhooks under attack', () => {
  let db: TestDatabase;
  let emulator: PaytikoEmulator;
  let service: TestService;
  const merchantA = paytikoMerchant();
  const merchantB = paytikoMerchant();
  let storeA: PaytikoStore;
  let storeB: PaytikoStore;
  let guarded: PaytikoStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    emulator = await startPaytiko([merchantA, merchantB]);
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    storeA = await paytikoStore(service, emulator, merchantA, { storefrontId: 'paytiko-a' });
    storeB = await paytikoStore(service, emulator, merchantB, { storefrontId: 'paytiko-b' });
    // Paytiko's senders are documented by IP; this storefront accepts only a range the test never sends from.
    guarded = await paytikoStore(service, emulator, merchantA, {
      storefrontId: 'paytiko-guarded',
      providerConfig: { allowed_webhook_ips: '203.0.113.0/24' },
    });
  });

  afterAll(async () => {
    for (const store of [storeA, storeB, guarded]) store?.close();
    await service?.close();
    await emulator?.stop();
    await db?.drop();
  });

  const post = (storefrontId: string, body: Record<string, unknown>, signature?: string) =>
    fetch(`http://127.0.0.1:${service.httpPort}/webhooks/paytiko/${storefrontId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { signature }) },
      body: JSON.stringify(body),
    });
  /** A webhook body as Paytiko sends it (its body's own Signature left out unless given). */
  const webhook = (orderId: string, fields: Record<string, unknown> = {}): Record<string, unknown> => ({
    Action: 'SUBSCRIPTION_STATUS_CHANGED',
    ActionId: randomUUID(),
    OrderId: orderId,
    IssuedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...fields,
  });
  const inbox = () =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query('select provider_event_id, status from webhook_inbox order by id');
      return rows as { provider_event_id: string; status: string }[];
    });
  const processed = (actionId: string) =>
    eventually(inbox, (rows) => rows.some((r) => r.provider_event_id === actionId && r.status === 'PROCESSED'));

  it('a bad or missing signature → 401 naming no secret, nothing stored or applied', async () => {
    const subscription = await storeA.activeSubscription();
    // The checkout's other webhooks may still be on their way, or processing, once the subscription reads ACTIVE.
    await emulator.idle();
    await webhooksSettled(db.url);
    const before = await inbox();
    const types = await eventTypesOf(service, subscription.id);
    const canceled = webhook(subscription.id, { Membership: { Key: subscription.providerRef, Status: 'Canceled' } });

    const wrong = await post('paytiko-a', canceled, webhookSignature('not-the-secret', subscription.id));
    // Right secret, but over another order id than the body's.
    const otherOrder = await post('paytiko-a', canceled, webhookSignature(merchantA.secretKey, 'sub_other'));
    const missing = await post('paytiko-a', canceled);
    expect([wrong.status, otherOrder.status, missing.status]).toEqual([401, 401, 401]);
    expect(await wrong.text()).not.toContain(merchantA.secretKey);

    expect(await inbox()).toEqual(before);
    expect(await storeA.subscription(subscription.id)).toMatchObject({ status: ACTIVE });
    expect(await eventTypesOf(service, subscription.id)).toEqual(types);
  });

  it('a storefront whose allowed_webhook_ips leave out the sender → 403 before the signature is looked at', async () => {
    const before = await inbox();
    // Paytiko's own webhooks about a paid checkout of this storefront are refused too.
    const subs = service.clients.subscriptions;
    const checkout = await call(subs, subs.createCheckoutSession, guarded.checkoutRequest());
    await paytikoControl(emulator, `/checkout/${checkout.checkoutSession!.url.split('/').pop()}/pay`, {});
    await emulator.idle();
    const sent = await paytikoControl<{ membership: string; last_status: number | null }[]>(emulator, '/webhooks');
    const ofCheckout = sent.filter((h) => h.membership === checkout.checkoutSession!.providerRef);
    expect(ofCheckout.map((h) => h.last_status)).toEqual([403, 403]);
    const orderId = 'sub_guarded';
    const signed = await post('paytiko-guarded', webhook(orderId), webhookSignature(merchantA.secretKey, orderId));
    const unsigned = await post('paytiko-guarded', webhook(orderId), 'f'.repeat(64));
    expect([signed.status, unsigned.status]).toEqual([403, 403]);
    expect(await inbox()).toEqual(before);
  });

  it('a replayed ActionId is stored once and applied once, however it comes back', async () => {
    const subscription = await storeA.activeSubscription();
    const types = await eventTypesOf(service, subscription.id);
    const hooks = await paytikoControl<{ event_id: string; type: string; membership: string }[]>(emulator, '/webhooks');
    const activated = hooks.find(
      (h) => h.membership === subscription.providerRef && h.type === 'SUBSCRIPTION_STATUS_CHANGED',
    )!;
    const { payload } = await paytikoControl<{ payload: Record<string, unknown> }>(
      emulator,
      `/webhooks/${activated.event_id}`,
    );

    // Paytiko's own retry of it, and an attacker's replay of the captured bytes (the signature is still valid).
    await paytikoControl(emulator, `/webhooks/${activated.event_id}/redeliver`, {});
    await emulator.idle();
    const replay = await post('paytiko-a', payload, String(payload.Signature));
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ received: true, duplicate: true });

    const { attempt_log } = await paytikoControl<{ attempt_log: { status: number }[] }>(
      emulator,
      `/webhooks/${activated.event_id}`,
    );
    expect(attempt_log.map((a) => a.status)).toEqual([200, 200]);
    const rows = (await inbox()).filter((r) => r.provider_event_id === activated.event_id);
    expect(rows).toHaveLength(1);
    expect(await eventTypesOf(service, subscription.id)).toEqual(types);
    expect(types.filter((t) => t === 'billing.subscription.activated')).toHaveLength(1);
  });

  it('a body altered under a valid signature (status, membership key, invoices) changes nothing the emulator does not say', async () => {
    const subscription = await storeA.activeSubscription();
    const other = await storeA.activeSubscription();
    const invoices = await storeA.invoicesOf(subscription.id);
    const payments = await storeA.paymentsOf(subscription.id);
    const types = await eventTypesOf(service, subscription.id);
    const otherTypes = await eventTypesOf(service, other.id);
    const forgedInvoice = {
      Key: 'inv_forgedforgedforgedforged',
      Type: 'Recurring',
      Status: 'Paid',
      Amount: '0.01',
      Currency: 'EUR',
      PeriodStart: '2030-01-01T00:00:00Z',
      PeriodEnd: '2030-02-01T00:00:00Z',
    };
    const signature = webhookSignature(merchantA.secretKey, subscription.id);
    const forged = [
      webhook(subscription.id, {
        Membership: { Key: other.providerRef, Status: 'Canceled', Metadata: '{"plan_id":"plan_forged"}' },
        Invoices: [forgedInvoice],
      }),
      webhook(subscription.id, {
        Action: 'TRANSACTION',
        Membership: { Key: subscription.providerRef, Status: 'PastDue' },
        Invoices: [forgedInvoice],
        TransactionType: 'PayIn',
        TransactionStatus: 'Rejected',
        TransactionId: 99_999_999,
        InitialAmount: '0.01',
        Currency: 'EUR',
        InvoiceKey: forgedInvoice.Key,
      }),
    ];
    for (const body of forged) {
      const response = await post('paytiko-a', { ...body, Signature: signature }, signature);
      expect(response.status).toBe(200);
      await processed(String(body.ActionId));
    }

    // Each was only "this order changed": the fetched membership (Active, its own invoices) is what stands.
    expect(await storeA.subscription(subscription.id)).toMatchObject({ status: ACTIVE, planId: storeA.planId });
    expect((await storeA.invoicesOf(subscription.id)).map((i) => i.id)).toEqual(invoices.map((i) => i.id));
    expect((await storeA.paymentsOf(subscription.id)).map((p) => p.id)).toEqual(payments.map((p) => p.id));
    expect(await eventTypesOf(service, subscription.id)).toEqual(types);
    expect(await storeA.entitled(subscription.customerId)).toBe(true);
    // The membership the body named is not touched either.
    expect(await storeA.subscription(other.id)).toMatchObject({ status: ACTIVE });
    expect(await eventTypesOf(service, other.id)).toEqual(otherTypes);
    expect((await storeA.membership(subscription.providerRef)).status).toBe('Active');
  });

  it('a signed body claiming Active for a membership Paytiko cancelled (its own webhook lost) → CANCELED, as fetched', async () => {
    const subscription = await storeA.activeSubscription();
    await paytikoControl(emulator, '/webhooks/faults', { mode: 'drop', count: 1 });
    expect((await storeA.paytiko('POST', `/membership/cancel/${subscription.providerRef}`)).status).toBe(200);
    expect((await storeA.subscription(subscription.id)).status).toBe(ACTIVE);

    const body = webhook(subscription.id, { Membership: { Key: subscription.providerRef, Status: 'Active' } });
    const response = await post('paytiko-a', body, webhookSignature(merchantA.secretKey, subscription.id));
    expect(response.status).toBe(200);
    const ended = await storeA.waitFor(subscription.id, (s) => s.status !== ACTIVE);
    expect(ended.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);
    expect(await storeA.entitled(subscription.customerId)).toBe(false);
  });

  it("a webhook signed with storefront A's secret is refused by storefront B", async () => {
    const ofA = await storeA.activeSubscription();
    const ofB = await storeB.activeSubscription();
    // Settled first: webhooks of the two checkouts may still be on their way or processing, and this test compares
    // the inbox.
    await emulator.idle();
    const before = await eventually(
      () => inbox(),
      (rows) => rows.every((row) => row.status !== 'PENDING'),
    );
    const typesOfB = await eventTypesOf(service, ofB.id);
    const canceled = { Membership: { Status: 'Canceled' } };

    // A's genuine webhook, sent on to B; and one about B's own order, signed with A's secret.
    const forwarded = await post('paytiko-b', webhook(ofA.id, canceled), webhookSignature(merchantA.secretKey, ofA.id));
    const crossSigned = await post(
      'paytiko-b',
      webhook(ofB.id, canceled),
      webhookSignature(merchantA.secretKey, ofB.id),
    );
    expect([forwarded.status, crossSigned.status]).toEqual([401, 401]);
    expect(await inbox()).toEqual(before);
    expect(await storeB.subscription(ofB.id)).toMatchObject({ status: ACTIVE });
    expect(await eventTypesOf(service, ofB.id)).toEqual(typesOfB);
  });
});
