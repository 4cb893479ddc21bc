import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { IGNORED_FOREIGN } from '../../src/app/inbound/webhook-intake';
import { newId } from '../../src/domain/ids';
import { tenantEnvPrefix } from '../../src/domain/secret-reference';
import { BillingEvent } from '../../src/gen/billing/v1/event';
import { type Subscription, SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { azotteBinding, azotteWorld, type AzotteWorld } from '../support/azotte-world';
import { eventually } from '../support/eventually';
import { brokersFromEnv, KafkaCollector, type ReceivedMessage } from '../support/kafka-collector';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, type TestDatabase, withClient } from '../support/test-database';
import { call, startTestService, type TestService } from '../support/test-service';

/** Wire JSON of the emulator's log, read loosely: the assertions say what each field must be. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const STOREFRONT = 'azotte-hooks';
/** Short, so a gap never filled is applied within the test (README 36: WEBHOOK_ORDER_GAP_MS). */
const GAP_WAIT_MS = 4000;
const HOUR = 3600;

/**
 * Azotte's webhooks (README 34–40) through the real service: the emulator signs and delivers them per customer in
 * order, our ingress verifies them, the inbox applies them in Azotte's order, and what a user notices is asserted:
 * gRPC answers, Kafka events, PostgreSQL rows, emulator-side state.
 */
describe('Azotte webhooks through the real service', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: AzotteWorld;
  let collector: KafkaCollector;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ...FAST_WEBHOOKS,
      WEBHOOK_ORDER_GAP_MS: String(GAP_WAIT_MS),
    });
    // Checkouts decided a second after they are made: a decision (and its webhooks) before CreateCheckoutSession has
    // recorded the subscription gets it adopted twice, a core bug the last test reproduces on purpose.
    world = await azotteWorld(service, { storefrontId: STOREFRONT, processingDelaySeconds: 1 });
    collector = new KafkaCollector(
      brokersFromEnv(),
      ['subscriptions', 'customers', 'payments'].map((s) => `${service.topicPrefix}.${s}.v1`),
    );
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const { ACTIVE, PAUSED } = {
    ACTIVE: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
    PAUSED: SubscriptionStatus.SUBSCRIPTION_STATUS_PAUSED,
  };

  /** A new customer of ours with an active subscription (its own ordering key at Azotte). */
  const subscribed = async (): Promise<{ customerId: string; customerUrn: string; subscription: Subscription }> => {
    const customerId = await world.createCustomer();
    const subscription = await world.activeSubscription({ customerId });
    return { customerId, customerUrn: await world.customerUrnOf(customerId), subscription };
  };
  const entitled = async (customerId: string, featureKey: string) =>
    (await call(world.entitlements, world.entitlements.checkEntitlement, { customerId, featureKey })).granted;
  const query = <T>(sql: string, params: unknown[] = []) =>
    withClient(db.url, async (c) => (await c.query(sql, params)).rows as T[]);
  const inboxRow = (eventId: string) =>
    eventually(
      async () =>
        (
          await query<{ status: string; outcome: string | null }>(
            'select status, outcome from webhook_inbox where provider_event_id = $1',
            [eventId],
          )
        )[0],
      (row) => row?.status === 'PROCESSED',
    );
  /** The emulator's events about `customerUrn` (payload and attempts), oldest first. */
  const eventsOf = async (customerUrn: string): Promise<Json[]> => {
    const all = await world.webhookLog();
    const details = await Promise.all(all.map((e) => world.webhook(String(e.event_id))));
    return details.filter((d: Json) => d.payload?.data?.customerUrn === customerUrn);
  };
  /** Our Kafka messages keyed by a subscription (its own events, and its payments' and invoices'), any topic. */
  const ofSubscription = (id: string) => collector.messages.filter((m) => m.key === id);
  const decoded = (m: ReceivedMessage) => BillingEvent.decode(m.value);
  /** Waits until every event the emulator made about `customerUrn` is processed by our inbox. */
  const settled = async (customerUrn: string) => {
    await world.emulator.idle();
    for (const e of await eventsOf(customerUrn)) await inboxRow(e.event_id);
  };
  /** Our Kafka events of one subscription leave in order, once each: contiguous ce_sequence, distinct ce_id. */
  const expectOrderedOnce = (messages: ReceivedMessage[]) => {
    const sequences = messages.map((m) => Number(m.headers.ce_sequence)).sort((a, b) => a - b);
    expect(sequences).toEqual(sequences.map((_, i) => sequences[0]! + i));
    expect(new Set(messages.map((m) => m.headers.ce_id)).size).toBe(messages.length);
  };
  const typesOf = (messages: ReceivedMessage[]) =>
    [...messages]
      .sort((a, b) => Number(a.headers.ce_sequence) - Number(b.headers.ce_sequence))
      .map((m) => m.headers.ce_type);

  it('entitlement.granted / revoked, also for a grant outside every plan, decide CheckEntitlement', async () => {
    const { customerId, customerUrn, subscription } = await subscribed();
    // The bundle's feature, granted by Azotte's entitlement.granted (README 38: native, not derived from the plan).
    await eventually(
      () => entitled(customerId, 'basic'),
      (granted) => granted,
    );
    const grantedOnKafka = (feature: string) =>
      collector.waitFor((ms) =>
        ms.some(
          (m) =>
            m.headers.ce_type === 'billing.entitlement.granted' &&
            decoded(m).entitlement?.customerId === customerId &&
            decoded(m).entitlement?.featureKey === feature,
        ),
      );
    await grantedOnKafka('basic');

    // Azotte grants a feature no plan of ours has (a goodwill grant in its portal).
    expect(await entitled(customerId, 'vip-lounge')).toBe(false);
    const grant = await world.grantEntitlement({ customerUrn, featureKey: 'vip-lounge' });
    await eventually(
      () => entitled(customerId, 'vip-lounge'),
      (granted) => granted,
    );
    await grantedOnKafka('vip-lounge');

    await world.revokeEntitlement(String(grant.entitlementUrn));
    await eventually(
      () => entitled(customerId, 'vip-lounge'),
      (granted) => !granted,
    );
    await collector.waitFor((ms) =>
      ms.some(
        (m) =>
          m.headers.ce_type === 'billing.entitlement.revoked' &&
          decoded(m).entitlement?.customerId === customerId &&
          decoded(m).entitlement?.featureKey === 'vip-lounge',
      ),
    );
    // Revoking the grant does not touch what the subscription grants.
    expect(await entitled(customerId, 'basic')).toBe(true);
    expect(await world.subscription(subscription.id)).toMatchObject({ status: ACTIVE });
  });

  it('events reordered, duplicated and redelivered still leave Kafka in Azotte order, once each', async () => {
    const { customerUrn, subscription } = await subscribed();
    const or = subscription.providerRef;
    // pause → [subscription.paused, audit], resume → [subscription.resumed, audit]: released newest first.
    await world.control('/webhooks/faults', { mode: 'reorder', count: 4 });
    await world.control(`/subscriptions/${or}/pause`, {});
    await world.control(`/subscriptions/${or}/resume`, {});
    await world.emulator.idle();
    // Each of the next two sent twice: pause again.
    await world.control('/webhooks/faults', { mode: 'duplicate', count: 2 });
    await world.control(`/subscriptions/${or}/pause`, {});
    await settled(customerUrn);
    const paused = await world.waitFor(subscription.id, (s) => s.status === PAUSED);
    expect(paused.status).toBe(PAUSED);

    // Azotte's own retry of every event of this customer, once more.
    for (const e of await eventsOf(customerUrn)) await world.control(`/webhooks/${e.event_id}/redeliver`, {});
    await settled(customerUrn);

    const log = await eventsOf(customerUrn);
    const sent = log.map((e: Json) => e.payload.sequence as number);
    expect(sent).toEqual(sent.map((_: number, i: number) => i + 1));
    // Every event got through, and its duplicates were acknowledged as duplicates (one inbox row per event id).
    const rows = await query<{ provider_event_id: string }>(
      'select provider_event_id from webhook_inbox where provider_event_id = any($1)',
      [log.map((e: Json) => e.event_id)],
    );
    expect(rows).toHaveLength(log.length);

    const expected = [
      'billing.subscription.created',
      'billing.subscription.activated',
      'billing.subscription.paused',
      'billing.subscription.resumed',
      'billing.subscription.paused',
    ];
    await collector.waitFor(() => ofSubscription(subscription.id).length >= expected.length);
    // A portal resume starts a fresh period (emulator, item 47): when that moved currentPeriodStart by a second, our
    // state machine also reports billing.subscription.renewed after resumed. That is the period, not the order.
    const ours = ofSubscription(subscription.id).filter(
      (m) =>
        m.headers.ce_type?.startsWith('billing.subscription.') && m.headers.ce_type !== 'billing.subscription.renewed',
    );
    expect(typesOf(ours)).toEqual(expected);
    expectOrderedOnce(ofSubscription(subscription.id));
  });

  it('a gap never filled is applied after the gap wait, with the state fetched from Azotte', async () => {
    const { customerId, customerUrn, subscription } = await subscribed();
    const or = subscription.providerRef;
    // subscription.paused and its audit are lost; the next event (a grant on the subscription) comes after a gap.
    await world.dropNextWebhooks(2);
    await world.control(`/subscriptions/${or}/pause`, {});
    await world.grantEntitlement({ customerUrn, featureKey: 'bonus', orderIdentifier: or });
    await world.emulator.idle();
    const grant = (await eventsOf(customerUrn)).at(-1);
    expect(grant.type).toBe('entitlement.granted');

    const row = await inboxRow(grant.event_id);
    const last = grant.payload.sequence as number;
    expect(row!.outcome).toContain(`after a gap (sequence ${last}, last applied ${last - 3})`);
    // Only Azotte's answer could have said PAUSED: its webhook never came.
    expect(await world.subscription(subscription.id)).toMatchObject({ status: PAUSED });
    expect(await entitled(customerId, 'bonus')).toBe(true);
    await collector.waitFor(() =>
      ofSubscription(subscription.id).some((m) => m.headers.ce_type === 'billing.subscription.paused'),
    );
    expectOrderedOnce(ofSubscription(subscription.id));
  });

  it('events dead-lettered after 24 h of refusals are applied once when replayed', async () => {
    const { customerUrn, subscription } = await subscribed();
    await settled(customerUrn);
    const deadUrl = `http://127.0.0.1:${await closedPort()}/webhooks/azotte/${STOREFRONT}`;
    await world.control('/tenants', { tenant: world.tenant.tenant, webhook_url: deadUrl });
    await world.control(`/subscriptions/${subscription.providerRef}/pause`, {});
    await world.emulator.idle();
    const pending = (await eventsOf(customerUrn)).filter((e: Json) => !e.delivered).map((e: Json) => e.event_id);
    expect(pending).toHaveLength(2);

    // Hour by hour, so every retry (1 … 512 min, item 37) falls due and is tried; past 24 h all are dead.
    const dead = async () => (await world.dlq()).filter((d) => d.customer_urn === customerUrn);
    for (let hours = 0; hours < 26 && (await dead()).length < 2; hours++) {
      await world.advanceClock(HOUR);
      await world.emulator.idle();
    }
    const letters = await dead();
    expect(letters.map((d) => d.event_id).sort()).toEqual([...pending].sort());
    expect(letters.map((d) => d.attempts)).toEqual([11, 11]);
    expect(await world.subscription(subscription.id)).toMatchObject({ status: ACTIVE });

    await world.control('/tenants', { tenant: world.tenant.tenant, webhook_url: ingressUrl() });
    expect((await world.replayDlq()).sort()).toEqual([...pending].sort());
    await world.emulator.idle();
    for (const id of pending) await inboxRow(id);
    expect(await dead()).toEqual([]);
    expect(await world.replayDlq()).toEqual([]);
    await world.waitFor(subscription.id, (s) => s.status === PAUSED);
    await collector.waitFor(() =>
      ofSubscription(subscription.id).some((m) => m.headers.ce_type === 'billing.subscription.paused'),
    );
    const paused = ofSubscription(subscription.id).filter((m) => m.headers.ce_type === 'billing.subscription.paused');
    expect(paused).toHaveLength(1);
    expectOrderedOnce(ofSubscription(subscription.id));
  });

  it('a promotion code at checkout and a campaign Azotte triggers each become billing.discount.applied', async () => {
    await world.control('/catalog', {
      campaigns: [
        {
          campaign_code: 'LOYALTY',
          promotion_code: 'LOYAL2',
          description: 'EUR 2 off the next cycle',
          amount_off_milpieces: 200,
          cycles: 1,
        },
      ],
    });
    const customerId = await world.createCustomer();
    const subscription = await world.activeSubscription({ customerId, promotionCode: 'WELCOME10' });
    const discounts = async (count: number) =>
      (
        await collector.waitFor(
          () =>
            ofSubscription(subscription.id).filter((m) => m.headers.ce_type === 'billing.discount.applied').length >=
            count,
        )
      )
        .filter((m) => m.key === subscription.id && m.headers.ce_type === 'billing.discount.applied')
        .map((m) => decoded(m).discount);
    expect(await discounts(1)).toEqual([
      expect.objectContaining({
        code: 'WELCOME10',
        percentOffBasisPoints: 1000,
        cycles: 3,
        amountOff: undefined,
        subscriptionId: subscription.id,
        customerId,
      }),
    ]);

    await world.triggerCampaign(await world.customerUrnOf(customerId), subscription.providerRef, 'LOYALTY');
    const [, triggered] = await discounts(2);
    expect(triggered).toMatchObject({
      code: 'LOYAL2',
      description: 'EUR 2 off the next cycle',
      amountOff: { currencyCode: 'EUR', amountMinor: 200n },
      percentOffBasisPoints: 0,
      cycles: 1,
      subscriptionId: subscription.id,
    });
    expectOrderedOnce(ofSubscription(subscription.id));
  });

  it("audit.state_changed lands in our audit_log with Azotte's actor and correlation id", async () => {
    const { customerId, customerUrn, subscription } = await subscribed();
    await settled(customerUrn);
    const audits = (await eventsOf(customerUrn)).filter((e: Json) => e.type === 'audit.state_changed');
    expect(audits.length).toBeGreaterThan(0);
    for (const { event_id, payload } of audits) {
      const rows = await query<Json>(
        "select actor, correlation_id, resource_type, resource_id, storefront_id, details from audit_log where action = 'ProviderStateChanged' and details->>'provider_event_id' = $1",
        [event_id],
      );
      expect(rows).toEqual([
        {
          actor: 'provider:azotte',
          correlation_id: payload.correlationId,
          resource_type: `azotte:${payload.data.entity}`,
          resource_id: payload.data.entityUrn,
          storefront_id: STOREFRONT,
          details: expect.objectContaining({
            customer_id: customerId,
            provider_actor: `${payload.actor.type}:${payload.actor.id}`,
            field: payload.data.field,
            to: payload.data.to,
          }),
        },
      ]);
    }
    // The checkout's own audit names our order (README 35: correlationId = the checkout's).
    expect(audits.some((a: Json) => a.payload.correlationId === subscription.id)).toBe(true);
  });

  it("a provider correlation id naming an order not this storefront's is not kept as the row's (kept in details)", async () => {
    const { customerUrn, subscription } = await subscribed();
    await settled(customerUrn);
    const [genuine] = (await eventsOf(customerUrn)).filter((e: Json) => e.type === 'audit.state_changed');
    const secret = world.tenant.webhookSecrets[0]!;
    /** The genuine audit event again under a new id with `correlationId`, signed; its audit row once processed. */
    const audited = async (correlationId: string) => {
      const id = `ev_${randomBytes(13).toString('hex')}`;
      const body = JSON.stringify({ ...genuine.payload, id, correlationId });
      expect((await post(body, sign(body, Math.floor(Date.now() / 1000), secret))).status).toBe(200);
      await inboxRow(id);
      const rows = await query<Json>(
        "select correlation_id, details from audit_log where action = 'ProviderStateChanged' and details->>'provider_event_id' = $1",
        [id],
      );
      expect(rows).toHaveLength(1);
      return rows[0];
    };
    // Ours in form (sub_ + ULID), yet no order of this storefront: another storefront's trail must not get the row.
    const foreign = `${newId('sub')}.retry1`;
    const refused = await audited(foreign);
    expect(refused.correlation_id).not.toBe(foreign);
    expect(refused.details).toMatchObject({ provider_correlation_id_unverified: foreign });
    // This storefront's own order (with a suffix after the '.'): kept as it came.
    const own = `${subscription.id}.retry1`;
    const kept = await audited(own);
    expect(kept.correlation_id).toBe(own);
    expect(kept.details).not.toHaveProperty('provider_correlation_id_unverified');
  });

  it('a subscription from another channel is adopted for our customer, ignored for a customer not ours', async () => {
    const { customerId, customerUrn } = await subscribed();
    const made = await world.otherChannelSubscription(customerUrn);
    const or = String(made.orderIdentifier);
    await settled(customerUrn);
    const { subscriptions: subs } = service.clients;
    const listed = await eventually(
      async () =>
        (
          await call(subs, subs.listSubscriptions, {
            storefrontId: STOREFRONT,
            customerId,
            statuses: [],
            pageSize: 50,
            pageToken: '',
          })
        ).subscriptions,
      (list) => list.some((s) => s.providerRef === or),
    );
    const adopted = listed.find((s) => s.providerRef === or)!;
    expect(adopted).toMatchObject({ customerId, planId: world.planId, status: ACTIVE });
    await collector.waitFor(() =>
      ofSubscription(adopted.id).some((m) => m.headers.ce_type === 'billing.subscription.created'),
    );

    // An Azotte customer of the tenant that is none of ours (another integration stored it).
    const strangerUrn = await storeForeignCustomer();
    const outboxBefore = await query<{ n: string }>('select count(*)::text as n from outbox');
    const foreign = await world.otherChannelSubscription(strangerUrn);
    await world.emulator.idle();
    const foreignEvents = await eventsOf(strangerUrn);
    expect(foreignEvents.map((e: Json) => e.type)).toContain('subscription.created');
    for (const e of foreignEvents) expect((await inboxRow(e.event_id))!.outcome).toContain(IGNORED_FOREIGN);
    expect(await query('select id from subscriptions where provider_ref = $1', [foreign.orderIdentifier])).toEqual([]);
    expect(await query('select id from audit_log where resource_id = $1', [foreign.orderIdentifier])).toEqual([]);
    expect(await query<{ n: string }>('select count(*)::text as n from outbox')).toEqual(outboxBefore);
  });

  it('a bad signature or a stale timestamp → 401, nothing stored; the previous secret is accepted during rotation', async () => {
    const { customerUrn, subscription } = await subscribed();
    await settled(customerUrn);
    const [genuine] = (await eventsOf(customerUrn)).filter((e: Json) => e.type === 'subscription.created');
    // A new event (fresh id, next sequence) with the genuine shape, so only the signature decides.
    const body = JSON.stringify({
      ...genuine.payload,
      id: `ev_${randomBytes(13).toString('hex')}`,
      type: 'subscription.canceled',
      sequence: 1000,
      data: { ...genuine.payload.data, state: 'Canceled', cancelationMethod: 'Immediate' },
    });
    const secret = world.tenant.webhookSecrets[0]!;
    const now = Math.floor(Date.now() / 1000);
    const inboxCount = async () => (await query<{ n: string }>('select count(*)::text as n from webhook_inbox'))[0]!.n;
    const before = await inboxCount();

    const forged = await post(body, sign(body, now, 'whsec_not_ours'));
    const stale = await post(body, sign(body, now - 301, secret));
    const unsigned = await post(body, undefined);
    expect([forged.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
    expect(await forged.text()).not.toContain(secret);
    expect(await inboxCount()).toBe(before);
    expect(await world.subscription(subscription.id)).toMatchObject({ status: ACTIVE });

    // Rotation on our side first: the new secret is current, the one Azotte still signs with is previous.
    const old = azotteBinding(world.emulator, world.tenant, { storefrontId: STOREFRONT }).secretRefs;
    const next = `${tenantEnvPrefix('tenant-a')}AZOTTE_${STOREFRONT.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_NEXT`;
    process.env[next] = `whsec_${randomBytes(12).toString('hex')}`;
    const { storefronts } = service.clients;
    await call(storefronts, storefronts.updateStorefront, {
      storefrontId: STOREFRONT,
      providerConfig: {},
      replaceProviderConfig: false,
      secretRefs: {
        api_key: old.api_key!,
        webhook_secret: `env:${next}`,
        webhook_secret_previous: old.webhook_secret!,
      },
      replaceSecretRefs: true,
      expectedVersion: 0n,
    });
    await world.control(`/subscriptions/${subscription.providerRef}/pause`, {});
    await settled(customerUrn);
    expect(await world.subscription(subscription.id)).toMatchObject({ status: PAUSED });
    const accepted = (await eventsOf(customerUrn)).at(-1);
    expect(accepted.attempt_log.map((a: Json) => a.status)).toEqual([200]);
  });

  it("a checkout's own events that arrive before CreateCheckoutSession answers are not adopted as another subscription", async () => {
    // Azotte decides at once and its webhooks are processed while its answer to offer/checkout is still on the way
    // (here: held 3 s by a proxy in front of the emulator), i.e. before our checkout is recorded.
    const proxy = await slowCheckoutProxy(world.emulator.url);
    const { storefronts } = service.clients;
    const rebind = (baseUrl: string) =>
      call(storefronts, storefronts.updateStorefront, {
        storefrontId: STOREFRONT,
        providerConfig: {
          ...azotteBinding(world.emulator, world.tenant, { storefrontId: STOREFRONT }).providerConfig,
          base_url: baseUrl,
        },
        replaceProviderConfig: true,
        secretRefs: {},
        replaceSecretRefs: false,
        expectedVersion: 0n,
      });
    try {
      await rebind(proxy.url);
      const customerId = await world.createCustomer();
      const { subscription: opened } = await world.checkout({ customerId });
      const customerUrn = await world.customerUrnOf(customerId);
      await settled(customerUrn);
      const [created] = (await eventsOf(customerUrn)).filter((e: Json) => e.type === 'subscription.created');
      expect(created.payload.correlationId).toBe(opened!.id);
      const row = await inboxRow(created.event_id);
      expect(row!.outcome).not.toMatch(/^adopted/);
      const ours = await world.waitFor(opened!.id, (s) => s.status === ACTIVE);
      expect(ours.providerRef).toBe(created.payload.data.orderIdentifier);
      const subs = service.clients.subscriptions;
      const request = { storefrontId: STOREFRONT, customerId, statuses: [], pageSize: 50, pageToken: '' };
      expect((await call(subs, subs.listSubscriptions, request)).subscriptions.map((s) => s.id)).toEqual([opened!.id]);
    } finally {
      await rebind(world.emulator.url);
      await proxy.close();
    }
  });

  const ingressUrl = () => `http://127.0.0.1:${service.httpPort}/webhooks/azotte/${STOREFRONT}`;
  const post = (body: string, signature: string | undefined) =>
    fetch(ingressUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { 'azotte-signature': signature } : {}) },
      body,
    });
  /** An Azotte customer of the world's tenant stored straight through C2A, by someone other than our service. */
  const storeForeignCustomer = async (): Promise<string> => {
    const response = await fetch(`${world.emulator.url}/api/v1/c2a/customer/store`, {
      method: 'POST',
      headers: {
        'x-api-key': world.tenant.apiKey,
        'x-tn': world.tenant.tenant,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        customer: {
          externalIdentifier: `elsewhere_${randomBytes(4).toString('hex')}`,
          email: `stranger+${randomBytes(4).toString('hex')}@example.com`,
          legalType: 'Individual',
        },
        claimedRegion: { countryCode: 'DE', languageCode: 'de' },
      }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as Json).result.customerUrn as string;
  };
});

/** `azotte-signature` (README 34), computed here independently of the adapter and the emulator. */
function sign(body: string, t: number, secret: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** A local port nothing listens on (bound, then closed): deliveries to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An HTTP proxy to `target` that holds Azotte's answer to POST …/offer/checkout for 3 s (the rest passes at once). */
async function slowCheckoutProxy(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const base = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').replace(/^\/azotte/, '');
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
      ) as Record<string, string>;
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      void fetch(`${base.origin}${base.pathname}${path}`, { method: req.method, headers, body }).then(
        async (answer) => {
          const text = await answer.text();
          if (req.method === 'POST' && path.endsWith('/offer/checkout')) await new Promise((r) => setTimeout(r, 3000));
          const out: Record<string, string> = {};
          answer.headers.forEach((v, k) => {
            if (!['content-length', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
          });
          res.writeHead(answer.status, out).end(text);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/azotte`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
