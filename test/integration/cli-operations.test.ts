import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { billingCli, startDemoService, type BillingCli } from '../support/billing-cli';
import { eventually } from '../support/eventually';

interface Binding {
  provider: string;
  config: Record<string, string>;
  secretRefs: Record<string, string>;
}
interface StorefrontJson {
  storefront: { id: string; tenantId: string; binding: Binding };
}
interface SubscriptionJson {
  subscription: { id: string; status: string; planId: string; cancelAtPeriodEnd?: boolean };
}

/**
 * The operator's side of the `billing` CLI: storefronts and provider switches, the subscription lifecycle, the
 * emulator's clock and faults, dead letters, paging and error trailers. A child process per command against the
 * real service with the demo storefronts and their emulators, on PostgreSQL.
 */
describe('the billing CLI for operators', () => {
  let world: Awaited<ReturnType<typeof startDemoService>> | undefined;
  let cli: BillingCli;
  const billing = (...args: string[]) => cli.run(...args);
  const json = <T = Record<string, unknown>>(...args: string[]) => cli.json<T>(...args);

  beforeAll(async () => {
    world = await startDemoService();
    cli = world.cli;
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  async function planNamed(storefront: string, name: string): Promise<string> {
    const { plans } = await json<{ plans: { id: string; name: string }[] }>(
      'plans',
      'list',
      '--storefront',
      storefront,
    );
    return plans.find((p) => p.name === name)!.id;
  }

  function subscription(id: string): Promise<SubscriptionJson['subscription']> {
    return json<SubscriptionJson>('subscriptions', 'get', id).then((r) => r.subscription);
  }

  async function eventTypes(...filter: string[]): Promise<string[]> {
    const { events = [] } = await json<{ events?: { type: string }[] }>('events', 'list', ...filter);
    return events.map((e) => e.type);
  }

  /** `--config k=v ... --secret k=ref ...` for a binding. */
  function bindingFlags(binding: Binding): string[] {
    return [
      ...Object.entries(binding.config).flatMap(([k, v]) => ['--config', `${k}=${v}`]),
      ...Object.entries(binding.secretRefs).flatMap(([k, v]) => ['--secret', `${k}=${v}`]),
    ];
  }

  /** A demo-subotiz subscription paid on the emulator and ACTIVE. */
  async function activeSubotizSubscription(email: string): Promise<string> {
    const plan = await planNamed('demo-subotiz', 'Basic monthly');
    const { customer } = await json<{ customer: { id: string } }>(
      ...['customers', 'create', '--storefront', 'demo-subotiz', '--email', email, '--name', 'Ada'],
    );
    const created = await json<{ subscription: { id: string }; checkoutSession: { id: string } }>(
      ...['checkout', 'create', '--storefront', 'demo-subotiz', '--customer', customer.id, '--plan', plan],
    );
    const paid = await billing(
      ...['checkout', 'complete', '--storefront', 'demo-subotiz', '--session', created.checkoutSession.id],
    );
    expect(paid.code).toBe(0);
    await eventually(
      () => subscription(created.subscription.id),
      (s) => s.status === 'SUBSCRIPTION_STATUS_ACTIVE',
      30_000,
    );
    return created.subscription.id;
  }

  it('creates a storefront, shows its capabilities, switches it, and lists both bindings', async () => {
    const demo = await json<StorefrontJson>('storefronts', 'get', 'demo-subotiz');
    const paytiko = await json<StorefrontJson>('storefronts', 'get', 'demo-paytiko');

    const created = await billing(
      ...['storefronts', 'create', '--id', 'cli-shop', '--name', 'CLI shop', '--tenant', demo.storefront.tenantId],
      ...['--country', 'DE', '--currency', 'EUR', '--provider', 'subotiz', ...bindingFlags(demo.storefront.binding)],
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });

    const shown = await billing('storefronts', 'get', 'cli-shop');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^provider:\s+subotiz$/m);
    expect(shown.stdout).toMatch(/^config\.base_url:\s+http/m);
    expect(shown.stdout).toMatch(/^OPERATION\s+VARIANT\s+SUPPORT$/m);
    expect(shown.stdout).toMatch(/^CancelSubscription\s+at_period_end\s+NATIVE$/m);
    // An operation the provider lacks is not listed (it answers UNIMPLEMENTED).
    expect(shown.stdout).not.toMatch(/^ChangePlan\s/m);

    // demo-subotiz sells a plan with a trial, and Paytiko runs none: refused, with the plan named.
    const refused = await billing(
      ...['storefronts', 'switch', 'demo-subotiz', '--provider', 'paytiko', '--reason', 'move to Paytiko'],
      ...bindingFlags(paytiko.storefront.binding),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: FAILED_PRECONDITION: .*cannot switch to paytiko: .*trial.*plan_\S+.*\n$/);
    expect(refused.stdout).toBe('');

    // A storefront with no plans has nothing the new provider could not sell.
    const switched = await billing(
      ...['storefronts', 'switch', 'cli-shop', '--provider', 'paytiko', '--reason', 'move to Paytiko'],
      ...bindingFlags(paytiko.storefront.binding),
    );
    expect(switched).toMatchObject({ code: 0, stderr: '' });
    expect(switched.stdout).toMatch(/^provider:\s+paytiko$/m);
    expect(switched.stdout).toMatch(/^ChangePlan\s+NATIVE$/m);

    const bindings = await billing('storefronts', 'bindings', 'cli-shop');
    expect(bindings.code).toBe(0);
    const rows = bindings.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^PROVIDER\s+VALID FROM\s+VALID UNTIL\s+ACTOR\s+REASON$/);
    expect(rows[1]).toMatch(/^subotiz\s+\S+\s+\d{4}-\d\d-\d\dT\S+\s+\S+\s+created$/);
    expect(rows[2]).toMatch(/^paytiko\s+\S+\s+current\s+\S+\s+move to Paytiko$/);

    expect((await billing('storefronts', 'switch', 'cli-shop', '--provider', 'azotte')).code).toBe(2);
  }, 120_000);

  it('revokes a scheduled cancel, renews on the emulator clock, and records a failed renewal charge', async () => {
    const id = await activeSubotizSubscription('ada@example.com');
    const listed = await billing('subscriptions', 'list', '--storefront', 'demo-subotiz', '--status', 'active');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+ACTIVE\\s+demo-subotiz\\s`, 'm'));

    expect((await billing('subscriptions', 'cancel', id, '--at-period-end')).code).toBe(0);
    await eventually(
      () => subscription(id),
      (s) => s.cancelAtPeriodEnd === true,
      30_000,
    );
    const revoked = await json<SubscriptionJson>('subscriptions', 'revoke', id);
    expect(revoked.subscription.id).toBe(id);
    const after = await eventually(
      () => subscription(id),
      (s) => !s.cancelAtPeriodEnd,
      30_000,
    );
    expect(after.status).toBe('SUBSCRIPTION_STATUS_ACTIVE');

    const advanced = await billing('emulator', 'advance', '--storefront', 'demo-subotiz', '--days', '32');
    expect(advanced.code).toBe(0);
    expect(advanced.stdout).toMatch(/^offset \(seconds\):\s+2764800$/m);
    await eventually(
      () => eventTypes('--aggregate', id),
      (types) => types.includes('billing.subscription.renewed'),
      30_000,
    );
    const webhooks = await billing('emulator', 'webhooks', '--storefront', 'demo-subotiz');
    expect(webhooks.stdout).toMatch(/^EVENT\s+TYPE\s+TO\s+ATTEMPTS\s+DELIVERED/);
    expect(webhooks.stdout.trim().split('\n').length).toBeGreaterThan(2);

    const armed = await billing('emulator', 'fail-next', '--storefront', 'demo-subotiz', '--count', '1');
    expect(armed).toMatchObject({ code: 0, stderr: '' });
    expect((await billing('emulator', 'advance', '--storefront', 'demo-subotiz', '--days', '32')).code).toBe(0);
    await eventually(
      () => eventTypes('--storefront', 'demo-subotiz'),
      (types) => types.some((t) => /payment[._]failed$/.test(t)),
      30_000,
    );
    const clock = await json<{ offset_seconds: number }>('emulator', 'clock', '--storefront', 'demo-subotiz');
    expect(clock.offset_seconds).toBe(64 * 86_400);
    expect((await billing('emulator', 'clear-faults', '--storefront', 'demo-subotiz')).code).toBe(0);
  }, 180_000);

  it('gives up on an emulator that never answers, in one line naming the URL', async () => {
    // Accepts every request and never answers it, as a hung emulator would.
    let requests = 0;
    const silent = createServer(() => requests++);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const demo = await json<StorefrontJson>('storefronts', 'get', 'demo-subotiz');
      const binding = {
        ...demo.storefront.binding,
        config: { ...demo.storefront.binding.config, base_url: silentUrl },
      };
      const created = await billing(
        ...['storefronts', 'create', '--id', 'silent-shop', '--name', 'Silent', '--tenant', demo.storefront.tenantId],
        ...['--country', 'DE', '--currency', 'EUR', '--provider', 'subotiz', ...bindingFlags(binding)],
      );
      expect(created).toMatchObject({ code: 0, stderr: '' });

      const impatient = billingCli(world!.service, { BILLING_EMULATOR_TIMEOUT_MS: '500' });
      const ran = await impatient.run('emulator', 'clock', '--storefront', 'silent-shop');
      expect(ran).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: DEADLINE_EXCEEDED: emulator at ${silentUrl}/__emulator/clock: no answer within 500 ms\n`,
      });
      expect(requests).toBe(1);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  }, 60_000);

  it('changes the plan where the provider supports it', async () => {
    const basic = await planNamed('demo-azotte', 'Basic monthly');
    const pro = await planNamed('demo-azotte', 'Pro yearly');
    const { customer } = await json<{ customer: { id: string } }>(
      ...['customers', 'create', '--storefront', 'demo-azotte', '--email', 'lin@example.com', '--name', 'Lin Lee'],
    );
    const created = await json<{ subscription: { id: string } }>(
      ...['checkout', 'create', '--storefront', 'demo-azotte', '--customer', customer.id, '--plan', basic],
      ...['--payment-method-ref', 'pm.test.visa'],
    );
    const id = created.subscription.id;
    await eventually(
      () => subscription(id),
      (s) => s.status === 'SUBSCRIPTION_STATUS_ACTIVE',
      30_000,
    );
    const changed = await billing('subscriptions', 'change-plan', id, '--plan', pro);
    expect(changed).toMatchObject({ code: 0, stderr: '' });
    await eventually(
      () => subscription(id),
      (s) => s.planId === pro,
      30_000,
    );
    expect((await billing('subscriptions', 'change-plan', id)).code).toBe(2);
  }, 120_000);

  it('archives a plan: listed only with --archived, and no longer sold', async () => {
    const pro = await planNamed('demo-paytiko', 'Pro yearly');
    const archived = await billing('plans', 'archive', pro);
    expect(archived).toMatchObject({ code: 0, stderr: '' });
    expect(archived.stdout).toMatch(/^status:\s+ARCHIVED$/m);
    expect((await billing('plans', 'list', '--storefront', 'demo-paytiko')).stdout).not.toContain(pro);
    expect((await billing('plans', 'list', '--storefront', 'demo-paytiko', '--archived')).stdout).toContain(pro);

    const { customer } = await json<{ customer: { id: string } }>(
      ...['customers', 'create', '--storefront', 'demo-paytiko', '--email', 'ida@example.com', '--name', 'Ida Rhodes'],
      ...['--phone', '+14155550199', '--country', 'US'],
    );
    const refused = await billing(
      ...['checkout', 'create', '--storefront', 'demo-paytiko', '--customer', customer.id, '--plan', pro],
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: [A-Z_]+: .*\n$/);
  }, 60_000);

  it('lists dead letters and refuses to retry one that does not exist', async () => {
    const listed = await billing('dead-letters', 'list', '--kind', 'webhook');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+KIND\s+STOREFRONT\s+PROVIDER\s+TYPE\s+ATTEMPTS/);

    const retry = await billing('dead-letters', 'retry', 'dlq_nope');
    expect(retry.code).toBe(1);
    expect(retry.stderr).toMatch(/^error: NOT_FOUND: .*dlq_nope.*\n$/);
    const malformed = await billing('dead-letters', 'retry', 'nope');
    expect(malformed.stderr).toMatch(/^error: INVALID_ARGUMENT: .*dead_letter_id: .+\n$/);
    expect(malformed.stderr).not.toContain('(field:');
    expect((await billing('dead-letters', 'list', '--kind', 'letters')).code).toBe(2);
  }, 60_000);

  it('pages through a list one item at a time, or all at once', async () => {
    const emails = ['p1@example.com', 'p2@example.com', 'p3@example.com'];
    for (const email of emails) {
      await json('customers', 'create', '--storefront', 'demo-azotte', '--email', email, '--name', 'Page Reader');
    }
    const first = await billing('customers', 'list', '--storefront', 'demo-azotte', '--page-size', '1');
    expect(first.code).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    const token = /^next page: --page-token (\S+)$/.exec(lines[2]!)![1]!;

    const second = await json<{ customers: { email: string }[] }>(
      ...['customers', 'list', '--storefront', 'demo-azotte', '--page-size', '1', '--page-token', token],
    );
    expect(second.customers).toHaveLength(1);
    expect(lines[1]).not.toContain(second.customers[0]!.email);

    const all = await json<{ customers: { email: string }[]; nextPageToken?: string }>(
      ...['customers', 'list', '--storefront', 'demo-azotte', '--page-size', '1', '--all'],
    );
    expect(all.customers.map((c) => c.email)).toEqual(expect.arrayContaining(emails));
    expect(all.nextPageToken ?? '').toBe('');

    expect((await billing('customers', 'list', '--storefront', 'demo-azotte', '--page-size', '0')).code).toBe(2);
  }, 60_000);

  it('names the broken field and rule on the error line, once', async () => {
    const invalid = await billing('customers', 'create', '--storefront', 'demo-subotiz', '--email', 'x', '--name', 'X');
    expect(invalid.code).toBe(1);
    // The service's message already says the field and its rule, so no "(field: …, rule: …)" repeats them.
    expect(invalid.stderr).toMatch(/^error: INVALID_ARGUMENT: email: \S.*\n$/);
    expect(invalid.stderr).not.toContain('(field:');
  }, 30_000);

  it('shows the usage, and each group its verbs', async () => {
    const help = await billing('help');
    expect(help.code).toBe(0);
    for (const line of ['storefronts switch ID', 'subscriptions change-plan ID', 'dead-letters retry ID']) {
      expect(help.stdout).toContain(line);
    }
    expect(help.stdout).toContain('emulator advance --storefront S');

    const group = await billing('subscriptions');
    expect(group.code).toBe(2);
    const verbs = group.stdout.split('\n').filter((line) => line.startsWith('  '));
    expect(verbs.length).toBeGreaterThanOrEqual(7);
    expect(verbs.every((line) => line.startsWith('  subscriptions '))).toBe(true);
    expect(group.stdout).toContain('subscriptions revoke ID');
    expect(group.stdout).not.toContain('storefronts');

    const events = await billing('events', '--help');
    expect(events.code).toBe(0);
    expect(events.stdout).toContain('events tail [--storefront S]');
    for (const env of ['BILLING_KAFKA_BROKERS', 'BILLING_TOPIC_PREFIX']) expect(events.stdout).toContain(env);
  }, 30_000);
});
