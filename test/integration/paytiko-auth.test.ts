import { status as GrpcStatus } from '@grpc/grpc-js';
import pino from 'pino';
import type { Clock } from '../../src/ports/clock.port';
import { PAYTIKO_CREDENTIALS, paytikoWorld, PaytikoWorld } from '../support/paytiko-world';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, callError, startTestService, TestService } from '../support/test-service';

/**
 * What Paytiko must never see, and what our logs must never show: input Paytiko would refuse is refused by us first
 * (INVALID_ARGUMENT naming our field, no request sent), and its bearer token is renewed before it expires by our
 * clock, or once when Paytiko answers 401 (expired by its clock, or revoked in the middle of a call), with the token
 * and the password in no log line.
 */
describe('Paytiko: validation before any call, and JWT auth', () => {
  let db: TestDatabase;
  let service: TestService;
  let w: PaytikoWorld;
  const logLines: string[] = [];
  let offsetMs = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };

  beforeAll(async () => {
    db = await createTestDatabase();
    // Everything the service logs, at its most verbose.
    const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS }, { clock, logger });
    w = await paytikoWorld(service, { storefrontId: 'paytiko-auth' });
  });

  afterAll(async () => {
    await w?.close();
    await service?.close();
    await db?.drop();
  });

  const subs = () => service.clients.subscriptions;
  const customer = async (name: string, phone: string) => {
    const customers = service.clients.customers;
    const created = await call(customers, customers.createCustomer, {
      storefrontId: w.storefrontId,
      externalRef: `user-${name.replace(/\W/g, '')}-${phone.length}`,
      email: `${name.replace(/\W/g, '')}${phone.length}@example.com`,
      name,
      phone,
      country: 'DE',
      address: undefined,
    });
    return created.customer!.id;
  };
  /** Every token our adapter sent, the API user's password and the webhook secret. */
  const secrets = () => [...w.bearerTokens, PAYTIKO_CREDENTIALS.password, PAYTIKO_CREDENTIALS.secretKey];
  const seen = () => w.requests.map((r) => `${r.method} ${r.path.replace(/mmbrshp_\w+/, '{key}')} ${r.status}`);

  describe('input Paytiko would refuse: INVALID_ARGUMENT naming the field, and Paytiko saw nothing', () => {
    beforeEach(() => {
      w.requests.length = 0;
    });

    it.each([
      ['a one-word name', 'Ada', '+4915112345678', 'customer.name'],
      ['no phone', 'Ada Lovelace', '', 'customer.phone'],
      ['a name Paytiko would refuse (a digit in it)', 'Ada L0velace', '+4915112345678', 'customer.name'],
    ])('a customer with %s', async (_, name, phone, field) => {
      const customerId = await customer(name, phone);
      const error = await callError(subs(), subs().createCheckoutSession, w.checkoutRequest({ customerId }));
      expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.details).toContain(field);
      expect(w.requests).toEqual([]);
    });

    it('a success_url over plain http to a public host', async () => {
      const error = await callError(
        subs(),
        subs().createCheckoutSession,
        w.checkoutRequest({ successUrl: 'http://example.com/thanks' }),
      );
      expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.details).toContain('success_url');
      expect(w.requests).toEqual([]);
    });
  });

  describe('the bearer token', () => {
    const checkout = async () => (await w.checkout()).checkoutSession!.url;

    beforeAll(async () => {
      // Tokens live a minute from now on; whatever token we hold is forgotten, so the next one is such.
      await w.tokenTtl(60);
      await w.revokeTokens();
      await checkout();
    });

    beforeEach(() => {
      w.requests.length = 0;
    });

    it('expired by Paytiko’s clock before ours says so: one 401, one new token, the call succeeds', async () => {
      await w.advanceClock(120);
      expect(await checkout()).toContain('/hosted/checkout/');
      expect(seen()).toEqual([
        'POST /membership 401',
        'POST /auth 200',
        'POST /membership 200',
        'POST /checkout/session 200',
      ]);
    });

    it('close to its expiry by our clock: renewed before the call, no 401', async () => {
      // The last token was issued a moment ago (by Paytiko's clock); ours moves to 2 s before its end.
      offsetMs = (await w.now()).getTime() + 58_000 - Date.now();
      expect(await checkout()).toContain('/hosted/checkout/');
      expect(seen()).toEqual(['POST /auth 200', 'POST /membership 200', 'POST /checkout/session 200']);
    });

    it('revoked in the middle of a call: one 401, one new token, the call succeeds', async () => {
      w.beforeNextRequest('POST', '/checkout/session', () => w.revokeTokens());
      expect(await checkout()).toContain('/hosted/checkout/');
      expect(seen()).toEqual([
        'POST /membership 200',
        'POST /checkout/session 401',
        'POST /auth 200',
        'POST /checkout/session 200',
      ]);
      // The new token serves the next call as it is.
      w.requests.length = 0;
      await checkout();
      expect(seen()).toEqual(['POST /membership 200', 'POST /checkout/session 200']);
    });

    it('refused twice (a fresh token too): UNAVAILABLE naming the credentials, not showing them', async () => {
      await w.control('/faults', { status: 401, count: 2, path: '/checkout/session' });
      const error = await callError(subs(), subs().createCheckoutSession, w.checkoutRequest());
      expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(error.details).toContain('username/password');
      expect(seen()).toEqual([
        'POST /membership 200',
        'POST /checkout/session 401',
        'POST /auth 200',
        'POST /checkout/session 401',
      ]);
      for (const secret of secrets()) expect(error.details).not.toContain(secret);
    });

    it('appears in no log line, and neither does the password', () => {
      // Tokens of every call above, a revoked and an expired one among them.
      expect(w.bearerTokens.size).toBeGreaterThanOrEqual(4);
      const logs = logLines.join('');
      // What the service logged of the calls above, the refused one included: the check below is not vacuous.
      expect(logs).toContain('username/password');
      for (const secret of secrets()) expect(logs).not.toContain(secret);
    });
  });
});
