import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, eventTypesOf, gauge, startTestService, TestService } from '../support/test-service';

const FIXTURES = path.resolve(__dirname, '../fixtures/subotiz');

/** Webhook ingress on real HTTP: what is refused and stores nothing, what is stored once, and what never regresses. */
describe('Subotiz webhooks into POST /webhooks/subotiz/{storefrontId}', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    // No Kafka: events stay in the outbox, which ListEvents reads.
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    world = await subotizWorld(service, { storefrontId: 'hooks-store' });
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const url = (storefront = 'hooks-store') => `http://127.0.0.1:${service.httpPort}/webhooks/subotiz/${storefront}`;
  const sign = (body: string, ts: number, secret = process.env.TEST_SUBOTIZ_WEBHOOK_SECRET!) =>
    createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
  const post = (body: string, headers: Record<string, string>, storefront?: string) =>
    fetch(url(storefront), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const signed = (body: string, ts = Date.now()) =>
    post(body, { 'x-timestamp': String(ts), 'x-signature': sign(body, ts) });
  const inboxCount = () =>
    withClient(db.url, async (c) => Number((await c.query('select count(*) from webhook_inbox')).rows[0].count));
  const events = (aggregateId: string) => eventTypesOf(service, aggregateId);
  const deadLetters = async () =>
    (
      await call(service.clients.events, service.clients.events.listDeadLetters, {
        storefrontId: 'hooks-store',
        provider: '',
        pageSize: 10,
        pageToken: '',
      })
    ).deadLetters;

  it('verifies the seed document’s literal examples with the documented signature scheme and stores each once', async () => {
    for (const file of fs.readdirSync(FIXTURES)) {
      const body = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
      const response = await signed(body);
      expect({ file, status: response.status }).toEqual({ file, status: 200 });
      expect(await response.json()).toEqual({ received: true, duplicate: false });
    }
  });

  it('refuses a tampered body, a stale timestamp, a wrong secret and a missing signature with 401, storing nothing', async () => {
    const body = fs
      .readFileSync(path.join(FIXTURES, 'v2.trades.succeeded.json'), 'utf8')
      .replace('572677246926464036', '900000000000000001');
    const before = await inboxCount();
    const ts = Date.now();
    const tampered = await post(body.replace('"30.00"', '"0.01"'), {
      'x-timestamp': String(ts),
      'x-signature': sign(body, ts),
    });
    const staleTs = Date.now() - 301_000;
    const stale = await post(body, { 'x-timestamp': String(staleTs), 'x-signature': sign(body, staleTs) });
    const wrongSecret = await post(body, {
      'x-timestamp': String(ts),
      'x-signature': sign(body, ts, 'not-the-secret'),
    });
    const unsigned = await post(body, {});
    expect([tampered.status, stale.status, wrongSecret.status, unsigned.status]).toEqual([401, 401, 401, 401]);
    expect(JSON.stringify(await tampered.json())).not.toContain(process.env.TEST_SUBOTIZ_WEBHOOK_SECRET!);
    expect(await inboxCount()).toBe(before);
  });

  it('answers 404 for an unknown storefront and 413 above 1 MiB, before looking at signatures', async () => {
    const body = '{"id":"1","type":"v2.trades.created","created":"2025-10-28T06:54:55Z","data":{}}';
    expect((await post(body, { 'x-timestamp': '1', 'x-signature': 'x' }, 'no-such-store')).status).toBe(404);
    const huge = JSON.stringify({
      id: '2',
      type: 'v2.trades.created',
      created: '2025-10-28T06:54:55Z',
      data: { pad: 'x'.repeat(1024 * 1024) },
    });
    expect((await post(huge, { 'x-timestamp': '1', 'x-signature': 'x' })).status).toBe(413);
  });

  it('applies a webhook delivered twice once: one state change, one event', async () => {
    const { id } = await world.activeSubscription();
    const hooks = await world.control<Array<{ event_id: string; type: string }>>('/webhooks');
    const first = hooks.filter((h) => h.type === 'v2.subscription.first').at(-1)!;
    await world.control(`/webhooks/${first.event_id}/redeliver`, {});
    await world.emulator.idle();
    const delivered = await world.control<{ attempt_log: Array<{ status: number }> }>(`/webhooks/${first.event_id}`);
    expect(delivered.attempt_log.map((a) => a.status)).toEqual([200, 200]);
    const activated = (await events(id)).filter((type) => type === 'billing.subscription.activated');
    expect(activated).toHaveLength(1);
    // One inbox row however often it comes: the dedupe is the inbox's, not the state machine's.
    const { payload } = await world.control<{ payload: unknown }>(`/webhooks/${first.event_id}`);
    const again = await signed(JSON.stringify(payload));
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    const rows = await withClient(db.url, async (c) =>
      Number(
        (await c.query('select count(*) from webhook_inbox where provider_event_id = $1', [first.event_id])).rows[0]
          .count,
      ),
    );
    expect(rows).toBe(1);
  });

  it('follows a plan changed at Subotiz: new plan, plan_changed, entitlements of the new plan', async () => {
    const { id, ref } = await world.activeSubscription();
    const { plan: basic } = await call(service.clients.catalog, service.clients.catalog.createPlan, {
      storefrontId: 'hooks-store',
      name: 'Basic monthly',
      price: { currencyCode: 'EUR', amountMinor: 999n, amountDecimal: '' },
      interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
      trialDays: 0,
      featureKeys: ['basic'],
      providerRefs: { subotiz: 'price_basic_hooks' },
    });
    const now = new Date().toISOString();
    const body = JSON.stringify({
      id: '990000000000000003',
      type: 'v2.subscription.price_changed',
      created: now,
      data: { id: ref, status: 'active', order_id: id, price_id: 'price_basic_hooks', updated_at: now },
    });
    expect((await signed(body)).status).toBe(200);
    const moved = await eventually(
      () => world.subscription(id),
      (s) => s.planId === basic!.id,
    );
    expect(moved.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    expect((await events(id)).filter((t) => t === 'billing.subscription.plan_changed')).toHaveLength(1);
    const { entitlements } = await call(world.entitlements, world.entitlements.listEntitlements, {
      customerId: world.customerId,
      includeInactive: false,
    });
    const ofThis = entitlements.filter((e) => e.subscriptionId === id).map((e) => e.featureKey);
    expect(ofThis).toEqual(['basic']);
  });

  it('never regresses on webhooks out of order: reversed checkout events still end ACTIVE once; a late past_due after canceled is recorded, not applied', async () => {
    await world.control('/webhooks/faults', { mode: 'reorder', count: 4 });
    const { id, ref } = await world.activeSubscription();
    expect((await events(id)).filter((type) => type === 'billing.subscription.activated')).toHaveLength(1);

    await call(service.clients.subscriptions, service.clients.subscriptions.cancelSubscription, {
      subscriptionId: id,
      atPeriodEnd: false,
      reason: '',
    });
    const lateBody = JSON.stringify({
      id: '990000000000000001',
      type: 'v2.subscription.past_due',
      created: '2020-01-01T00:00:00Z',
      data: { id: ref, status: 'past_due', order_id: id, updated_at: '2020-01-01T00:00:00Z', cancel_at: null },
    });
    expect((await signed(lateBody)).status).toBe(200);
    await eventually(
      () =>
        withClient(
          db.url,
          async (c) =>
            (await c.query("select status from webhook_inbox where provider_event_id = '990000000000000001'")).rows[0]
              ?.status,
        ),
      (status) => status === 'PROCESSED',
    );
    const sub = await world.subscription(id);
    expect(sub.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);
    expect(await events(id)).not.toContain('billing.subscription.past_due');
  });

  it('dead-letters a webhook that keeps failing, lists it, and reprocesses it from scratch on RetryDeadLetter', async () => {
    // A subscription event without the time it happened fails every attempt (an unknown object would be ignored):
    // unreadable, it is a dead letter after its first attempt instead of after WEBHOOK_MAX_ATTEMPTS.
    const orderId = 'sub_01jzzzzzzzzzzzzzzzzzzzzzzz';
    const body = JSON.stringify({
      id: '990000000000000002',
      type: 'v2.subscription.paused',
      data: { id: '123456789', status: 'paused', order_id: orderId, updated_at: new Date().toISOString() },
    });
    expect((await signed(body)).status).toBe(200);
    const letters = await eventually(deadLetters, (list) =>
      list.some((d) => d.providerEventId === '990000000000000002'),
    );
    const letter = letters.find((d) => d.providerEventId === '990000000000000002')!;
    expect(letter.attempts).toBe(1);
    expect(letter.eventType).toBe('v2.subscription.paused');
    expect(letter.error).toContain('event.created');
    // On-call sees it without calling the API: the gauge counts the letters not yet retried.
    expect(await gauge(service, 'billing_webhook_dead_letters')).toBe((await deadLetters()).length);

    const retried = await call(service.clients.events, service.clients.events.retryDeadLetter, {
      deadLetterId: letter.id,
    });
    expect(retried.deadLetter!.id).toBe(letter.id);
    // Requeued: off the list until it fails its attempts again.
    expect((await deadLetters()).map((d) => d.id)).not.toContain(letter.id);
    // Processed again from scratch (its attempts counted anew, not 2): it fails again and comes back as a new letter.
    const again = await eventually(deadLetters, (list) => list.some((d) => d.providerEventId === '990000000000000002'));
    const second = again.find((d) => d.providerEventId === '990000000000000002')!;
    expect(second.id).not.toBe(letter.id);
    expect(second.attempts).toBe(1);
  });

  it('passes a trial reminder on as billing.subscription.trial_will_end, leaving the subscription TRIALING', async () => {
    const trial = await subotizWorld(service, { storefrontId: 'trial-store', trialDays: 7 });
    try {
      const { id } = await trial.activeSubscription(SubscriptionStatus.SUBSCRIPTION_STATUS_TRIALING);
      // Subotiz reminds three days before a seven-day trial ends.
      await trial.control('/clock/advance', { seconds: 4 * 86_400 + 60 });
      const types = await eventually(
        () => events(id),
        (list) => list.includes('billing.subscription.trial_will_end'),
      );
      expect(types.filter((t) => t === 'billing.subscription.trial_will_end')).toHaveLength(1);
      const sub = await world.subscription(id);
      expect(sub.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_TRIALING);
    } finally {
      await trial.close();
    }
  });
});
