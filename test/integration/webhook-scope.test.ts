import { createHmac } from 'node:crypto';
import net from 'node:net';
import { Registry } from 'prom-client';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { IpRange, parseCidr } from '../../src/domain/ip-allowlist';
import { closeHttp, createHttpServer, listenHttp } from '../../src/webhooks/http-server';
import { eventually } from '../support/eventually';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, eventTypesOf, startTestService, TestService } from '../support/test-service';

/**
 * A webhook touches only objects of the storefront it was signed for. Storefront E (another tenant) signs webhooks
 * correctly with its own secret but names storefront A's subscription and payment: nothing of A changes, E's events
 * say nothing about A, and the webhooks are recorded and acknowledged, not applied and not dead-lettered.
 */
describe('webhooks scoped to their storefront', () => {
  let db: TestDatabase;
  let service: TestService;
  let a: SubotizWorld;
  let e: SubotizWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    a = await subotizWorld(service, { storefrontId: 'store-a', tenantId: 'tenant-a' });
    e = await subotizWorld(service, { storefrontId: 'store-e', tenantId: 'tenant-e' });
  });

  afterAll(async () => {
    await a?.close();
    await e?.close();
    await service?.close();
    await db?.drop();
  });

  const postTo = (storefront: string, body: string, headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${service.httpPort}/webhooks/subotiz/${storefront}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  /** Signed exactly as Subotiz signs for `storefront`, with that storefront's webhook secret. */
  const signedFor = (storefront: string, body: string) => {
    const ts = String(Date.now());
    const secret = process.env.TEST_SUBOTIZ_WEBHOOK_SECRET!;
    const signature = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    return postTo(storefront, body, { 'x-timestamp': ts, 'x-signature': signature });
  };
  const inbox = (eventId: string) =>
    withClient(
      db.url,
      async (c) =>
        (
          await c.query('select status, outcome, storefront_id from webhook_inbox where provider_event_id = $1', [
            eventId,
          ])
        ).rows as { status: string; outcome: string | null; storefront_id: string }[],
    );
  const deadLettersOf = (eventId: string) =>
    withClient(db.url, async (c) =>
      Number(
        (await c.query('select count(*) from dead_letters where provider_event_id = $1', [eventId])).rows[0].count,
      ),
    );
  const entitlementsOf = async (world: SubotizWorld) =>
    (
      await call(world.entitlements, world.entitlements.listEntitlements, {
        customerId: world.customerId,
        includeInactive: true,
      })
    ).entitlements;
  const eventsOfStorefront = async (storefrontId: string) =>
    (
      await call(service.clients.events, service.clients.events.listEvents, {
        storefrontId,
        aggregateId: '',
        types: [],
        since: undefined,
        until: undefined,
        pageSize: 500,
        pageToken: '',
      })
    ).events;

  /** A's own webhooks (activation, invoice, payment) all delivered and processed, so A's state is final. */
  const settled = async () => {
    await a.emulator.idle();
    await eventually(
      () =>
        withClient(db.url, async (c) =>
          Number((await c.query("select count(*) from webhook_inbox where status = 'PENDING'")).rows[0].count),
        ),
      (pending) => pending === 0,
    );
  };

  it('ignores E’s signed webhooks naming A’s subscription (by provider ref and by sub_ order id) and A’s payment', async () => {
    const { id, ref } = await a.activeSubscription();
    await settled();
    const [payment] = await a.paymentsOf(id);
    expect(payment?.providerRef).toBeTruthy();
    const before = {
      subscription: await a.subscription(id),
      entitlements: await entitlementsOf(a),
      payments: await a.paymentsOf(id),
      events: await eventTypesOf(service, id),
    };
    expect(before.subscription.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    expect(before.entitlements.length).toBeGreaterThan(0);
    const eventsOfEBefore = await eventsOfStorefront('store-e');

    const now = new Date().toISOString();
    const hooks = [
      {
        id: '880000000000000001',
        type: 'v2.subscription.canceled',
        created: now,
        data: { id: ref, status: 'canceled', cancel_at: now, order_id: '', updated_at: now },
      },
      {
        id: '880000000000000002',
        type: 'v2.subscription.canceled',
        created: now,
        data: { id: '880000000000009999', status: 'canceled', cancel_at: now, order_id: id, updated_at: now },
      },
      {
        id: '880000000000000003',
        type: 'v2.refunds.succeeded',
        created: now,
        data: {
          refund_id: '880000000000000777',
          trade_id: payment!.providerRef,
          refund_amount: '19.99',
          currency: 'EUR',
          refund_status: 'succeeded',
          finished_at: now,
          reason: '',
        },
      },
    ];
    for (const hook of hooks) {
      const response = await signedFor('store-e', JSON.stringify(hook));
      expect({ hook: hook.id, status: response.status }).toEqual({ hook: hook.id, status: 200 });
    }

    for (const hook of hooks) {
      const [row] = await eventually(
        () => inbox(hook.id),
        (rows) => rows[0]?.status !== 'PENDING',
      );
      expect(row).toMatchObject({ status: 'PROCESSED', storefront_id: 'store-e' });
      expect(row!.outcome).toContain('ignored: foreign/unknown object');
      expect(await deadLettersOf(hook.id)).toBe(0);
    }

    expect(await a.subscription(id)).toEqual(before.subscription);
    expect(await entitlementsOf(a)).toEqual(before.entitlements);
    expect(await a.paymentsOf(id)).toEqual(before.payments);
    expect(await eventTypesOf(service, id)).toEqual(before.events);
    // E's stream gained nothing, and never names A's subscription, payment or customer.
    const eventsOfE = await eventsOfStorefront('store-e');
    expect(eventsOfE.map((ev) => ev.id)).toEqual(eventsOfEBefore.map((ev) => ev.id));
    const aIds = [id, payment!.id, a.customerId];
    expect(eventsOfE.filter((ev) => aIds.includes(ev.aggregateId))).toEqual([]);
  });

  it('ignores E’s webhook pinning A’s subscription or payment reference on E’s own open checkout, not dead-lettering it', async () => {
    const { id, ref } = await a.activeSubscription();
    await settled();
    const [payment] = await a.paymentsOf(id);
    const before = { subscription: await a.subscription(id), payments: await a.paymentsOf(id) };
    // E's own checkout, not paid: its subscription has no Subotiz reference yet, so a webhook could try to give it one.
    const subs = service.clients.subscriptions;
    const open = await call(subs, subs.createCheckoutSession, e.checkoutRequest());
    const eSubscription = open.subscription!.id;
    const now = new Date().toISOString();
    const hooks = [
      {
        id: '880000000000000030',
        type: 'v2.subscription.first',
        created: now,
        data: { id: ref, status: 'active', order_id: eSubscription, updated_at: now },
      },
      {
        id: '880000000000000031',
        type: 'v2.trades.succeeded',
        created: now,
        data: {
          trade_id: payment!.providerRef,
          order_id: eSubscription,
          amount: '19.99',
          currency: 'EUR',
          trade_status: 'succeeded',
          payment_mode: 'subscription',
          paid_at: now,
          refund_status: 'no_refund',
        },
      },
    ];
    for (const hook of hooks) expect((await signedFor('store-e', JSON.stringify(hook))).status).toBe(200);
    for (const hook of hooks) {
      const [row] = await eventually(
        () => inbox(hook.id),
        (rows) => rows[0]?.status !== 'PENDING',
      );
      expect({ hook: hook.id, status: row!.status }).toEqual({ hook: hook.id, status: 'PROCESSED' });
      expect(row!.outcome).toContain('ignored: foreign/unknown object');
      expect(await deadLettersOf(hook.id)).toBe(0);
    }
    expect(await a.subscription(id)).toEqual(before.subscription);
    expect(await a.paymentsOf(id)).toEqual(before.payments);
    const mine = await e.subscription(eSubscription);
    expect(mine.providerRef).toBe('');
    expect(mine.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_INCOMPLETE);
  });

  it('still applies a storefront’s own webhook, and does not let another storefront’s event id shadow it', async () => {
    const { id, ref } = await a.activeSubscription();
    const now = new Date().toISOString();
    const cancel = (storefrontRef: string) => ({
      id: '880000000000000010',
      type: 'v2.subscription.canceled',
      created: now,
      data: { id: storefrontRef, status: 'canceled', cancel_at: now, order_id: id, updated_at: now },
    });
    // E sends the event id first; A's own webhook with the same id is still stored and applied.
    expect((await signedFor('store-e', JSON.stringify(cancel(ref)))).status).toBe(200);
    const own = await signedFor('store-a', JSON.stringify(cancel(ref)));
    expect(await own.json()).toEqual({ received: true, duplicate: false });
    const canceled = await eventually(
      () => a.subscription(id),
      (s) => s.status === SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED,
    );
    expect(canceled.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELED);
    const rows = await inbox('880000000000000010');
    expect(rows.map((r) => r.storefront_id).sort()).toEqual(['store-a', 'store-e']);
  });

  it('answers 400 to a signed webhook with a NUL, a control character or an oversized id, storing nothing', async () => {
    const now = new Date().toISOString();
    const count = () =>
      withClient(db.url, async (c) => Number((await c.query('select count(*) from webhook_inbox')).rows[0].count));
    const before = await count();
    const bodies = [
      { id: '88\u00000001', type: 'v2.subscription.canceled', created: now, data: { id: '1' } },
      { id: '8'.repeat(256), type: 'v2.subscription.canceled', created: now, data: { id: '1' } },
      { id: '880000000000000020', type: 'v2.subscription.canceled', created: now, data: { id: 'a\u0007b' } },
      { id: '880000000000000021', type: 'v2.subscription.canceled', created: now, data: { order_id: 'x'.repeat(300) } },
      { id: '880000000000000022', type: 'v2.subscription.canceled', created: now, data: { note: 'a\u0000b' } },
    ];
    for (const body of bodies) {
      const response = await signedFor('store-e', JSON.stringify(body));
      const answer = (await response.json()) as { error: string };
      expect({ status: response.status, error: typeof answer.error }).toEqual({ status: 400, error: 'string' });
      expect(answer.error.length).toBeLessThan(400);
    }
    expect(await count()).toBe(before);
  });
});

describe('the HTTP listener against slow clients', () => {
  it('cuts a client that never finishes its headers, and caps connections', async () => {
    const server = createHttpServer({
      metrics: new Registry(),
      ready: async () => true,
      limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 7 },
    });
    const port = await listenHttp(server, '127.0.0.1', 0);
    try {
      expect(server.maxConnections).toBe(7);
      expect(server.headersTimeout).toBe(300);
      const socket = net.connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      // Slowloris: headers begun, never ended. The listener must close the connection by itself.
      socket.write('POST /webhooks/subotiz/store-e HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n');
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await closeHttp(server);
    }
  });

  it('closes connections from one address beyond its share, and serves other addresses meanwhile', async () => {
    const server = createHttpServer({
      metrics: new Registry(),
      ready: async () => true,
      limits: { maxConnectionsPerSender: 3 },
      trustedProxies: [parseCidr('127.0.0.3/32') as IpRange],
    });
    const port = await listenHttp(server, '127.0.0.1', 0);
    const open = (localAddress: string) =>
      new Promise<net.Socket>((resolve) => {
        const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
        socket.on('error', () => undefined); // a refused connection is reset: seen as no answer
      });
    const healthz = (socket: net.Socket) =>
      new Promise<string>((resolve) => {
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString()));
        socket.once('close', () => resolve(answer.split('\r\n')[0] ?? ''));
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
    try {
      // One sender holds its three connections (headers begun, never ended)…
      const held = await Promise.all([1, 2, 3].map(() => open('127.0.0.1')));
      for (const socket of held) socket.write('POST /webhooks/subotiz/store-e HTTP/1.1\r\n');
      // …its fourth is closed unanswered, while another address is answered.
      expect(await healthz(await open('127.0.0.1'))).toBe('');
      expect(await healthz(await open('127.0.0.2'))).toBe('HTTP/1.1 200 OK');
      // A trusted proxy carries everyone's connections: it has no share to exceed.
      const proxied = await Promise.all([1, 2, 3, 4].map(() => open('127.0.0.3')));
      for (const socket of proxied) expect(await healthz(socket)).toBe('HTTP/1.1 200 OK');
      held[0]!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await healthz(await open('127.0.0.1'))).toBe('HTTP/1.1 200 OK');
      for (const socket of held) socket.destroy();
    } finally {
      await closeHttp(server);
    }
  });
});
