import { ServiceError, status } from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { allRpcPaths } from '../../src/auth/billing-services';
import { PaymentStatus, RefundStatus } from '../../src/gen/billing/v1/payment';
import { eventually } from '../support/eventually';
import { JwtIssuer, startJwtIssuer } from '../support/jwt-issuer';
import { createStorefront, PAYTIKO_CONFIG, paytikoSecretRefs } from '../support/fixtures';
import { AnyRpc, everyRpc, RPC_MATRIX, TenantObjects } from '../support/rpc-matrix';
import { subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import {
  bearer,
  call,
  startTestService,
  TEST_KEYS,
  TestKey,
  TestService,
  writeKeysFile,
} from '../support/test-service';

/** Tables whose rows tenant B must not be able to change (the outbox's queue is emptied below, as if published). */
const GUARDED_TABLES = [
  'storefronts',
  'storefront_bindings',
  'plans',
  'customers',
  'subscriptions',
  'payments',
  'refunds',
  'invoices',
  'entitlements',
  'usage_records',
  'dead_letters',
  'outbox',
  'outbox_pending',
  'audit_log',
  'checkout_sessions',
];
const JWT_ISSUER = 'https://idp.test/';
const JWT_AUDIENCE = 'billing-adapter';

describe('callers, roles and tenants', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let keysFile: string;
  let a: TenantObjects;
  let rpcs: AnyRpc[];
  let closeClients: () => void;
  let issuer: JwtIssuer;

  beforeAll(async () => {
    db = await createTestDatabase();
    keysFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'billing-keys-')), 'api-keys.json');
    writeKeysFile(Object.values(TEST_KEYS), keysFile);
    // No Kafka: the relay stays off, so event rows change only through the RPCs under test.
    issuer = await startJwtIssuer();
    service = await startTestService({
      DATABASE_URL: db.url,
      API_KEYS_FILE: keysFile,
      AUTH_JWKS_URL: issuer.jwksUrl,
      AUTH_JWT_ISSUER: JWT_ISSUER,
      AUTH_JWT_AUDIENCE: JWT_AUDIENCE,
    });
    ({ rpcs, close: closeClients } = everyRpc(`127.0.0.1:${service.grpcPort}`));

    // Tenant A: a Subotiz storefront with a paid subscription, a refund, an invoice and a dead letter.
    world = await subotizWorld(service, { storefrontId: 'store-a' });
    const { id: subscriptionId, checkoutSessionId } = await world.activeSubscription();
    const [payment] = await eventually(
      () => world.paymentsOf(subscriptionId),
      (list) => list.some((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED && p.invoiceId !== ''),
    );
    const { refund } = await call(world.payments, world.payments.createRefund, {
      paymentId: payment!.id,
      amount: { currencyCode: 'EUR', amountMinor: 100n, amountDecimal: '' },
      reason: 'goodwill',
    });
    a = {
      storefrontId: world.storefrontId,
      planId: world.planId,
      customerId: world.customerId,
      subscriptionId,
      paymentId: payment!.id,
      refundId: refund!.id,
      invoiceId: payment!.invoiceId,
      deadLetterId: await insertDeadLetter('store-a'),
      checkoutSessionId,
    };
    // Tenant B: a storefront of its own, so its lists have something to show.
    await call(service.clients.storefronts, service.clients.storefronts.createStorefront, {
      ...storefrontRequestOf('store-b', 'tenant-b'),
    });
    await createStorefront(service.clients.storefronts, 'store-a-paytiko', 'paytiko');
    await eventually(
      () => call(world.payments, world.payments.getRefund, { refundId: refund!.id }),
      (r) => r.refund!.status === RefundStatus.REFUND_STATUS_SUCCEEDED,
    );
    // Let webhooks settle, then empty the outbox's queue, as if published, so a replay would be visible.
    await eventually(
      () => withClient(db.url, (c) => c.query("SELECT count(*)::int AS n FROM webhook_inbox WHERE status = 'PENDING'")),
      (r) => r.rows[0].n === 0,
    );
    await withClient(db.url, (c) => c.query('DELETE FROM outbox_pending'));
  });

  afterAll(async () => {
    closeClients?.();
    await world?.close();
    await issuer?.close();
    await service?.close();
    await db?.drop();
  });

  async function insertDeadLetter(storefrontId: string): Promise<string> {
    const id = `dlq_${Date.now().toString(36)}`;
    await withClient(db.url, async (c) => {
      const inbox = await c.query(
        `INSERT INTO webhook_inbox (provider, storefront_id, provider_event_id, body, status, received_at)
         VALUES ('subotiz', $1, $2, '\\x7b7d', 'DEAD', now()) RETURNING id`,
        [storefrontId, `evt-dead-${id}`],
      );
      await c.query(
        `INSERT INTO dead_letters (id, inbox_id, provider, storefront_id, provider_event_id, error, attempts,
                                   received_at, last_attempt_at)
         VALUES ($1, $2, 'subotiz', $3, $4, 'failed in a test', 3, now(), now())`,
        [id, inbox.rows[0].id, storefrontId, `evt-dead-${id}`],
      );
    });
    return id;
  }

  function storefrontRequestOf(id: string, tenantId: string) {
    return {
      storefrontId: id,
      tenantId,
      name: `Store ${id}`,
      country: 'DE',
      defaultCurrency: 'EUR',
      provider: 'paytiko',
      providerConfig: PAYTIKO_CONFIG,
      // No tenant named: the caller's own (tenant-b, in the one test that does so), whose secrets the binding names.
      secretRefs: paytikoSecretRefs(tenantId || 'tenant-b'),
    };
  }

  async function snapshot(): Promise<Record<string, unknown[]>> {
    return withClient(db.url, async (c) => {
      const tables: Record<string, unknown[]> = {};
      for (const table of GUARDED_TABLES) tables[table] = (await c.query(`SELECT * FROM ${table} ORDER BY id`)).rows;
      return tables;
    });
  }

  const rpc = (p: string) => rpcs.find((r) => r.path === p)!;
  const requestOf = (p: string) => rpc(p).request(RPC_MATRIX[p]!.request(a));

  it('has a matrix entry for every RPC of every service (a new RPC must be added to the matrix)', () => {
    expect(Object.keys(RPC_MATRIX).sort()).toEqual(allRpcPaths().sort());
    expect(rpcs.map((r) => r.path).sort()).toEqual(allRpcPaths().sort());
  });

  it('answers UNAUTHENTICATED to every RPC without a key, with a wrong key, or a malformed header', async () => {
    const before = await snapshot();
    for (const { path: p } of rpcs) {
      for (const authorization of ['', 'Bearer wrong_key_123', 'Basic dGVzdA==', `Bearer ${TEST_KEYS.admin.key}x`]) {
        const { error } = await rpc(p).call(requestOf(p), { authorization });
        expect({ p, authorization, code: error?.code }).toEqual({ p, authorization, code: status.UNAUTHENTICATED });
        expect(error!.details).not.toContain('wrong_key_123');
        expect(error!.details).not.toContain(TEST_KEYS.admin.key);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("refuses tenant B's service and platform keys on every RPC naming tenant A's objects, changing nothing", async () => {
    const before = await snapshot();
    for (const { path: p } of rpcs) {
      const entry = RPC_MATRIX[p]!;
      for (const key of [TEST_KEYS.tenantBService, TEST_KEYS.tenantBPlatform]) {
        const expected = key.role === 'service' && entry.role === 'platform' ? 'PERMISSION_DENIED' : entry.otherTenant;
        const { error, response } = await rpc(p).call(requestOf(p), bearer(key));
        const outcome = error ? status[error.code] : 'EMPTY';
        expect({ p, key: key.name, outcome }).toEqual({ p, key: key.name, outcome: expected });
        // An answered call answers nothing: the proto's default response (empty lists, zero counts).
        if (response)
          expect({ p, response }).toEqual({ p, response: rpc(p).method.responseDeserialize(Buffer.alloc(0)) });
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("answers another tenant's object exactly as it answers a missing one (existence is not revealed)", async () => {
    const answers: { p: string; foreign: string; missing: string }[] = [];
    const b = bearer(TEST_KEYS.tenantBPlatform);
    for (const { path: p } of rpcs) {
      if (RPC_MATRIX[p]!.otherTenant === 'PERMISSION_DENIED') continue;
      const request = RPC_MATRIX[p]!.request(a);
      const renamed = Object.fromEntries(Object.entries(request).map(([k, v]) => [k, missingId(k, v)]));
      let foreign = answerOf(await rpc(p).call(rpc(p).request(request), b));
      for (const [k, v] of Object.entries(request)) {
        if (typeof v === 'string' && v !== renamed[k]) foreign = foreign.split(v).join(renamed[k] as string);
      }
      answers.push({ p, foreign, missing: answerOf(await rpc(p).call(rpc(p).request(renamed), b)) });
    }
    expect(answers.filter((x) => x.foreign !== x.missing)).toEqual([]);
    expect(answers.length).toBeGreaterThan(30);
  });

  it("lets tenant A's keys through on every RPC: each succeeds or fails for a reason of its own", async () => {
    for (const { path: p } of rpcs) {
      const entry = RPC_MATRIX[p]!;
      const key: TestKey = entry.role === 'service' ? TEST_KEYS.tenantAService : TEST_KEYS.tenantAPlatform;
      const { error } = await rpc(p).call(requestOf(p), bearer(key));
      const refusedForAccess = [status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.NOT_FOUND];
      expect({ p, refused: error && refusedForAccess.includes(error.code) ? error.details : false }).toEqual({
        p,
        refused: false,
      });
    }
  });

  it('enforces the role table: a service key cannot configure storefronts, plans, providers or the event log', async () => {
    const platformOnly = Object.entries(RPC_MATRIX).filter(([, e]) => e.role === 'platform');
    expect(platformOnly.map(([p]) => p.split('/')[1])).toEqual(
      expect.arrayContaining(['SwitchProvider', 'CreatePlan', 'ReplayEvents', 'UpdateStorefront']),
    );
    for (const [p] of platformOnly) {
      const { error } = await rpc(p).call(requestOf(p), bearer(TEST_KEYS.tenantAService));
      expect({ p, code: error?.code }).toEqual({ p, code: status.PERMISSION_DENIED });
      expect(error!.details).toContain("needs role 'platform'");
    }
  });

  it("filters lists to the caller's tenant", async () => {
    const b = bearer(TEST_KEYS.tenantBPlatform);
    const listStorefronts = rpc('billing.v1.StorefrontService/ListStorefronts');
    const own = (await listStorefronts.call(listStorefronts.request({ pageSize: 50 }), b)).response as {
      storefronts: { id: string }[];
    };
    expect(own.storefronts.map((s) => s.id)).toEqual(['store-b']);

    const listEvents = rpc('billing.v1.EventService/ListEvents');
    const events = (await listEvents.call(listEvents.request({ pageSize: 500 }), b)).response as {
      events: { tenantId: string }[];
    };
    expect(events.events.length).toBeGreaterThan(0);
    expect(new Set(events.events.map((e) => e.tenantId))).toEqual(new Set(['tenant-b']));
    const byAggregate = (await listEvents.call(listEvents.request({ aggregateId: a.customerId }), b)).response as {
      events: unknown[];
    };
    expect(byAggregate.events).toEqual([]);

    const listDeadLetters = rpc('billing.v1.EventService/ListDeadLetters');
    const { error } = await listDeadLetters.call(listDeadLetters.request({ pageSize: 50 }), b);
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.metadata.get('error-field')).toEqual(['storefront_id']);
  });

  it("replays only the caller's own events when the filter names no storefront", async () => {
    await withClient(db.url, (c) => c.query('DELETE FROM outbox_pending'));
    const replay = rpc('billing.v1.EventService/ReplayEvents');
    const { response } = await replay.call(
      replay.request({ types: ['billing.storefront.created'] }),
      bearer(TEST_KEYS.tenantBPlatform),
    );
    expect(response).toEqual({ replayedCount: 1n });
    const requeued = await withClient(db.url, (c) =>
      c.query('SELECT DISTINCT o.tenant_id FROM outbox o JOIN outbox_pending p USING (id)'),
    );
    expect(requeued.rows).toEqual([{ tenant_id: 'tenant-b' }]);
  });

  it("creates storefronts in the caller's own tenant; only admin names another", async () => {
    const create = rpc('billing.v1.StorefrontService/CreateStorefront');
    const implicit = await create.call(
      create.request({ ...storefrontRequestOf('store-b-two', ''), tenantId: '' }),
      bearer(TEST_KEYS.tenantBPlatform),
    );
    expect((implicit.response as { storefront: { tenantId: string } }).storefront.tenantId).toBe('tenant-b');
    const admin = await create.call(
      create.request(storefrontRequestOf('store-c', 'tenant-c')),
      bearer(TEST_KEYS.admin),
    );
    expect((admin.response as { storefront: { tenantId: string } }).storefront.tenantId).toBe('tenant-c');
  });

  it('records the key name as the audit actor, with x-actor beside it as "on behalf of"', async () => {
    const update = rpc('billing.v1.CustomerService/UpdateCustomer');
    const { error } = await update.call(update.request({ customerId: a.customerId, name: 'Ada L.' }), {
      ...bearer(TEST_KEYS.tenantAService),
      'x-actor': 'support:bob',
    });
    expect(error).toBeUndefined();
    const audit = await withClient(db.url, (c) =>
      c.query("SELECT actor, details FROM audit_log WHERE action = 'UpdateCustomer' ORDER BY id DESC LIMIT 1"),
    );
    expect(audit.rows[0]).toMatchObject({
      actor: TEST_KEYS.tenantAService.name,
      details: { on_behalf_of: 'support:bob' },
    });
    const listEvents = rpc('billing.v1.EventService/ListEvents');
    const { response } = await listEvents.call(
      listEvents.request({ aggregateId: a.customerId, types: ['billing.customer.updated'], pageSize: 50 }),
      bearer(TEST_KEYS.tenantAService),
    );
    const events = (response as { events: { actor: string }[] }).events;
    expect(events.at(-1)?.actor).toBe(TEST_KEYS.tenantAService.name);
  });

  it("accepts the identity provider's JWTs with the same tenant rules; refuses expired and foreign-signed ones", async () => {
    const getCustomer = rpc('billing.v1.CustomerService/GetCustomer');
    const request = getCustomer.request({ customerId: a.customerId });
    const exp = Math.floor(Date.now() / 1000) + 300;
    const ours = { iss: JWT_ISSUER, aud: JWT_AUDIENCE, exp };
    const asToken = (claims: Record<string, unknown>, alg: 'RS256' | 'ES256' = 'RS256') =>
      getCustomer.call(request, { authorization: `Bearer ${issuer.token({ ...ours, ...claims }, { alg })}` });

    const own = await asToken({ sub: 'crm-sync', tenant: 'tenant-a', role: 'service' }, 'ES256');
    expect(own.error).toBeUndefined();
    const other = await asToken({ sub: 'crm-sync', tenant: 'tenant-b', role: 'platform' });
    expect(other.error?.code).toBe(status.NOT_FOUND);
    const expired = await asToken({ sub: 'crm-sync', tenant: 'tenant-a', role: 'service', exp: exp - 3600 });
    expect(expired.error?.code).toBe(status.UNAUTHENTICATED);

    const update = rpc('billing.v1.CustomerService/UpdateCustomer');
    const token = issuer.token({ ...ours, sub: 'crm-sync', tenant: 'tenant-a', role: 'service' });
    const updated = await update.call(update.request({ customerId: a.customerId, name: 'Ada Lovelace' }), {
      authorization: `Bearer ${token}`,
    });
    expect(updated.error).toBeUndefined();
    const audit = await withClient(db.url, (c) =>
      c.query("SELECT actor FROM audit_log WHERE action = 'UpdateCustomer' ORDER BY id DESC LIMIT 1"),
    );
    expect(audit.rows[0]).toEqual({ actor: 'crm-sync' });
  });

  it('refuses a JWT the identity provider issued for another application, without echoing it', async () => {
    const getCustomer = rpc('billing.v1.CustomerService/GetCustomer');
    const request = getCustomer.request({ customerId: a.customerId });
    const exp = Math.floor(Date.now() / 1000) + 300;
    const caller = { sub: 'crm-sync', tenant: 'tenant-a', role: 'service', exp };
    for (const claims of [
      { ...caller, iss: JWT_ISSUER, aud: 'crm' },
      { ...caller, iss: JWT_ISSUER, aud: ['crm', 'shop'] },
      { ...caller, iss: JWT_ISSUER },
      { ...caller, iss: 'https://other-idp.test/', aud: JWT_AUDIENCE },
    ]) {
      const token = issuer.token(claims);
      const { error } = await getCustomer.call(request, { authorization: `Bearer ${token}` });
      expect({ claims, code: error?.code }).toEqual({ claims, code: status.UNAUTHENTICATED });
      expect(error?.message).not.toContain(token.split('.')[1]);
      expect(error?.message).not.toContain(token.split('.')[2]);
    }
    const listed = issuer.token({ ...caller, iss: JWT_ISSUER, aud: ['crm', JWT_AUDIENCE] });
    expect((await getCustomer.call(request, { authorization: `Bearer ${listed}` })).error).toBeUndefined();
  });

  it('re-reads the key file on SIGHUP: new keys work, removed keys stop, a broken file keeps the old keys', async () => {
    const getCustomer = rpc('billing.v1.CustomerService/GetCustomer');
    const request = getCustomer.request({ customerId: a.customerId });
    const newcomer: TestKey = { key: 'tenant_a_new_key', name: 'tenant-a-new', tenant: 'tenant-a', role: 'service' };
    const codeWith = async (key: TestKey) => (await getCustomer.call(request, bearer(key))).error?.code ?? status.OK;

    expect(await codeWith(newcomer)).toBe(status.UNAUTHENTICATED);
    const kept = Object.values(TEST_KEYS).filter((k) => k !== TEST_KEYS.tenantAService);
    try {
      writeKeysFile([...kept, newcomer], keysFile);
      process.emit('SIGHUP', 'SIGHUP');
      expect(await codeWith(newcomer)).toBe(status.OK);
      expect(await codeWith(TEST_KEYS.tenantAService)).toBe(status.UNAUTHENTICATED);

      fs.writeFileSync(keysFile, '[{"name": "half-written"');
      process.emit('SIGHUP', 'SIGHUP');
      expect(await codeWith(newcomer)).toBe(status.OK);
      fs.writeFileSync(keysFile, JSON.stringify([{ name: 'x', tenant: 'tenant-a', role: 'root', key_sha256: '0' }]));
      process.emit('SIGHUP', 'SIGHUP');
      expect(await codeWith(newcomer)).toBe(status.OK);
    } finally {
      writeKeysFile(Object.values(TEST_KEYS), keysFile);
      process.emit('SIGHUP', 'SIGHUP');
    }
    expect(await codeWith(TEST_KEYS.tenantAService)).toBe(status.OK);
    expect(await codeWith(newcomer)).toBe(status.UNAUTHENTICATED);
  });
});

/** An id of the same shape that names nothing: the last character changed. */
function missingId(field: string, value: unknown): unknown {
  if (typeof value !== 'string' || !field.endsWith('Id') || value === '') return value;
  const last = value.at(-1) === '0' ? '1' : '0';
  return `${value.slice(0, -1)}${last}`;
}

/** Status, details and error field of an answer, or its response: what a caller could tell apart. */
function answerOf({ error, response }: { error?: ServiceError; response?: object }): string {
  if (!error) return JSON.stringify(response, bigints);
  return `${status[error.code]} ${error.details} [${error.metadata.get('error-field').join()}]`;
}

function bigints(_key: string, value: unknown) {
  return typeof value === 'bigint' ? value.toString() : value;
}
