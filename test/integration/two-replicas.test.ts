import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { startSubotizEmulator, SubotizEmulator } from '../../adapters/subotiz/emulator';
import { EVENT_STREAMS, topicName } from '../../src/domain/event-catalogue';
import { CatalogServiceClient } from '../../src/gen/billing/v1/catalog';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { CreateCustomerRequest, CustomerServiceClient } from '../../src/gen/billing/v1/customer';
import { StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import { SubscriptionServiceClient } from '../../src/gen/billing/v1/subscription';
import { emulatorControl } from '../support/emulator-control';
import { customerRequest, storefrontRequest, subscriptionCheckout } from '../support/fixtures';
import { brokersFromEnv, KafkaCollector, ReceivedMessage, repeatedIds } from '../support/kafka-collector';
import { freeServicePorts, ServicePorts, ServiceProcess, serviceProcessEnv, until } from '../support/service-process';
import { freePort } from '../support/free-port';
import { createTestDatabase, TestDatabase, webhooksSettled, withClient } from '../support/test-database';
import { bearer, call, TEST_KEYS, writeKeysFile } from '../support/test-service';

const STOREFRONT = 'replica-store';
/**
 * How long to wait for background work: more than the survivor waits out after the kill (the dead caller's 10 s
 * idempotency lease, service.ts; the dead relay's lead passes at once).
 */
const WAIT_MS = 60_000;

const SECRETS = {
  BILLING_SECRET_TENANT_A_SUBOTIZ_API_KEY: `sk_test_${randomBytes(8).toString('hex')}`,
  BILLING_SECRET_TENANT_A_SUBOTIZ_ACCESS_NO: 'acc_replicas',
  BILLING_SECRET_TENANT_A_SUBOTIZ_WEBHOOK_SECRET: `whsec_${randomBytes(8).toString('hex')}`,
};
const keysFile = writeKeysFile();
const topicPrefix = `replicas-${randomBytes(4).toString('hex')}`;

/** Both replicas alike: one database, one Kafka and topic prefix, the same callers and secrets; short polls. */
function replicaEnv(databaseUrl: string, ports: ServicePorts): NodeJS.ProcessEnv {
  return serviceProcessEnv(databaseUrl, ports, {
    API_KEYS_FILE: keysFile,
    ...SECRETS,
    KAFKA_BROKERS: brokersFromEnv().join(','),
    KAFKA_TOPIC_PREFIX: topicPrefix,
    RELAY_POLL_INTERVAL_MS: '200',
    RECONCILE_INTERVAL_MS: '200',
    WEBHOOK_POLL_INTERVAL_MS: '50',
    WEBHOOK_RETRY_BASE_MS: '50',
    // Two processing lanes each: four webhooks in flight at once across the pair, as four replicas would have.
    WEBHOOK_WORKERS: '2',
  });
}

interface Clients {
  storefronts: StorefrontServiceClient;
  catalog: CatalogServiceClient;
  customers: CustomerServiceClient;
  subscriptions: SubscriptionServiceClient;
}

interface Replica {
  name: string;
  process: ServiceProcess;
  clients: Clients;
}

const asTenantA = bearer(TEST_KEYS.tenantAPlatform);

/**
 * Two service processes on one PostgreSQL and one Kafka, RPCs spread over both and Subotiz's webhooks balanced
 * between them: every event reaches Kafka in order per key and once while both live, each webhook and each
 * reconciler check takes effect once, and a kill -9 of the replica that holds the relay lease loses nothing.
 */
describe('two replicas on one database and one Kafka', () => {
  let db: TestDatabase;
  let emulator: SubotizEmulator;
  let balancer: WebhookBalancer;
  let collector: KafkaCollector;
  const replicas: Replica[] = [];
  let planId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    collector = new KafkaCollector(
      brokersFromEnv(),
      EVENT_STREAMS.map((s) => topicName(topicPrefix, s)),
    );
    await collector.start();
    const ports = [await freeServicePorts(), await freeServicePorts()];
    balancer = await WebhookBalancer.start(ports);
    emulator = await startSubotizEmulator({
      merchants: [
        {
          accessNo: SECRETS.BILLING_SECRET_TENANT_A_SUBOTIZ_ACCESS_NO,
          subMerchantId: 'm-replicas',
          apiKey: SECRETS.BILLING_SECRET_TENANT_A_SUBOTIZ_API_KEY,
          accessSecret: 'unused',
          webhookSecret: SECRETS.BILLING_SECRET_TENANT_A_SUBOTIZ_WEBHOOK_SECRET,
          webhookUrl: `${balancer.url}/webhooks/subotiz/${STOREFRONT}`,
        },
      ],
      prices: [
        {
          priceId: 'price_replicas',
          amount: '9.99',
          currency: 'EUR',
          interval: 'month',
          intervalCount: 1,
          trialDays: 0,
        },
      ],
      // A delivery that met the killed replica is tried again soon (by the balancer, on the survivor).
      webhookRetryBaseMs: 200,
    });
    // One after the other: replicas started at the same instant on a new database race to create knex's migration
    // tables, and the loser exits (42P07): the first one creates the schema (README, "Running several replicas").
    for (const [i, p] of ports.entries()) {
      const process = await ServiceProcess.start(replicaEnv(db.url, p), p);
      replicas.push({ name: 'AB'[i]!, process, clients: connect(p.grpc) });
    }
    planId = await seed(replicas[0]!.clients, emulator.url);
  }, 180_000);

  afterAll(async () => {
    for (const replica of replicas) {
      for (const client of Object.values(replica.clients)) client.close();
      await replica.process.stop();
    }
    await balancer?.stop();
    await emulator?.stop();
    await collector?.stop();
    await db?.drop();
  });

  const query = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(sql, params)).then((r) => r.rows as T[]);
  const count = async (sql: string, params: unknown[] = []) => Number((await query<{ n: string }>(sql, params))[0]!.n);
  /** Replica i % 2: consecutive calls alternate. */
  const replicaFor = (i: number) => replicas[i % 2]!;

  /** Waits until every event in the outbox is on Kafka (at least once). */
  const allEventsOnKafka = async () => {
    const ids = (await query<{ event_id: string }>('SELECT event_id FROM outbox')).map((r) => r.event_id);
    await collector.waitFor((messages) => {
      const received = new Set(messages.map((m) => m.headers.ce_id));
      return ids.every((id) => received.has(id));
    }, WAIT_MS);
    return ids;
  };
  const statuses = (ids: string[]) =>
    query<{ id: string; status: string }>('SELECT id, status FROM subscriptions WHERE id = ANY($1)', [ids]);
  const waitForStatus = (ids: string[], status: string) =>
    until(
      async () => (await statuses(ids)).filter((s) => s.status === status).length === ids.length,
      WAIT_MS,
      `${ids.length} subscriptions to be ${status}`,
    );
  /** Subscriptions with other than exactly one outbox event of `type`. */
  const notOnce = (ids: string[], type: string) =>
    query(
      `SELECT s.id, (SELECT count(*) FROM outbox o WHERE o.aggregate_id = s.id AND o.type = $2) AS events
         FROM subscriptions s WHERE s.id = ANY($1)`,
      [ids, type],
    ).then((rows) => rows.filter((r) => Number(r.events) !== 1));
  /** How many of the subscriptions have exactly one event of `type` on Kafka (a re-sent ce_id counts once). */
  const onKafkaOnce = (ids: string[], type: string) =>
    ids.filter(
      (id) =>
        new Set(
          collector.messages
            .filter((m) => m.headers.ce_subject === id && m.headers.ce_type === type)
            .map((m) => m.headers.ce_id),
        ).size === 1,
    ).length;

  /** Every webhook Subotiz sent was taken in once (one inbox row per Subotiz event) and processed. */
  const expectEachWebhookProcessedOnce = async () => {
    // The emulator sends a checkout's webhooks one after another: the last may still be on its way once ACTIVE reads.
    await emulator.idle();
    await webhooksSettled(db.url);
    const sent = await emulatorControl<{ event_id: string }[]>(emulator.url, '/webhooks');
    const rows = await query<{ provider_event_id: string; status: string }>(
      'SELECT provider_event_id, status FROM webhook_inbox',
    );
    expect(rows.map((r) => r.provider_event_id).sort()).toEqual(sent.map((w) => w.event_id).sort());
    expect(rows.filter((r) => r.status !== 'PROCESSED')).toEqual([]);
  };

  it('shares calls and webhooks: every event on Kafka once, in order per key, one activation per subscription', async () => {
    const customers = await Promise.all(
      range(60).map((i) => createCustomer(replicaFor(i), customerRequest(STOREFRONT, `load-${i}`))),
    );
    const subscriptionIds = await checkoutsPaidAtSubotiz(customers.slice(0, 10));
    await waitForStatus(subscriptionIds, 'ACTIVE');
    await expectEachWebhookProcessedOnce();
    await allEventsOnKafka();

    expect(repeatedIds(collector.messages)).toEqual([]);
    expect(outOfOrder(collector.messages)).toEqual([]);
    expect(await notOnce(subscriptionIds, 'billing.subscription.activated')).toEqual([]);
    expect(onKafkaOnce(subscriptionIds, 'billing.subscription.activated')).toBe(subscriptionIds.length);
    expect(balancer.delivered.every((n) => n > 0)).toBe(true);
    // One relay publishes at a time: while both replicas live, the other one's relay has published nothing.
    expect((await Promise.all(replicas.map(publishedBy))).filter((n) => n > 0)).toHaveLength(1);
  });

  it('checks each expired checkout once: one billing.subscription.expired each, though both reconcilers sweep', async () => {
    const customers = await Promise.all(
      range(8).map((i) => createCustomer(replicaFor(i), customerRequest(STOREFRONT, `gone-${i}`))),
    );
    const opened = await Promise.all(customers.map((c, i) => openCheckout(replicaFor(i), c)));
    for (const checkout of opened) {
      await emulatorControl(emulator.url, `/sessions/${checkout.providerRef}/expire`, {});
    }
    const ids = opened.map((c) => c.subscriptionId);
    // The checkouts' 30 minutes are over: the services' clocks cannot be moved, so their due time is moved instead.
    await query('UPDATE subscriptions SET reconcile_at = now() WHERE id = ANY($1)', [ids]);

    await waitForStatus(ids, 'INCOMPLETE_EXPIRED');
    await allEventsOnKafka();
    expect(await notOnce(ids, 'billing.subscription.expired')).toEqual([]);
    expect(onKafkaOnce(ids, 'billing.subscription.expired')).toBe(ids.length);
    expect(repeatedIds(collector.messages)).toEqual([]);
  });

  it('loses nothing when the replica holding the relay lease is killed -9 under load', async () => {
    const published = await Promise.all(replicas.map(publishedBy));
    const victim = replicas[published[0]! > 0 ? 0 : 1]!;
    const survivor = replicas.find((r) => r !== victim)!;
    const sessionsBefore = await sessionsAtSubotiz();
    const buyers = await Promise.all(
      range(8).map((i) => createCustomer(survivor, customerRequest(STOREFRONT, `kill-buyer-${i}`))),
    );
    const opened = await Promise.all(buyers.slice(0, 6).map((c, i) => openCheckout(replicaFor(i), c)));
    const keys = range(40).map((i) => `kill-customer-${i}`);

    const kill: { at?: number } = {};
    let failedOnVictim = 0;
    /** A keyed call: first on `first`; failed there (killed), retried on the survivor with the same key. */
    const keyed = <T>(first: Replica, send: (r: Replica) => Promise<T>) =>
      send(first).catch(() => {
        failedOnVictim += 1;
        return onSurvivor(() => send(survivor));
      });
    // Subotiz makes the victim's next two checkout sessions but holds its answers back: the kill lands on those calls.
    await emulatorControl(emulator.url, '/faults', {
      count: 2,
      status: 200,
      delay_ms: 60_000,
      after: true,
      path: '/api/v1/session',
    });
    const heldCheckouts = buyers.slice(6).map((c, i) => keyed(victim, (r) => openCheckout(r, c, `kill-checkout-${i}`)));
    /** Whether each key's call (first attempt or retry) answered "created": "already there" is a second effect. */
    const answered = new Map<string, boolean>();
    const load = keys.map(async (key, i) => {
      await sleep(i * 30);
      // Half to each replica until the kill, then all to the survivor.
      const { created } = await keyed(kill.at === undefined ? replicaFor(i) : survivor, (r) =>
        createCustomerKeyed(r, customerRequest(STOREFRONT, key), key),
      );
      answered.set(key, created);
    });
    // Paid at Subotiz while the calls go on: their webhooks are on the way to both replicas at the kill.
    const payments = opened.map(async (checkout, i) => {
      await sleep(i * 150);
      await emulatorControl(emulator.url, `/sessions/${checkout.providerRef}/complete`, {});
    });
    await until(
      async () => answered.size >= 15 && (await sessionsAtSubotiz()) >= sessionsBefore + 8,
      60_000,
      'the load to be under way and the held checkouts to be at Subotiz',
    );
    const backlogAtKill = await count('SELECT count(*) AS n FROM outbox_pending');
    const killedAt = Date.now();
    kill.at = killedAt;
    await victim.process.kill9();
    await Promise.all([...load, ...payments]);
    // The retried checkouts, paid after the kill: their webhooks reach the survivor only.
    const retried = await Promise.all(heldCheckouts);
    for (const checkout of retried) {
      await emulatorControl(emulator.url, `/sessions/${checkout.providerRef}/complete`, {});
    }
    expect(failedOnVictim).toBeGreaterThanOrEqual(retried.length);
    // A checkout retried on the survivor found the session its first attempt made: no second one at Subotiz.
    expect(await sessionsAtSubotiz()).toBe(sessionsBefore + 8);

    const ids = [...opened, ...retried].map((c) => c.subscriptionId);
    await waitForStatus(ids, 'ACTIVE');
    await expectEachWebhookProcessedOnce();
    const eventIds = await allEventsOnKafka();

    // One effect per idempotency key: each call answered as the one that created its customer, and one event each.
    expect([...answered].filter(([, created]) => !created)).toEqual([]);
    expect(await count("SELECT count(*) AS n FROM idempotency_keys WHERE key LIKE 'kill-%' AND state = 'DONE'")).toBe(
      keys.length + retried.length,
    );
    const perKey = await query<{ external_ref: string; n: string }>(
      "SELECT external_ref, count(*) AS n FROM customers WHERE external_ref LIKE 'kill-customer-%' GROUP BY 1",
    );
    expect(perKey.filter((r) => r.n !== '1')).toEqual([]);
    expect(perKey).toHaveLength(keys.length);
    expect(
      await count(`SELECT count(*) AS n FROM customers c WHERE (SELECT count(*) FROM outbox o
        WHERE o.aggregate_id = c.id AND o.type = 'billing.customer.created') <> 1`),
    ).toBe(0);
    expect(await notOnce(ids, 'billing.subscription.activated')).toEqual([]);
    expect(onKafkaOnce(ids, 'billing.subscription.activated')).toBe(ids.length);
    // Sent again after the kill is allowed (at least once); out of order, once a consumer drops repeats, is not.
    expect(outOfOrder(collector.messages)).toEqual([]);

    // Measured, not asserted: how long nothing was published after the kill, and what was sent twice.
    const sentAfter = collector.messages.map((m) => m.timestamp).filter((at) => at >= killedAt);
    const firstAfter = sentAfter.length ? Math.min(...sentAfter) : undefined;
    console.info(
      `two replicas, kill -9 of ${victim.name} (relay lease holder): ${backlogAtKill} events unpublished at the kill; ` +
        `first send after it ${firstAfter === undefined ? 'none' : firstAfter - killedAt} ms later; ` +
        `${collector.messages.length - new Set(collector.messages.map((m) => m.headers.ce_id)).size} of ` +
        `${eventIds.length} events on Kafka twice; ${balancer.delivered.join('/')} webhook deliveries A/B`,
    );
  });

  /** Creates `request` on `replica`; the customer's id. */
  async function createCustomer(replica: Replica, request: CreateCustomerRequest): Promise<string> {
    return (await createCustomerKeyed(replica, request)).customer!.id;
  }

  /** CreateCustomer on `replica`; with a key, as an idempotent call. */
  function createCustomerKeyed(replica: Replica, request: CreateCustomerRequest, key?: string) {
    const metadata = { ...asTenantA, ...(key ? { 'idempotency-key': key } : {}) };
    return call(replica.clients.customers, replica.clients.customers.createCustomer, request, metadata);
  }

  /** Sends until the key is free: ABORTED while the dead replica's claim on it holds (until its lease ends). */
  async function onSurvivor<T>(send: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      try {
        return await send();
      } catch (error) {
        if ((error as grpc.ServiceError).code !== grpc.status.ABORTED || Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
  }

  /** A subscription checkout for `customerId` on `replica` (with `key`, an idempotent call). */
  async function openCheckout(replica: Replica, customerId: string, key?: string) {
    const { subscriptions } = replica.clients;
    const checkout = await call(
      subscriptions,
      subscriptions.createCheckoutSession,
      subscriptionCheckout(STOREFRONT, customerId, planId),
      { ...asTenantA, ...(key ? { 'idempotency-key': key } : {}) },
    );
    return { subscriptionId: checkout.subscription!.id, providerRef: checkout.checkoutSession!.providerRef };
  }

  async function sessionsAtSubotiz(): Promise<number> {
    return (await emulatorControl<{ sessions: number }>(emulator.url, '/state')).sessions;
  }

  /** Checkouts opened on alternating replicas and paid at Subotiz; their subscriptions' ids. */
  async function checkoutsPaidAtSubotiz(customerIds: string[]): Promise<string[]> {
    const opened = await Promise.all(customerIds.map((c, i) => openCheckout(replicaFor(i), c)));
    await Promise.all(opened.map((c) => emulatorControl(emulator.url, `/sessions/${c.providerRef}/complete`, {})));
    return opened.map((c) => c.subscriptionId);
  }
});

/**
 * Where a key's ce_sequence does not rise from one message to the next on its topic partition, in the order a
 * consumer reads them, skipping a ce_id it has seen (a consumer's dedupe: at-least-once resends are allowed).
 */
function outOfOrder(messages: ReceivedMessage[]): string[] {
  const seen = new Set<string>();
  const last = new Map<string, bigint>();
  const problems: string[] = [];
  for (const m of messages) {
    if (seen.has(m.headers.ce_id!)) continue;
    seen.add(m.headers.ce_id!);
    const slot = `${m.topic}[${m.partition}] ${m.key}`;
    const sequence = BigInt(m.headers.ce_sequence!);
    const before = last.get(slot);
    if (before !== undefined && sequence <= before) problems.push(`${slot}: ${sequence} after ${before}`);
    last.set(slot, sequence);
  }
  return problems;
}

/** Events this replica's relay has published (its /metrics counter). */
async function publishedBy(replica: Replica): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.process.ports.http}/metrics`)).text();
  return Number(/^billing_outbox_published_total (\S+)$/m.exec(text)?.[1] ?? 0);
}

/**
 * The load balancer in front of both replicas' webhook ingress: deliveries go to each in turn, and to the other
 * when that one cannot be reached. Each delivery is also copied to the other replica, as a provider's redelivery
 * could land there, so both take in every webhook and only the inbox's unique key keeps it to one.
 */
class WebhookBalancer {
  /** Deliveries answered by each replica. */
  readonly delivered = [0, 0];
  private turn = 0;

  private readonly server: Server = createServer((req, res) => void this.forward(req, res));

  private constructor(
    private readonly targets: ServicePorts[],
    readonly url: string,
  ) {}

  static async start(targets: ServicePorts[]): Promise<WebhookBalancer> {
    const port = await freePort();
    const balancer = new WebhookBalancer(targets, `http://127.0.0.1:${port}`);
    await new Promise<void>((resolve) => balancer.server.listen(port, '127.0.0.1', resolve));
    return balancer;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const first = this.turn++ % 2;
    const order = [first, 1 - first];
    const copy = this.post(order[1]!, req, body).catch(() => undefined);
    for (const target of order) {
      try {
        const answer = await this.post(target, req, body);
        this.delivered[target]! += 1;
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
        await copy;
        return;
      } catch {
        // Unreachable (killed): the next replica takes it.
      }
    }
    await copy;
    res.writeHead(502).end();
  }

  private post(target: number, req: IncomingMessage, body: Buffer): Promise<{ status: number; body: Buffer }> {
    const { host: _host, ...headers } = req.headers;
    return new Promise((resolve, reject) => {
      const out = request(
        { host: '127.0.0.1', port: this.targets[target]!.http, path: req.url, method: req.method, headers },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (part: Buffer) => parts.push(part));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, body: Buffer.concat(parts) }));
          answer.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}

function connect(port: number): Clients {
  const address = `127.0.0.1:${port}`;
  const credentials = grpc.credentials.createInsecure();
  return {
    storefronts: new StorefrontServiceClient(address, credentials),
    catalog: new CatalogServiceClient(address, credentials),
    customers: new CustomerServiceClient(address, credentials),
    subscriptions: new SubscriptionServiceClient(address, credentials),
  };
}

/** The storefront, bound to the emulator through both replicas' shared secrets, and its plan; the plan's id. */
async function seed(clients: Clients, emulatorUrl: string): Promise<string> {
  await call(
    clients.storefronts,
    clients.storefronts.createStorefront,
    storefrontRequest(STOREFRONT, {
      providerConfig: { base_url: emulatorUrl, auth_mode: 'bearer', sub_merchant_id: 'm-replicas' },
      secretRefs: {
        api_key: 'env:BILLING_SECRET_TENANT_A_SUBOTIZ_API_KEY',
        access_no: 'env:BILLING_SECRET_TENANT_A_SUBOTIZ_ACCESS_NO',
        webhook_secret: 'env:BILLING_SECRET_TENANT_A_SUBOTIZ_WEBHOOK_SECRET',
      },
    }),
    asTenantA,
  );
  const { plan } = await call(
    clients.catalog,
    clients.catalog.createPlan,
    {
      storefrontId: STOREFRONT,
      name: 'Replicas monthly',
      price: { currencyCode: 'EUR', amountMinor: 999n, amountDecimal: '' },
      interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
      trialDays: 0,
      featureKeys: ['pro'],
      providerRefs: { subotiz: 'price_replicas' },
    },
    asTenantA,
  );
  return plan!.id;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
