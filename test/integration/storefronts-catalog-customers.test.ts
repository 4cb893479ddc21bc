import { status } from '@grpc/grpc-js';
import { BillingEvent } from '../../src/gen/billing/v1/event';
import { PlanStatus } from '../../src/gen/billing/v1/catalog';
import {
  sampleAzotteBinding,
  createPlan,
  createStorefront,
  PAYTIKO_CONFIG,
  storefrontRequest,
} from '../support/fixtures';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { bearer, call, callError, startTestService, TEST_KEYS, TestService } from '../support/test-service';

describe('storefronts, plans and customers over gRPC on PostgreSQL', () => {
  let db: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url });
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  const events = async (aggregateId: string) =>
    (
      await call(service.clients.events, service.clients.events.listEvents, {
        storefrontId: '',
        aggregateId,
        types: [],
        since: undefined,
        until: undefined,
        pageSize: 100,
        pageToken: '',
      })
    ).events;

  it('creates, reads, lists and updates a storefront, refusing a duplicate id', async () => {
    const sf = service.clients.storefronts;
    const created = await createStorefront(sf, 'us-app', 'paytiko');
    expect(created).toMatchObject({ id: 'us-app', tenantId: 'tenant-a', defaultCurrency: 'EUR', version: 1n });
    expect(created.binding).toMatchObject({
      provider: 'paytiko',
      actor: TEST_KEYS.admin.name,
      secretRefs: { webhook_secret: 'env:BILLING_SECRET_TENANT_A_WEBHOOK_SECRET' },
    });

    const duplicate = await callError(
      sf,
      sf.createStorefront,
      storefrontRequest('us-app', { name: 'Another', provider: 'subotiz' }),
    );
    expect(duplicate.code).toBe(status.ALREADY_EXISTS);

    const updated = await call(sf, sf.updateStorefront, {
      storefrontId: 'us-app',
      name: 'US app',
      country: 'US',
      defaultCurrency: 'USD',
      providerConfig: { base_url: 'https://core.paytiko.com', ...PAYTIKO_CONFIG },
      replaceProviderConfig: true,
      secretRefs: {},
      replaceSecretRefs: false,
      expectedVersion: 1n,
    });
    expect(updated.storefront).toMatchObject({ name: 'US app', country: 'US', defaultCurrency: 'USD', version: 2n });
    expect(updated.storefront!.binding!.config).toEqual({ base_url: 'https://core.paytiko.com', ...PAYTIKO_CONFIG });

    const stale = await callError(sf, sf.updateStorefront, {
      storefrontId: 'us-app',
      name: 'Stale',
      providerConfig: {},
      replaceProviderConfig: false,
      secretRefs: {},
      replaceSecretRefs: false,
      expectedVersion: 1n,
    });
    expect(stale.code).toBe(status.FAILED_PRECONDITION);

    const got = await call(sf, sf.getStorefront, { storefrontId: 'us-app' });
    expect(got.storefront!.name).toBe('US app');
    expect((await events('us-app')).map((e) => e.type)).toEqual([
      'billing.storefront.created',
      'billing.storefront.updated',
    ]);
  });

  it('pages storefronts with an opaque cursor', async () => {
    const sf = service.clients.storefronts;
    for (const id of ['page-a', 'page-b', 'page-c']) await createStorefront(sf, id);
    const first = await call(sf, sf.listStorefronts, { tenantId: 'tenant-a', pageSize: 2, pageToken: '' });
    expect(first.storefronts).toHaveLength(2);
    expect(first.nextPageToken).not.toBe('');
    const rest = await call(sf, sf.listStorefronts, {
      tenantId: 'tenant-a',
      pageSize: 100,
      pageToken: first.nextPageToken,
    });
    const all = [...first.storefronts, ...rest.storefronts].map((s) => s.id);
    expect(all).toEqual([...all].sort());
    expect(new Set(all)).toEqual(new Set(['page-a', 'page-b', 'page-c', 'us-app']));
    expect(rest.nextPageToken).toBe('');
  });

  it('SwitchProvider refuses while an active plan lacks a reference, then switches and keeps the history', async () => {
    const sf = service.clients.storefronts;
    const catalog = service.clients.catalog;
    await createStorefront(sf, 'eu-web', 'subotiz');
    const plan = await createPlan(catalog, 'eu-web', { subotiz: 'price_123' });
    expect(plan.price).toEqual({ currencyCode: 'EUR', amountMinor: 1999n, amountDecimal: '19.99' });

    const refused = await callError(sf, sf.switchProvider, {
      storefrontId: 'eu-web',
      ...sampleAzotteBinding(),
      reason: 'cheaper fees',
    });
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toContain(plan.id);
    expect(refused.details).toContain('bundleUrn');

    await call(catalog, catalog.setPlanProviderReference, {
      planId: plan.id,
      provider: 'azotte',
      reference: 'urn:azotte:bundle:pro',
    });
    const switched = await call(
      sf,
      sf.switchProvider,
      {
        storefrontId: 'eu-web',
        ...sampleAzotteBinding(),
        reason: 'cheaper fees',
      },
      { ...bearer(TEST_KEYS.tenantAPlatform), 'x-actor': 'platform-team:alice' },
    );
    expect(switched.storefront!.binding).toMatchObject({
      provider: 'azotte',
      actor: TEST_KEYS.tenantAPlatform.name,
      reason: 'cheaper fees',
    });

    const { bindings } = await call(sf, sf.listProviderBindings, { storefrontId: 'eu-web' });
    expect(bindings.map((b) => b.provider)).toEqual(['subotiz', 'azotte']);
    expect(bindings[0]!.validUntil).toEqual(bindings[1]!.validFrom);
    expect(bindings[1]!.validUntil).toBeUndefined();

    const switchedEvent = (await events('eu-web')).find((e) => e.type === 'billing.storefront.provider_switched');
    expect(switchedEvent).toMatchObject({ actor: TEST_KEYS.tenantAPlatform.name, provider: 'azotte' });
    const audit = await withClient(db.url, (c) =>
      c.query("SELECT actor, details FROM audit_log WHERE action = 'SwitchProvider'"),
    );
    expect(audit.rows[0]).toMatchObject({
      // The authenticated caller is the actor; whom it says it acts for is recorded beside it.
      actor: TEST_KEYS.tenantAPlatform.name,
      details: { from: 'subotiz', to: 'azotte', reason: 'cheaper fees', on_behalf_of: 'platform-team:alice' },
    });
  });

  it('archives a plan once, emitting plan.archived, and hides it from the default list', async () => {
    const catalog = service.clients.catalog;
    await createStorefront(service.clients.storefronts, 'plans-store');
    const plan = await createPlan(catalog, 'plans-store');
    const archived = await call(catalog, catalog.archivePlan, { planId: plan.id });
    expect(archived.plan!.status).toBe(PlanStatus.PLAN_STATUS_ARCHIVED);
    await call(catalog, catalog.archivePlan, { planId: plan.id });
    expect((await events(plan.id)).map((e) => e.type)).toEqual(['billing.plan.created', 'billing.plan.archived']);
    const active = await call(catalog, catalog.listPlans, {
      storefrontId: 'plans-store',
      includeArchived: false,
      pageSize: 0,
      pageToken: '',
    });
    expect(active.plans).toHaveLength(0);
    const all = await call(catalog, catalog.listPlans, {
      storefrontId: 'plans-store',
      includeArchived: true,
      pageSize: 0,
      pageToken: '',
    });
    expect(all.plans.map((p) => p.id)).toEqual([plan.id]);
  });

  it('CreateCustomer is idempotent per storefront + email, case-insensitively', async () => {
    const c = service.clients.customers;
    await createStorefront(service.clients.storefronts, 'cust-store');
    const base = {
      storefrontId: 'cust-store',
      externalRef: 'u-1',
      name: 'Lin',
      phone: '',
      country: 'FR',
      address: undefined,
    };
    const first = await call(c, c.createCustomer, { ...base, email: 'lin@example.com' });
    const again = await call(c, c.createCustomer, { ...base, email: 'LIN@example.com' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, customer: { id: first.customer!.id } });
    const clash = await callError(c, c.createCustomer, { ...base, externalRef: 'u-2', email: 'lin@example.com' });
    expect(clash.code).toBe(status.ALREADY_EXISTS);
    expect((await events(first.customer!.id)).map((e) => e.type)).toEqual(['billing.customer.created']);
  });

  it('updates a customer, bumping its version and emitting customer.updated with the new state', async () => {
    const c = service.clients.customers;
    const { customer } = await call(c, c.createCustomer, {
      storefrontId: 'cust-store',
      externalRef: 'u-9',
      email: 'kim@example.com',
      name: 'Kim',
      phone: '',
      country: '',
      address: undefined,
    });
    const { customer: updated } = await call(c, c.updateCustomer, {
      customerId: customer!.id,
      phone: '+33612345678',
      address: { line1: '1 Rue', line2: '', city: 'Paris', region: '', postalCode: '75001', country: 'FR' },
    });
    expect(updated).toMatchObject({ name: 'Kim', phone: '+33612345678', version: 2n, address: { city: 'Paris' } });
    const last = (await events(customer!.id)).at(-1)!;
    expect(last).toMatchObject({ type: 'billing.customer.updated', sequence: 2n });
    expect(BillingEvent.toJSON(last)).toMatchObject({ customer: { phone: '+33612345678' } });

    const taken = await callError(c, c.updateCustomer, {
      customerId: customer!.id,
      email: 'lin@example.com',
      address: undefined,
    });
    expect(taken.code).toBe(status.ALREADY_EXISTS);
  });

  it('lists customers page by page with filters', async () => {
    const c = service.clients.customers;
    await createStorefront(service.clients.storefronts, 'many-store');
    for (let i = 0; i < 7; i++) {
      await call(c, c.createCustomer, {
        storefrontId: 'many-store',
        externalRef: `ext-${i % 2}`,
        email: `m${i}@example.com`,
        name: '',
        phone: '',
        country: '',
        address: undefined,
      });
    }
    const seen: string[] = [];
    let token = '';
    do {
      const page = await call(c, c.listCustomers, {
        storefrontId: 'many-store',
        email: '',
        externalRef: '',
        pageSize: 3,
        pageToken: token,
      });
      expect(page.customers.length).toBeLessThanOrEqual(3);
      seen.push(...page.customers.map((x) => x.email));
      token = page.nextPageToken;
    } while (token);
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `m${i}@example.com`));
    const filtered = await call(c, c.listCustomers, {
      storefrontId: 'many-store',
      email: '',
      externalRef: 'ext-1',
      pageSize: 0,
      pageToken: '',
    });
    expect(filtered.customers).toHaveLength(3);
    const badToken = await callError(c, c.listCustomers, {
      storefrontId: 'many-store',
      email: '',
      externalRef: '',
      pageSize: 3,
      pageToken: 'garbage',
    });
    expect(badToken.code).toBe(status.INVALID_ARGUMENT);
  });

  it('answers NOT_FOUND naming subscription_id for a subscription that does not exist', async () => {
    const s = service.clients.subscriptions;
    const error = await callError(s, s.getSubscription, { subscriptionId: 'sub_x' });
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toBe("subscription_id: subscription 'sub_x' not found");
  });
});
