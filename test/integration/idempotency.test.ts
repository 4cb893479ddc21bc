import { ServiceError, status } from '@grpc/grpc-js';
import { Client } from 'pg';
import { createHash } from 'node:crypto';
import { CreateCustomerRequest, CreateCustomerResponse } from '../../src/gen/billing/v1/customer';
import { IdempotencyGuard } from '../../src/grpc/idempotency-guard';
import { IdempotencyStore } from '../../src/store/idempotency-store';
import { createStorefront } from '../support/fixtures';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, callError, callWithTrailers, startTestService, TEST_KEYS, TestService } from '../support/test-service';

describe('idempotency-key on mutating RPCs', () => {
  let db: TestDatabase;
  let service: TestService;
  const count = (sql: string) => withClient(db.url, (c) => c.query(sql)).then((r) => Number(r.rows[0].n));

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url });
    await createStorefront(service.clients.storefronts, 'idem-store');
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  const request = (email: string, name = 'Grace') => ({
    storefrontId: 'idem-store',
    externalRef: '',
    email,
    name,
    phone: '',
    country: '',
    address: undefined,
  });

  it('replays the stored response, byte for byte, and writes once', async () => {
    const c = service.clients.customers;
    const first = await callWithTrailers(c, c.createCustomer, request('grace@example.com'), {
      'idempotency-key': 'k-replay',
    });
    const second = await callWithTrailers(c, c.createCustomer, request('grace@example.com'), {
      'idempotency-key': 'k-replay',
    });

    expect(Buffer.from(CreateCustomerResponse.encode(second.response).finish())).toEqual(
      Buffer.from(CreateCustomerResponse.encode(first.response).finish()),
    );
    expect(second.trailers.get('idempotent-replayed')).toEqual(['true']);
    expect(first.trailers.get('idempotent-replayed')).toEqual([]);
    expect(await count("SELECT count(*) AS n FROM customers WHERE email = 'grace@example.com'")).toBe(1);
    expect(
      await count(
        "SELECT count(*) AS n FROM outbox WHERE type = 'billing.customer.created' AND storefront_id = 'idem-store'",
      ),
    ).toBe(1);
  });

  it('refuses the same key with a different request as INVALID_ARGUMENT, writing nothing', async () => {
    const c = service.clients.customers;
    await call(c, c.createCustomer, request('alan@example.com'), { 'idempotency-key': 'k-mismatch' });
    const error = await callError(c, c.createCustomer, request('other@example.com'), {
      'idempotency-key': 'k-mismatch',
    });
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain('idempotency-key');
    expect(error.metadata.get('error-field')).toEqual(['idempotency-key']);
    expect(await count("SELECT count(*) AS n FROM customers WHERE email = 'other@example.com'")).toBe(0);
  });

  it('answers ABORTED while the first call with the key is still in flight, then replays its result', async () => {
    const c = service.clients.customers;
    // Hold the storefront's row, so the first call's insert waits on it (its foreign key check) with the key claimed:
    // genuinely in flight. CreateCustomer claims its key in that very statement, so the claim is not yet committed.
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query("SELECT 1 FROM storefronts WHERE id = 'idem-store' FOR UPDATE");
    const first = callWithTrailers(c, c.createCustomer, request('slow@example.com'), {
      'idempotency-key': 'k-inflight',
    });
    await waitUntil(
      async () =>
        (await count(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )) === 1,
    );

    const concurrent = await callError(c, c.createCustomer, request('slow@example.com'), {
      'idempotency-key': 'k-inflight',
    });
    expect(concurrent.code).toBe(status.ABORTED);

    await blocker.query('COMMIT');
    await blocker.end();
    const done = await first;
    const retried = await callWithTrailers(c, c.createCustomer, request('slow@example.com'), {
      'idempotency-key': 'k-inflight',
    });
    expect(retried.response.customer!.id).toBe(done.response.customer!.id);
    expect(retried.trailers.get('idempotent-replayed')).toEqual(['true']);
    expect(await count("SELECT count(*) AS n FROM customers WHERE email = 'slow@example.com'")).toBe(1);
  });

  it('runs once under concurrent attempts with one key: one customer, one event, every answer that one or ABORTED', async () => {
    const c = service.clients.customers;
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(c, c.createCustomer, request('racing@example.com'), { 'idempotency-key': 'k-racing' }).then(
          (answer) => answer.customer!.id,
          (error: ServiceError) => status[error.code],
        ),
      ),
    );
    const ids = new Set(attempts.filter((a) => a.startsWith('cus_')));
    expect(ids.size).toBe(1);
    expect(attempts.filter((a) => !a.startsWith('cus_')).every((a) => a === 'ABORTED')).toBe(true);
    expect(await count("SELECT count(*) AS n FROM customers WHERE email = 'racing@example.com'")).toBe(1);
    const [id] = [...ids];
    expect(await count(`SELECT count(*) AS n FROM outbox WHERE key = '${id}'`)).toBe(1);
  });

  it('frees the key when the call fails, so a corrected retry runs', async () => {
    const c = service.clients.customers;
    const failed = await callError(
      c,
      c.createCustomer,
      { ...request('fix@example.com'), storefrontId: 'nope' },
      { 'idempotency-key': 'k-fail' },
    );
    expect(failed.code).toBe(status.NOT_FOUND);
    // The key was never bound to a response, so the same request can succeed once the storefront exists.
    await createStorefront(service.clients.storefronts, 'nope');
    const ok = await call(
      c,
      c.createCustomer,
      { ...request('fix@example.com'), storefrontId: 'nope' },
      { 'idempotency-key': 'k-fail' },
    );
    expect(ok.created).toBe(true);
  });

  it('stores the response in the transaction of the change: when that transaction fails, neither is kept', async () => {
    const c = service.clients.customers;
    const created = () =>
      count(
        "SELECT count(*) AS n FROM outbox WHERE type = 'billing.customer.created' AND storefront_id = 'idem-store'",
      );
    const eventsBefore = await created();
    // A real fault at the last step of the use case's transaction: storing the response (CreateCustomer inserts its
    // key done, with the response, in the statement of the change; other mutations update their claimed key).
    await withClient(db.url, (cl) =>
      cl.query(`
        CREATE FUNCTION fail_storing_response() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.key = 'k-atomic' AND NEW.state = 'DONE' THEN RAISE EXCEPTION 'injected: response not stored'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER fail_storing_response BEFORE INSERT OR UPDATE ON idempotency_keys
          FOR EACH ROW EXECUTE FUNCTION fail_storing_response();`),
    );
    const failed = await callError(c, c.createCustomer, request('atomic@example.com'), {
      'idempotency-key': 'k-atomic',
    });
    await withClient(db.url, (cl) => cl.query('DROP TRIGGER fail_storing_response ON idempotency_keys'));

    expect(failed.code).toBe(status.INTERNAL);
    // The customer and its event went with the response; the key is free for the retry.
    expect(await count("SELECT count(*) AS n FROM customers WHERE email = 'atomic@example.com'")).toBe(0);
    expect(await created()).toBe(eventsBefore);
    expect(await count("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'k-atomic'")).toBe(0);

    const retried = await call(c, c.createCustomer, request('atomic@example.com'), { 'idempotency-key': 'k-atomic' });
    expect(retried.created).toBe(true);
    expect(await count("SELECT count(*) AS n FROM customers WHERE email = 'atomic@example.com'")).toBe(1);
    expect(await created()).toBe(eventsBefore + 1);
  });

  it('lets a retry take over at once a key whose owner died (lease lapsed), not one whose owner is alive', async () => {
    const c = service.clients.customers;
    const method = 'billing.v1.CustomerService/CreateCustomer';
    const holdKey = (key: string, email: string, leaseSeconds: number) => {
      const bytes = CreateCustomerRequest.encode(request(email)).finish();
      const hash = createHash('sha256').update(method).update('\0').update(bytes).digest('hex');
      return withClient(db.url, (cl) =>
        cl.query(
          `INSERT INTO idempotency_keys (scope, key, method, request_hash, state, owner, created_at, locked_until, expires_at)
           VALUES ($5, $1, $2, $3, 'IN_FLIGHT', 'another-process', now(), now() + make_interval(secs => $4), now() + interval '1 day')`,
          // Keys are scoped by the caller's tenant; `call` authenticates as the admin test key.
          [key, method, hash, leaseSeconds, TEST_KEYS.admin.tenant],
        ),
      );
    };
    // Held by a process that was killed: it no longer renews its lease, which lapsed a moment ago.
    await holdKey('k-dead-owner', 'orphan@example.com', -1);
    const taken = await call(c, c.createCustomer, request('orphan@example.com'), { 'idempotency-key': 'k-dead-owner' });
    expect(taken.created).toBe(true);

    // Held by a live process that keeps renewing: still in flight.
    await holdKey('k-live-owner', 'busy@example.com', 30);
    const busy = await callError(c, c.createCustomer, request('busy@example.com'), {
      'idempotency-key': 'k-live-owner',
    });
    expect(busy.code).toBe(status.ABORTED);
    expect(await count("SELECT count(*) AS n FROM customers WHERE email = 'busy@example.com'")).toBe(0);
  });

  it('scopes keys per tenant: the same key of two tenants is two keys', async () => {
    const store = new IdempotencyStore(service.database.knex, { retentionMs: 86_400_000, leaseMs: 10_000 });
    const method = 'billing.v1.CustomerService/CreateCustomer';
    const a = await store.claim('tenant-a', 'k-shared', method, 'hash-a');
    const b = await store.claim('tenant-b', 'k-shared', method, 'hash-b');
    expect([a.outcome, b.outcome]).toEqual(['claimed', 'claimed']);
    if (a.outcome !== 'claimed') return;
    await store.completeAfter({ scope: 'tenant-a', key: 'k-shared', owner: a.owner }, Buffer.from('answer of a'));
    // Tenant A's response is A's alone; tenant B's call with the key is still its own, in flight.
    expect(await store.claim('tenant-a', 'k-shared', method, 'hash-a')).toEqual({
      outcome: 'replay',
      response: Buffer.from('answer of a'),
    });
    expect(await store.claim('tenant-b', 'k-shared', method, 'hash-b')).toEqual({ outcome: 'in_flight' });
  });

  it('keeps the key of a live owner past its lease by renewing it, while a second attempt is refused', async () => {
    const store = new IdempotencyStore(service.database.knex, { retentionMs: 86_400_000, leaseMs: 3_000 });
    const guard = new IdempotencyGuard(store, { renewEveryMs: 300 });
    const request = { scope: '', key: 'k-long-call', method: 'test/LongCall', bytes: Buffer.from('req') };
    const outcome = await guard.run(request, async () => {
      // Well past the lease: only the renewals keep the key.
      await new Promise((r) => setTimeout(r, 7_000));
      const second = await guard.run(request, async () => 'ran twice').catch((e: Error) => e.message);
      return second;
    });
    expect(outcome).toEqual({ replayed: false, result: expect.stringContaining('still in flight') });
  });

  it('keeps keys for at least 24 hours', async () => {
    const row = await withClient(db.url, (cl) =>
      cl.query("SELECT extract(epoch FROM expires_at - created_at) AS s FROM idempotency_keys WHERE key = 'k-replay'"),
    );
    expect(Number(row.rows[0].s)).toBeGreaterThanOrEqual(24 * 3600);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
