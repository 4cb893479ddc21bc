import { Kafka, logLevel } from 'kafkajs';
import { startDemoService, type BillingCli } from '../support/billing-cli';
import { eventually } from '../support/eventually';
import { brokersFromEnv } from '../support/kafka-collector';
import type { TestService } from '../support/test-service';

/**
 * The `billing` CLI end to end, as a user runs it: a child process per command against the real service (the demo
 * storefronts and their emulators, on PostgreSQL), configured only through BILLING_* variables.
 */
describe('the billing CLI', () => {
  let world: Awaited<ReturnType<typeof startDemoService>> | undefined;
  let service: TestService;
  let cli: BillingCli;
  const billing = (...args: string[]) => cli.run(...args);
  const json = <T = Record<string, unknown>>(...args: string[]) => cli.json<T>(...args);

  beforeAll(async () => {
    world = await startDemoService({ KAFKA_BROKERS: brokersFromEnv().join(',') });
    service = world.service;
    cli = world.cli;
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  async function basicPlan(storefront: string): Promise<{ id: string; featureKeys: string[] }> {
    const { plans } = await json<{ plans: { id: string; name: string; featureKeys: string[] }[] }>(
      'plans',
      'list',
      '--storefront',
      storefront,
    );
    return plans.find((p) => p.name === 'Basic monthly')!;
  }

  /** `billing events tail` on the service's own topics, from the beginning; --idle-seconds ends a tail that waits in vain. */
  function tail(...args: string[]) {
    const kafka = ['--topic-prefix', service.topicPrefix, '--brokers', brokersFromEnv().join(',')];
    return billing('events', 'tail', '--from-beginning', ...kafka, '--idle-seconds', '20', ...args);
  }

  /** The SEQ and TYPE columns of tail's lines for people. */
  function tailed(stdout: string): { sequence: number; type: string }[] {
    return stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/))
      .map(([, sequence, type]) => ({ sequence: Number(sequence), type: type! }));
  }

  async function statusOf(subscriptionId: string): Promise<string> {
    const { subscription } = await json<{ subscription: { status: string } }>('subscriptions', 'get', subscriptionId);
    return subscription.status;
  }

  it('lists the demo storefronts for people', async () => {
    const ran = await billing('storefronts', 'list');
    expect(ran.code).toBe(0);
    expect(ran.stdout.split('\n')[0]).toMatch(/^ID\s+TENANT\s+PROVIDER/);
    for (const id of ['demo-subotiz', 'demo-paytiko', 'demo-azotte']) expect(ran.stdout).toContain(id);
  }, 60_000);

  it('walks customer → checkout → complete on the emulator → ACTIVE → events → cancel', async () => {
    const plan = await basicPlan('demo-subotiz');
    const { customer } = await json<{ customer: { id: string } }>(
      ...['customers', 'create', '--storefront', 'demo-subotiz', '--email', 'ada@example.com', '--name', 'Ada'],
      ...['--country', 'DE'],
    );
    expect(customer.id).toMatch(/^cus_/);

    const created = await billing(
      ...['checkout', 'create', '--storefront', 'demo-subotiz', '--customer', customer.id, '--plan', plan.id],
    );
    expect(created.code).toBe(0);
    const session = /^checkout session:\s+(\S+)$/m.exec(created.stdout)![1]!;
    const subscriptionId = /^subscription:\s+(\S+)$/m.exec(created.stdout)![1]!;
    expect(created.stdout).toMatch(/^pay at:\s+http/m);

    const paid = await billing('checkout', 'complete', '--storefront', 'demo-subotiz', '--session', session);
    expect(paid).toMatchObject({ code: 0, stderr: '' });
    await eventually(
      () => statusOf(subscriptionId),
      (s) => s === 'SUBSCRIPTION_STATUS_ACTIVE',
      30_000,
    );

    const shown = await billing('subscriptions', 'get', subscriptionId);
    expect(shown.stdout).toMatch(/^status:\s+ACTIVE$/m);
    const events = await billing('events', 'list', '--aggregate', subscriptionId);
    expect(events.code).toBe(0);
    expect(events.stdout).toContain('billing.subscription.created');
    expect(events.stdout).toContain('billing.subscription.activated');

    const lifecycle = ['--aggregate', subscriptionId, '--type', 'billing.subscription.'];
    const live = await tail(...lifecycle, '--count', '2');
    expect(live).toMatchObject({ code: 0, stderr: '' });
    expect(tailed(live.stdout).map((e) => e.type)).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
    ]);

    const feature = plan.featureKeys[0]!;
    const granted = await json<{ granted: boolean }>(
      ...['entitlements', 'check', '--customer', customer.id, '--feature', feature],
    );
    expect(granted.granted).toBe(true);

    const canceled = await billing('subscriptions', 'cancel', subscriptionId);
    expect(canceled.code).toBe(0);
    await eventually(
      () => statusOf(subscriptionId),
      (s) => s === 'SUBSCRIPTION_STATUS_CANCELED',
      30_000,
    );

    const afterCancel = await tail(...lifecycle, '--count', '3');
    expect(afterCancel).toMatchObject({ code: 0, stderr: '' });
    const lines = tailed(afterCancel.stdout);
    expect(lines.map((e) => e.type)).toEqual([
      'billing.subscription.created',
      'billing.subscription.activated',
      'billing.subscription.canceled',
    ]);
    const sequences = lines.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(afterCancel.stdout).toMatch(/billing\.subscription\.canceled\s+sub_\S+\s+CANCELED plan=plan_/);

    const ndjson = await tail(...lifecycle, '--count', '3', '--json');
    expect(ndjson).toMatchObject({ code: 0, stderr: '' });
    const records = ndjson.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { headers: { ce_id: string; ce_sequence: string }; key: string; event: { type: string } },
      );
    expect(records.map((r) => r.event.type)).toEqual(lines.map((e) => e.type));
    expect(records.map((r) => Number(r.headers.ce_sequence))).toEqual(sequences);
    for (const r of records) {
      expect(r.headers.ce_id).toMatch(/^evt_/);
      expect(r.key).toBe(subscriptionId);
    }
  }, 180_000);

  it('tells in one line that Kafka cannot be reached, naming the brokers', async () => {
    const ran = await billing('events', 'tail', '--brokers', '127.0.0.1:1', '--idle-seconds', '2');
    expect(ran.code).toBe(1);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(/^error: .*127\.0\.0\.1:1.*\n$/);
  }, 60_000);

  it('refuses to tail a topic prefix with no billing topics, naming the prefixes there are, and creates none', async () => {
    const mistyped = `${service.topicPrefix}x`;
    const brokers = brokersFromEnv();
    const ran = await billing(
      ...['events', 'tail', '--topic-prefix', mistyped, '--brokers', brokers.join(','), '--idle-seconds', '5'],
    );
    expect(ran.code).toBe(1);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toContain(`no billing topics under --topic-prefix '${mistyped}'`);
    expect(ran.stderr).toContain(service.topicPrefix);
    const admin = new Kafka({ clientId: 'cli-test', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      expect((await admin.listTopics()).filter((topic) => topic.startsWith(`${mistyped}.`))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  }, 60_000);

  it('pays a server-to-server checkout with a stored payment method', async () => {
    const plan = await basicPlan('demo-azotte');
    const { customer } = await json<{ customer: { id: string } }>(
      ...['customers', 'create', '--storefront', 'demo-azotte', '--email', 'lin@example.com', '--name', 'Lin Lee'],
    );
    const created = await json<{ subscription: { id: string }; checkoutSession: { id: string } }>(
      ...['checkout', 'create', '--storefront', 'demo-azotte', '--customer', customer.id, '--plan', plan.id],
      ...['--payment-method-ref', 'pm.test.visa'],
    );
    // Nothing to press on a page; `complete` just reports the session.
    const complete = await billing(
      ...['checkout', 'complete', '--storefront', 'demo-azotte', '--session', created.checkoutSession.id],
    );
    expect(complete.code).toBe(0);
    await eventually(
      () => statusOf(created.subscription.id),
      (s) => s === 'SUBSCRIPTION_STATUS_ACTIVE',
      30_000,
    );
  }, 120_000);

  it('declines a hosted-page checkout on the emulator', async () => {
    const plan = await basicPlan('demo-paytiko');
    const { customer } = await json<{ customer: { id: string } }>(
      ...['customers', 'create', '--storefront', 'demo-paytiko', '--email', 'grace@example.com'],
      ...['--name', 'Grace Hopper', '--phone', '+14155550123', '--country', 'US'],
    );
    const created = await json<{ subscription: { id: string }; checkoutSession: { id: string } }>(
      ...['checkout', 'create', '--storefront', 'demo-paytiko', '--customer', customer.id, '--plan', plan.id],
    );
    const declined = await billing(
      ...['checkout', 'decline', '--storefront', 'demo-paytiko', '--session', created.checkoutSession.id],
    );
    expect(declined).toMatchObject({ code: 0, stderr: '' });
    const session = () =>
      json<{ checkoutSession: { status: string }; subscription: { status: string } }>(
        ...['checkout', 'get', '--session', created.checkoutSession.id],
      );
    const after = await session();
    expect(after.checkoutSession.status).not.toBe('CHECKOUT_SESSION_STATUS_COMPLETE');
    expect(after.subscription.status).not.toBe('SUBSCRIPTION_STATUS_ACTIVE');
    // A declined card leaves the checkout open for another try; paying it then activates the subscription.
    const paid = await billing(
      ...['checkout', 'complete', '--storefront', 'demo-paytiko', '--session', created.checkoutSession.id],
    );
    expect(paid.code).toBe(0);
    await eventually(
      () => statusOf(created.subscription.id),
      (s) => s === 'SUBSCRIPTION_STATUS_ACTIVE',
      30_000,
    );
  }, 120_000);

  it('prints one error line with the status and exits 1; usage mistakes exit 2', async () => {
    const missing = await billing('subscriptions', 'get', 'sub_does_not_exist');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: (NOT_FOUND|INVALID_ARGUMENT): .+\n$/);

    const invalid = await billing('customers', 'create', '--storefront', 'demo-subotiz', '--email', 'x', '--name', 'X');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: INVALID_ARGUMENT: .*email.*\n$/);

    expect((await billing('subscriptions', 'get')).code).toBe(2);
    expect((await billing('plans', 'list')).code).toBe(2);
    expect((await billing('nope')).code).toBe(2);
  }, 60_000);

  it('prints a new key and the API_KEYS_FILE entry that admits it', async () => {
    const { key, entry } = await json<{ key: string; entry: Record<string, string> }>(
      ...['keys', 'new', '--name', 'ci', '--tenant', 'acme', '--role', 'platform'],
    );
    const { createHash } = await import('node:crypto');
    expect(entry).toEqual({
      name: 'ci',
      tenant: 'acme',
      role: 'platform',
      key_sha256: createHash('sha256').update(key).digest('hex'),
    });
  }, 30_000);
});
