import { Metadata, ServiceError, status } from '@grpc/grpc-js';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import { MAX_REQUEST_BYTES } from '../../src/grpc/server';
import { createStorefront, storefrontRequest } from '../support/fixtures';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { bearer, callError, startTestService, TEST_KEYS, TestService } from '../support/test-service';

describe('bad input gets a clear error naming the field, and writes nothing', () => {
  let db: TestDatabase;
  let service: TestService;

  const writes = () =>
    withClient(db.url, (c) =>
      c.query(`SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM plans)::int AS plans,
                      (SELECT count(*) FROM storefronts)::int AS storefronts, (SELECT count(*) FROM outbox)::int AS outbox,
                      (SELECT count(*) FROM audit_log)::int AS audit,
                      (SELECT count(*) FROM storefront_bindings)::int AS bindings,
                      (SELECT count(*) FROM idempotency_keys)::int AS idempotency_keys,
                      (SELECT count(*) FROM subscriptions)::int AS subscriptions,
                      (SELECT count(*) FROM payments)::int AS payments`),
    ).then((r) => r.rows[0]);

  let baseline: Record<string, number>;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url });
    await createStorefront(service.clients.storefronts, 'strict-store');
    baseline = await writes();
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  afterEach(async () => {
    expect(await writes()).toEqual(baseline);
  });

  const expectField = (error: ServiceError, code: status, field: string, text: string) => {
    expect(error.code).toBe(code);
    expect(error.metadata.get('error-field')).toEqual([field]);
    expect(error.details).toContain(field);
    expect(error.details).toContain(text);
  };

  const customer = {
    storefrontId: 'strict-store',
    externalRef: '',
    name: 'X',
    phone: '',
    country: '',
    address: undefined,
  };

  it('bad email → INVALID_ARGUMENT naming email', async () => {
    const c = service.clients.customers;
    const error = await callError(
      c,
      c.createCustomer,
      { ...customer, email: 'not-an-email' },
      { 'idempotency-key': 'bad-1' },
    );
    expectField(error, status.INVALID_ARGUMENT, 'email', 'must be a valid email address');
  });

  it('every bad field is named at once', async () => {
    const c = service.clients.customers;
    const error = await callError(c, c.createCustomer, {
      ...customer,
      email: 'a@b',
      phone: '0151 123',
      country: 'Germany',
    });
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/email: .*; phone: .*E\.164.*; country: .*ISO 3166/);
  });

  it('unknown storefront → NOT_FOUND naming storefront_id', async () => {
    const c = service.clients.customers;
    const error = await callError(c, c.createCustomer, {
      ...customer,
      storefrontId: 'no-such-store',
      email: 'a@example.com',
    });
    expectField(error, status.NOT_FOUND, 'storefront_id', "storefront 'no-such-store' not found");
  });

  const plan = {
    storefrontId: 'strict-store',
    name: 'Plan',
    interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
    trialDays: 0,
    featureKeys: [],
    providerRefs: {},
  };

  it('bad currency → INVALID_ARGUMENT naming price.currency_code', async () => {
    const c = service.clients.catalog;
    const error = await callError(c, c.createPlan, {
      ...plan,
      price: { currencyCode: 'EURO', amountMinor: 100n, amountDecimal: '' },
    });
    expectField(error, status.INVALID_ARGUMENT, 'price.currency_code', 'ISO 4217');
  });

  it('bad storefront currency → INVALID_ARGUMENT naming default_currency', async () => {
    const c = service.clients.storefronts;
    const error = await callError(c, c.createStorefront, storefrontRequest('other-store', { defaultCurrency: 'XYZ' }));
    expectField(error, status.INVALID_ARGUMENT, 'default_currency', 'ISO 4217');
  });

  it.each([
    ['EUR', '9.999', 2],
    ['JPY', '1500.5', 0],
    ['KWD', '1.2345', 3],
  ])(
    '%s amount %s is too precise → INVALID_ARGUMENT naming price.amount_decimal',
    async (currency, amount, exponent) => {
      const c = service.clients.catalog;
      const error = await callError(c, c.createPlan, {
        ...plan,
        price: { currencyCode: currency, amountMinor: 0n, amountDecimal: amount },
      });
      expectField(
        error,
        status.INVALID_ARGUMENT,
        'price.amount_decimal',
        `more decimal places than ${currency} allows (${exponent})`,
      );
    },
  );

  it('a secret pasted where a reference belongs is refused without echoing it', async () => {
    const c = service.clients.storefronts;
    const error = await callError(
      c,
      c.createStorefront,
      storefrontRequest('leaky-store', { secretRefs: { api_key: 'sk_live_supersecret' } }),
    );
    expectField(error, status.INVALID_ARGUMENT, 'secret_refs.api_key', 'must be a reference');
    expect(error.details).not.toContain('sk_live_supersecret');
  });

  it('unknown provider → INVALID_ARGUMENT naming provider and the known ones', async () => {
    const c = service.clients.storefronts;
    const error = await callError(c, c.switchProvider, {
      storefrontId: 'strict-store',
      provider: 'stripe',
      providerConfig: {},
      secretRefs: {},
      reason: 'try',
    });
    expectField(error, status.INVALID_ARGUMENT, 'provider', 'subotiz, paytiko, azotte');
  });

  describe('at the edge, before any I/O', () => {
    const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

    it('a non-ASCII id → INVALID_ARGUMENT naming customer_id, with ASCII trailers (it used to end the process)', async () => {
      const c = service.clients.customers;
      const error = await callError(c, c.getCustomer, { customerId: 'é' });
      expectField(error, status.INVALID_ARGUMENT, 'customer_id', 'must be an id like cus_');
      for (const key of ['error-field', 'error-rule', 'error-code']) {
        expect(String(error.metadata.get(key)[0])).toMatch(PRINTABLE_ASCII);
      }
    });

    it('a newline in free text and a NUL in a map key → INVALID_ARGUMENT naming both paths', async () => {
      const c = service.clients.customers;
      const error = await callError(c, c.createCustomer, {
        ...customer,
        email: 'a@example.com',
        address: { line1: 'Main St 1\nBerlin', line2: '', city: '', region: '', postalCode: '', country: '' },
      });
      expectField(error, status.INVALID_ARGUMENT, 'address.line1', 'without control characters');

      const s = service.clients.storefronts;
      const switched = await callError(s, s.switchProvider, {
        storefrontId: 'strict-store',
        provider: 'subotiz',
        providerConfig: { 'base\u0000url': 'x' },
        secretRefs: {},
        reason: 'try',
      });
      expectField(switched, status.INVALID_ARGUMENT, 'provider_config["base\\u0000url"]', 'key must be');
    });

    it('a value of half a MiB is refused with a short answer that does not echo it', async () => {
      const c = service.clients.customers;
      const error = await callError(c, c.createCustomer, {
        ...customer,
        email: 'a@example.com',
        name: 'x'.repeat(1 << 19),
      });
      expectField(error, status.INVALID_ARGUMENT, 'name', 'at most 1000 characters');
      expect(error.details.length).toBeLessThan(200);
    });

    it('money beyond 10^12 minor units and a time past year 9999 → INVALID_ARGUMENT', async () => {
      const c = service.clients.catalog;
      const error = await callError(c, c.createPlan, {
        ...plan,
        price: { currencyCode: 'EUR', amountMinor: 10n ** 15n, amountDecimal: '' },
      });
      expectField(error, status.INVALID_ARGUMENT, 'price.amount_minor', 'must be between');

      const e = service.clients.events;
      const late = await callError(e, e.listEvents, {
        storefrontId: '',
        aggregateId: '',
        types: [],
        since: new Date(Date.UTC(9999, 11, 31) + 2 * 86_400_000),
        until: undefined,
        pageSize: 0,
        pageToken: '',
      });
      expectField(late, status.INVALID_ARGUMENT, 'since', 'between years 1970 and 9999');
    });

    it('a forged page token → INVALID_ARGUMENT naming page_token', async () => {
      const c = service.clients.customers;
      const forged = Buffer.from("p1:x' OR '1'='1").toString('base64url');
      const error = await callError(c, c.listCustomers, {
        storefrontId: 'strict-store',
        email: '',
        externalRef: '',
        pageSize: 10,
        pageToken: forged,
      });
      expectField(error, status.INVALID_ARGUMENT, 'page_token', 'is not a token this API issued');
      const e = service.clients.events;
      const events = await callError(e, e.listEvents, {
        storefrontId: '',
        aggregateId: '',
        types: [],
        since: undefined,
        until: undefined,
        pageSize: 10,
        pageToken: Buffer.from('p1:cus_01').toString('base64url'),
      });
      expectField(events, status.INVALID_ARGUMENT, 'page_token', 'is not a token this API issued');
    });

    it('bytes that are not protobuf → INVALID_ARGUMENT naming the request, not INTERNAL', async () => {
      const c = service.clients.customers;
      const error = await new Promise<ServiceError>((resolve) =>
        c.makeUnaryRequest(
          '/billing.v1.CustomerService/GetCustomer',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0xff, 0xff, 0x03]),
          Metadata.fromHttp2Headers(bearer(TEST_KEYS.admin)),
          (e) => resolve(e!),
        ),
      );
      expectField(error, status.INVALID_ARGUMENT, 'request', 'is not a valid GetCustomerRequest protobuf message');
    });

    const sendBytes = (bytes: Buffer, metadata: Metadata) => {
      const c = service.clients.customers;
      return new Promise<ServiceError>((resolve) =>
        c.makeUnaryRequest(
          '/billing.v1.CustomerService/ListCustomers',
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          metadata,
          (e) => resolve(e!),
        ),
      );
    };

    it('a request from a caller without a key is not decoded: UNAUTHENTICATED, whatever its bytes', async () => {
      // Decoding is the sender's choice of cost (a packed field of a million entries, say): it waits for a caller.
      const error = await sendBytes(Buffer.from([0x0a, 0xff, 0xff, 0x03]), new Metadata());
      expect(error.code).toBe(status.UNAUTHENTICATED);
    });

    it('a request over 1 MiB → RESOURCE_EXHAUSTED before any of it is decoded', async () => {
      const bytes = Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x0a); // the size is checked before anything is decoded
      const error = await sendBytes(bytes, Metadata.fromHttp2Headers(bearer(TEST_KEYS.admin)));
      expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
    });
  });
});
