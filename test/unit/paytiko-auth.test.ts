import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpTransport } from '../../adapters/kit/http-transport';
import { createPaytikoClient } from '../../adapters/paytiko/client';
import { createPaytikoOperations } from '../../adapters/paytiko/operations';
import { DomainError } from '../../src/domain/errors';
import { eventually } from '../support/eventually';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';

// A tiny real Paytiko stand-in over node:http: it issues tokens, counts auth calls and answers a membership GET.

interface Stub {
  url: string;
  authCalls: number;
  /** Tokens the API accepts; cleared to simulate a revocation. */
  valid: Set<string>;
  /** Whether auth refuses the credentials. */
  refuseAuth: boolean;
  /** Every membership PUT body received. */
  puts: Record<string, unknown>[];
  /** Answer the next PUT with a reset (the outcome is then unknown to the client). */
  dropNextPut: boolean;
  /** Whether a PUT leaves the change pending; false = its proration was declined and the change dropped. */
  putStaysPending: boolean;
  membership: Record<string, unknown>;
  /** Hold auth answers until released (single-flight). */
  holdAuth?: Promise<void>;
  close(): Promise<void>;
}

const PASSWORD = 'pässword-SECRET-123';
const KEY = 'mmbrshp_0123456789abcdef01234567';

async function startStub(clockMs: () => number, ttlMs: number): Promise<Stub> {
  const stub = {
    authCalls: 0,
    valid: new Set<string>(),
    refuseAuth: false,
    puts: [] as Record<string, unknown>[],
    dropNextPut: false,
    putStaysPending: true,
    membership: {
      membershipKey: KEY,
      customerKey: 'cstmr_1',
      orderId: 'sub_1',
      status: 'Active',
      currency: 'EUR',
      quantity: 1,
      metadata: '{"subscription_id":"sub_1","plan_id":"plan_a","change":"chg_old"}',
      pendingUpdate: null,
      startDate: '2025-01-01T00:00:00Z',
      updatedAt: '2025-01-01T00:00:00Z',
      invoices: [],
    } as Record<string, unknown>,
  } as Stub;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse, text: string) => {
    const path = req.url ?? '';
    if (path === '/paytiko/api/subscriptions/v1/auth') {
      stub.authCalls += 1;
      await stub.holdAuth;
      const { userName, password } = JSON.parse(text) as { userName: string; password: string };
      if (stub.refuseAuth || userName !== 'merchant' || password !== PASSWORD) {
        return send(res, 401, { title: 'Unauthorized', status: 401 });
      }
      const token = `tok-${stub.authCalls}-SECRETTOKEN`;
      stub.valid.add(token);
      return send(res, 200, { token, expiresAt: new Date(clockMs() + ttlMs).toISOString().replace(/\.\d+Z$/, 'Z') });
    }
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!stub.valid.has(bearer)) return send(res, 401, { title: `Unauthorized ${bearer}`, status: 401 });
    if (req.method === 'GET' && path === `/paytiko/api/subscriptions/v1/membership/${KEY}`) {
      return send(res, 200, stub.membership);
    }
    if (req.method === 'PUT' && path === '/paytiko/api/subscriptions/v1/membership') {
      const body = JSON.parse(text) as Record<string, unknown>;
      stub.puts.push(body);
      if (stub.putStaysPending) stub.membership = { ...stub.membership, pendingUpdate: { metadata: body.metadata } };
      if (stub.dropNextPut) {
        stub.dropNextPut = false;
        req.socket.destroy();
        return;
      }
      return send(res, 202, { membershipKey: KEY, prorationAmount: '1.00', currency: 'EUR' });
    }
    return send(res, 404, { title: 'Membership not found', status: 404 });
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/paytiko`;
  stub.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}

describe('Paytiko auth token cache', () => {
  let nowMs = Date.parse('2025-01-01T00:00:00Z');
  const clock = { now: () => new Date(nowMs) };
  const TTL = 15 * 60 * 1000;
  let stub: Stub;
  const transport = createHttpTransport({ backoffMs: [] });

  beforeEach(async () => {
    nowMs = Date.parse('2025-01-01T00:00:00Z');
    stub = await startStub(() => nowMs, TTL);
  });
  afterEach(() => stub.close());

  const ctx = (over: Partial<ProviderCallContext> = {}): ProviderCallContext => ({
    storefrontId: 'sf_1',
    config: { base_url: stub.url, processor_key: '3f2a1c9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b' },
    secrets: { username: 'merchant', password: PASSWORD },
    signal: new AbortController().signal,
    idempotencyKey: 'idem-1',
    webhookUrl: 'http://127.0.0.1:8080/webhooks/paytiko/sf_1',
    ...over,
  });
  const getMembership = { operation: 'getSubscription', method: 'GET', route: `/membership/${KEY}` } as const;

  it('reuses one token until shortly before it expires, then fetches a new one', async () => {
    const client = createPaytikoClient({ transport, clock });
    await client.call(ctx(), getMembership);
    await client.call(ctx(), getMembership);
    expect(stub.authCalls).toBe(1);
    nowMs += TTL - 61_000; // more than the 60 s margin left
    await client.call(ctx(), getMembership);
    expect(stub.authCalls).toBe(1);
    nowMs += 2_000; // now inside the margin
    await client.call(ctx(), getMembership);
    expect(stub.authCalls).toBe(2);
  });

  it('shares one auth request among concurrent calls of one binding', async () => {
    let release!: () => void;
    stub.holdAuth = new Promise<void>((resolve) => (release = resolve));
    const client = createPaytikoClient({ transport, clock });
    const calls = Array.from({ length: 5 }, () => client.call(ctx(), getMembership));
    // The first auth request is in flight (held); every call is waiting on it.
    await eventually(
      async () => stub.authCalls,
      (count) => count === 1,
    );
    release();
    await Promise.all(calls);
    expect(stub.authCalls).toBe(1);
  });

  it('answers a 401 with one fresh token and one retry; a second 401 ends the call without looping', async () => {
    const client = createPaytikoClient({ transport, clock });
    await client.call(ctx(), getMembership);
    stub.valid.clear(); // revoked
    await expect(client.call(ctx(), getMembership)).resolves.toMatchObject({ membershipKey: KEY });
    expect(stub.authCalls).toBe(2);

    const add = stub.valid.add.bind(stub.valid);
    stub.valid.add = () => stub.valid; // tokens issued from now on are never accepted
    stub.valid.clear();
    const error = (await client.call(ctx(), getMembership).catch((e: unknown) => e)) as DomainError;
    stub.valid.add = add;
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain("binding's username/password");
    expect(error.message).not.toMatch(/SECRETTOKEN|pässword/);
    expect(stub.authCalls).toBe(3);
  });

  it('refuses bad credentials as FAILED_PRECONDITION naming the storefront, never the password', async () => {
    stub.refuseAuth = true;
    const client = createPaytikoClient({ transport, clock });
    const error = (await client.call(ctx(), getMembership).catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toBe("storefront 'sf_1': Paytiko refused the binding's username/password");
    expect(JSON.stringify({ m: error.message, c: String(error.cause) })).not.toContain(PASSWORD);
  });

  it('keys the cache by binding: another password gets its own token', async () => {
    const client = createPaytikoClient({ transport, clock });
    await client.call(ctx(), getMembership);
    await client.call(ctx({ secrets: { username: 'merchant', password: 'other' } }), getMembership).catch(() => 0);
    expect(stub.authCalls).toBe(2);
  });

  describe('membership updates, which Paytiko does not dedupe', () => {
    const change = {
      plan: {
        id: 'plan_b',
        name: 'Pro monthly',
        price: { currency: 'EUR', amountMinor: 1999n },
        interval: { unit: 'MONTH' as const, count: 1 },
        trialDays: 0,
      },
      quantity: 1,
    };
    const handle = { id: 'sub_1', providerRef: KEY };

    it('sends the PUT once and answers accepted; a retry of the same call finds its change and sends nothing', async () => {
      const ops = createPaytikoOperations({ transport, clock });
      await expect(ops.changePlan(ctx(), handle, change)).resolves.toMatchObject({ kind: 'accepted' });
      expect(stub.puts).toHaveLength(1);
      expect(stub.puts[0]).toMatchObject({ membershipKey: KEY, pricePerUnit: 19.99, quantity: 1 });
      expect(JSON.parse(stub.puts[0]!.metadata as string)).toMatchObject({
        subscription_id: 'sub_1',
        plan_id: 'plan_b',
      });
      await expect(ops.changePlan(ctx(), handle, change)).resolves.toMatchObject({ kind: 'accepted' });
      expect(stub.puts).toHaveLength(1);
    });

    it('never sends the PUT again after an unknown outcome, even when the change did not stay: accepted, with a note', async () => {
      // The first PUT's proration was declined, so Paytiko dropped the change: a second PUT would charge again.
      stub.putStaysPending = false;
      stub.dropNextPut = true;
      const ops = createPaytikoOperations({ transport, clock });
      const outcome = await ops.changePlan(ctx(), handle, change);
      expect(outcome).toEqual({ kind: 'accepted', note: expect.stringContaining('answer to the change') });
      expect(stub.puts).toHaveLength(1);
    });

    it('answers an unreadable membership with UNAVAILABLE naming the operation, never INVALID_ARGUMENT', async () => {
      const ops = createPaytikoOperations({ transport, clock });
      const unreadable: [Record<string, unknown>, string][] = [
        [{ status: 'Paused' }, "membership.status 'Paused' is not one of"],
        [{ updatedAt: 'yesterday' }, 'membership.updatedAt is not an ISO-8601 time'],
        [
          { invoices: [{ invoiceKey: 'inv_1', type: 'Initial', status: 'Paid', amount: '9.999', cycle: 1 }] },
          'membership.invoices[0].amount',
        ],
        [{ pendingUpdate: 'soon' }, 'membership.pendingUpdate'],
      ];
      for (const [fields, said] of unreadable) {
        const good = stub.membership;
        stub.membership = { ...good, ...fields };
        const reads =
          'pendingUpdate' in fields
            ? ops.changePlan(ctx(), handle, change)
            : ops.getSubscription(ctx(), { id: 'sub_1', providerRef: KEY });
        const error = (await reads.catch((e: unknown) => e)) as DomainError;
        stub.membership = good;
        expect(error.code).toBe('UNAVAILABLE');
        expect(error.message).toMatch(
          /^storefront 'sf_1': Paytiko (getSubscription|changePlan): Paytiko answered an unreadable membership: /,
        );
        expect(error.message).toContain(said);
      }
      expect(stub.puts).toHaveLength(0);
    });

    it('refuses a membership of another order, and a plan in another currency, before any PUT', async () => {
      const ops = createPaytikoOperations({ transport, clock });
      await expect(ops.changePlan(ctx(), { id: 'sub_2', providerRef: KEY }, change)).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION',
      });
      const usd = { ...change, plan: { ...change.plan, price: { currency: 'USD', amountMinor: 1999n } } };
      await expect(ops.changePlan(ctx(), handle, usd)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
      expect(stub.puts).toHaveLength(0);
    });
  });
});
