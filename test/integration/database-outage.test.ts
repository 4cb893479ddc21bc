import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { Client } from 'pg';
import { createStorefront } from '../support/fixtures';
import { eventually } from '../support/eventually';
import { healthStatus } from '../support/health-check';
import { proxiedDatabase, TcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, callError, startTestService, TestService } from '../support/test-service';

const NEW_CUSTOMER = {
  storefrontId: 'outage-store',
  externalRef: 'u-1',
  email: 'u1@example.com',
  name: 'U One',
  phone: '',
  country: 'DE',
  address: undefined,
};

/** The service's log lines, as its pino logger wrote them (info and up, as in production). */
function capturedLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

async function readyz(service: TestService): Promise<number> {
  // A probe that waited on a hung database would trip this timeout and fail the test.
  const response = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`, { signal: AbortSignal.timeout(3000) });
  return response.status;
}

/** Holds an exclusive lock on `customers` from outside the service, so its customer queries wait (in flight). */
async function lockCustomers(url: string): Promise<{ waiting(): Promise<number>; release(): Promise<void> }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE customers IN ACCESS EXCLUSIVE MODE');
  return {
    // Statistics are a snapshot per transaction, and this client sits in one: clear it to see the current waits.
    waiting: async () =>
      (
        await client.query('SELECT pg_stat_clear_snapshot()').then(() =>
          client.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'billing-adapter' AND wait_event_type = 'Lock'`,
          ),
        )
      ).rows[0].n,
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

describe('the database goes away (through a TCP proxy the test cuts)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let service: TestService;
  let customerId: string;
  const { logger, lines } = capturedLogger();

  beforeAll(async () => {
    db = await createTestDatabase();
    const proxied = await proxiedDatabase(db.url);
    proxy = proxied.proxy;
    service = await startTestService({ DATABASE_URL: proxied.url, DATABASE_ACQUIRE_TIMEOUT_MS: '1000' }, { logger });
    await createStorefront(service.clients.storefronts, 'outage-store');
    const created = await call(service.clients.customers, service.clients.customers.createCustomer, NEW_CUSTOMER);
    customerId = created.customer!.id;
  });

  afterAll(async () => {
    await service?.close();
    await proxy?.stop();
    await db?.drop();
  });

  it('answers UNAVAILABLE while the database is down, is not ready, logs a few JSON lines, and recovers by itself', async () => {
    const customers = service.clients.customers;
    const consoleCalls = (['log', 'warn', 'error', 'info'] as const).map((m) => jest.spyOn(console, m));
    const before = lines.length;
    expect(await healthStatus(service.grpcPort)).toBe('SERVING');

    await proxy.cut();
    // Many calls, as clients keep calling during an outage: each answers UNAVAILABLE (retryable), none INTERNAL, and
    // none waits for its deadline (that would be DEADLINE_EXCEEDED).
    const errors = await Promise.all(
      Array.from({ length: 30 }, () => callError(customers, customers.getCustomer, { customerId })),
    );
    expect(new Set(errors.map((e) => status[e.code]))).toEqual(new Set(['UNAVAILABLE']));
    const write = await callError(customers, customers.createCustomer, { ...NEW_CUSTOMER, email: 'u2@example.com' });
    expect(status[write.code]).toBe('UNAVAILABLE');
    expect(write.details).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);

    expect(
      await eventually(
        () => readyz(service),
        (code) => code === 503,
      ),
    ).toBe(503);
    expect(
      await eventually(
        () => healthStatus(service.grpcPort),
        (s) => s === 'NOT_SERVING',
      ),
    ).toBe('NOT_SERVING');

    await proxy.restore();
    expect(
      await eventually(
        () => readyz(service),
        (code) => code === 200,
      ),
    ).toBe(200);
    expect(
      await eventually(
        () => healthStatus(service.grpcPort),
        (s) => s === 'SERVING',
      ),
    ).toBe('SERVING');
    const { customer } = await call(customers, customers.getCustomer, { customerId });
    expect(customer!.id).toBe(customerId);

    // Logs stayed JSON (nothing on the console from knex or pg), and the outage is a handful of lines, not one per
    // failed query.
    for (const spy of consoleCalls) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
    const outageLines = lines.slice(before);
    for (const line of outageLines) expect(() => JSON.parse(line)).not.toThrow();
    expect(outageLines.length).toBeLessThan(20);
    const messages = outageLines.map((l) => JSON.parse(l).msg as string);
    expect(messages).toEqual(
      expect.arrayContaining([
        'database unreachable: not ready until it answers again',
        'database reachable again: ready',
      ]),
    );
  });

  it('answers /readyz at once while the database hangs, refuses calls instead of hanging them, and recovers', async () => {
    const customers = service.clients.customers;
    proxy.hang();
    try {
      expect(
        await eventually(
          () => readyz(service),
          (code) => code === 503,
        ),
      ).toBe(503);
      expect(await healthStatus(service.grpcPort)).toBe('NOT_SERVING');
      // Refused before touching the database: a hung query would hold the call until its deadline instead.
      const refused = await callError(customers, customers.getCustomer, { customerId });
      expect(`${status[refused.code]}: ${refused.details}`).toBe('UNAVAILABLE: database unavailable, retry');
    } finally {
      await proxy.restore();
    }
    expect(
      await eventually(
        () => readyz(service),
        (code) => code === 200,
      ),
    ).toBe(200);
    expect(await healthStatus(service.grpcPort)).toBe('SERVING');
    const { customer } = await call(customers, customers.getCustomer, { customerId });
    expect(customer!.id).toBe(customerId);
  });
});

describe('the pool is exhausted, or more calls arrive than the service admits', () => {
  let db: TestDatabase;
  let tinyPool: TestService;
  let admitsFour: TestService;
  let customerId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    tinyPool = await startTestService({
      DATABASE_URL: db.url,
      DATABASE_POOL_MAX: '1',
      DATABASE_ACQUIRE_TIMEOUT_MS: '300',
    });
    // The service's own limit: one caller may take all four slots here (tenant-share.test.ts has the tenant's).
    admitsFour = await startTestService({
      DATABASE_URL: db.url,
      MAX_IN_FLIGHT_RPCS: '4',
      MAX_IN_FLIGHT_PER_TENANT: '4',
    });
    await createStorefront(tinyPool.clients.storefronts, 'outage-store');
    const created = await call(tinyPool.clients.customers, tinyPool.clients.customers.createCustomer, NEW_CUSTOMER);
    customerId = created.customer!.id;
  });

  afterAll(async () => {
    await tinyPool?.close();
    await admitsFour?.close();
    await db?.drop();
  });

  it('answers UNAVAILABLE when no pooled connection frees up in time, and serves again once one does', async () => {
    const customers = tinyPool.clients.customers;
    const lock = await lockCustomers(db.url);
    let holding: Promise<unknown> | undefined;
    try {
      // This call takes the only connection and waits on the lock.
      holding = call(customers, customers.getCustomer, { customerId });
      await eventually(lock.waiting, (n) => n === 1);
      const refused = await callError(customers, customers.getCustomer, { customerId });
      expect(status[refused.code]).toBe('UNAVAILABLE');
    } finally {
      await lock.release();
    }
    await expect(holding).resolves.toMatchObject({ customer: { id: customerId } });
    await expect(call(customers, customers.getCustomer, { customerId })).resolves.toMatchObject({
      customer: { id: customerId },
    });
  });

  it('refuses calls beyond MAX_IN_FLIGHT_RPCS at once with UNAVAILABLE, serves the admitted ones, and keeps serving', async () => {
    const customers = admitsFour.clients.customers;
    const lock = await lockCustomers(db.url);
    let admitted: Promise<unknown>[] = [];
    try {
      admitted = Array.from({ length: 4 }, () => call(customers, customers.getCustomer, { customerId }));
      await eventually(lock.waiting, (n) => n === 4);
      // The service is full: these are answered without waiting for the lock (or they would hang until released).
      const excess = await Promise.all(
        Array.from({ length: 40 }, () => callError(customers, customers.getCustomer, { customerId })),
      );
      expect(new Set(excess.map((e) => `${status[e.code]}: ${e.details}`))).toEqual(
        new Set(['UNAVAILABLE: overloaded, retry']),
      );
    } finally {
      await lock.release();
    }
    for (const response of await Promise.all(admitted))
      expect(response).toMatchObject({ customer: { id: customerId } });
    await expect(call(customers, customers.getCustomer, { customerId })).resolves.toMatchObject({
      customer: { id: customerId },
    });
    expect(await healthStatus(admitsFour.grpcPort)).toBe('SERVING');
  });
});
