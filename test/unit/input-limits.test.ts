import type * as grpc from '@grpc/grpc-js';
import { CatalogServiceService } from '../../src/gen/billing/v1/catalog';
import { CustomerServiceService } from '../../src/gen/billing/v1/customer';
import { EntitlementServiceService } from '../../src/gen/billing/v1/entitlement';
import { EventServiceService } from '../../src/gen/billing/v1/event';
import { PaymentServiceService } from '../../src/gen/billing/v1/payment';
import { StorefrontServiceService } from '../../src/gen/billing/v1/storefront';
import { SubscriptionServiceService } from '../../src/gen/billing/v1/subscription';
import { findViolations } from '../../src/grpc/input-limits/limits-walker';
import { loadRequestSchemas, MessageSchema } from '../../src/grpc/input-limits/request-schema';

const schemas = loadRequestSchemas();
const DEFINITIONS: grpc.ServiceDefinition[] = [
  StorefrontServiceService,
  CatalogServiceService,
  CustomerServiceService,
  SubscriptionServiceService,
  PaymentServiceService,
  EntitlementServiceService,
  EventServiceService,
];
const methods = DEFINITIONS.flatMap((d) => Object.values(d)).map((m) => [m.path.slice(1), m] as const);

const schemaOf = (path: string): MessageSchema => schemas.get(path)!;
const decodeEmpty = (path: string) => methods.find(([p]) => p === path)![1].requestDeserialize(Buffer.alloc(0));

const customer = (overrides: Record<string, unknown> = {}) => ({
  ...(decodeEmpty('billing.v1.CustomerService/CreateCustomer') as object),
  storefrontId: 'eu-web',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  address: { line1: 'Main St 1', line2: '', city: 'Berlin', region: '', postalCode: '10115', country: 'DE' },
  ...overrides,
});
const violationsOfCustomer = (overrides: Record<string, unknown>) =>
  findViolations(customer(overrides), schemaOf('billing.v1.CustomerService/CreateCustomer'));

describe('input limits, declared once, on every field of every request', () => {
  it.each(methods.map(([path]) => [path]))(
    '%s has a schema whose fields are the properties ts-proto decodes',
    (path) => {
      const schema = schemaOf(path);
      expect(schema).toBeDefined();
      const decoded = decodeEmpty(path) as Record<string, unknown>;
      expect(schema.fields.map((f) => f.key).sort()).toEqual(Object.keys(decoded).sort());
      expect(findViolations(decoded, schema)).toEqual([]);
    },
  );

  it('lets a well-formed request through', () => {
    expect(violationsOfCustomer({})).toEqual([]);
  });

  it.each([
    ['customer_id', 'é', 'billing.v1.CustomerService/GetCustomer', { customerId: 'é' }],
    ['customer_id', 'a NUL', 'billing.v1.CustomerService/GetCustomer', { customerId: 'cus_01\u0000' }],
    ['storefront_id', 'an upper-case slug', 'billing.v1.StorefrontService/GetStorefront', { storefrontId: 'EU' }],
  ])('refuses %s with %s', (field, _what, path, request) => {
    const violations = findViolations({ ...(decodeEmpty(path) as object), ...request }, schemaOf(path));
    expect(violations.map((v) => v.field)).toEqual([field]);
  });

  it('names nested fields by their snake_case path', () => {
    const violations = violationsOfCustomer({
      address: {
        line1: 'Main St 1\nBerlin',
        line2: '',
        city: '',
        region: '',
        postalCode: 'x'.repeat(1_048_576),
        country: '',
      },
    });
    expect(violations).toEqual([
      { field: 'address.line1', rule: 'must be at most 1000 characters without control characters' },
      { field: 'address.postal_code', rule: 'must be at most 1000 characters without control characters' },
    ]);
  });

  const plan = (overrides: Record<string, unknown>) =>
    findViolations(
      {
        ...(decodeEmpty('billing.v1.CatalogService/CreatePlan') as object),
        storefrontId: 'eu-web',
        name: 'Basic',
        price: { currencyCode: 'EUR', amountMinor: 999n, amountDecimal: '' },
        interval: { unit: 3, count: 1 },
        ...overrides,
      },
      schemaOf('billing.v1.CatalogService/CreatePlan'),
    );

  it('bounds money, integers, enums and list sizes', () => {
    expect(plan({})).toEqual([]);
    expect(plan({ price: { currencyCode: 'EUR', amountMinor: 10n ** 12n + 1n, amountDecimal: '' } })).toEqual([
      { field: 'price.amount_minor', rule: 'must be between -1000000000000 and 1000000000000' },
    ]);
    expect(plan({ interval: { unit: 99, count: 2 ** 31 - 1 } }).map((v) => v.field)).toEqual([
      'interval.unit',
      'interval.count',
    ]);
    expect(plan({ featureKeys: Array.from({ length: 10_000 }, (_, i) => `f${i}`) })).toEqual([
      { field: 'feature_keys', rule: 'must have at most 50 entries' },
    ]);
    expect(plan({ featureKeys: ['ok', 'not ok'] }).map((v) => v.field)).toEqual(['feature_keys[1]']);
  });

  it('checks map keys and values, naming the entry', () => {
    const storefront = (providerConfig: Record<string, string>) =>
      findViolations(
        {
          ...(decodeEmpty('billing.v1.StorefrontService/SwitchProvider') as object),
          storefrontId: 's',
          providerConfig,
        },
        schemaOf('billing.v1.StorefrontService/SwitchProvider'),
      );
    expect(storefront({ base_url: 'https://api.example.com' })).toEqual([]);
    expect(storefront({ 'x\u0000': 'v' })).toEqual([
      { field: 'provider_config["x\\u0000"]', rule: expect.stringMatching(/^key must be/) },
    ]);
    expect(storefront({ x: 'é' })).toEqual([
      { field: 'provider_config["x"]', rule: 'must be at most 1000 printable ASCII characters' },
    ]);
  });

  it('keeps int64 and timestamps in range', () => {
    const usage = (overrides: Record<string, unknown>) =>
      findViolations(
        {
          ...(decodeEmpty('billing.v1.SubscriptionService/RecordUsage') as object),
          subscriptionId: 'sub_1',
          ...overrides,
        },
        schemaOf('billing.v1.SubscriptionService/RecordUsage'),
      );
    expect(usage({ quantity: 5n, timestamp: new Date('2026-01-01T00:00:00Z') })).toEqual([]);
    expect(usage({ quantity: 2n ** 63n - 1n }).map((v) => v.field)).toEqual(['quantity']);
    expect(usage({ timestamp: new Date(1e12 * 1000) }).map((v) => v.field)).toEqual(['timestamp']);
    expect(usage({ timestamp: new Date(-1) }).map((v) => v.field)).toEqual(['timestamp']);
    expect(usage({ timestamp: new Date(NaN) }).map((v) => v.field)).toEqual(['timestamp']);
  });

  it('stops after ten violations, however many fields are bad', () => {
    const bad = 'é\u0000';
    const violations = violationsOfCustomer({
      storefrontId: bad,
      externalRef: bad,
      email: bad,
      name: bad,
      phone: bad,
      country: bad,
      address: { line1: bad, line2: bad, city: bad, region: bad, postalCode: bad, country: bad },
    });
    expect(violations).toHaveLength(10);
  });
});
