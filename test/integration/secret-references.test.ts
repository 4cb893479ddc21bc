import { Metadata, status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { IntervalUnit } from '../../src/gen/billing/v1/common';
import type { CreateStorefrontRequest } from '../../src/gen/billing/v1/storefront';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { storefrontRequest, subscriptionCheckout } from '../support/fixtures';
import { subotizSecretRefs, subotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { bearer, call, callError, startTestService, TEST_KEYS, TestService } from '../support/test-service';

/** A real HTTP listener standing in for an attacker (or a provider echoing what it got); counts what reaches it. */
interface Listener {
  url: string;
  hits: number;
  close(): Promise<void>;
}

async function listen(answer: (req: http.IncomingMessage) => { status: number; body: string }): Promise<Listener> {
  const listener: Listener = { url: '', hits: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    listener.hits += 1;
    req.resume();
    req.on('end', () => {
      const { status: code, body } = answer(req);
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  listener.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  listener.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return listener;
}

/** A plan and a customer on `storefrontId`, and a CreateCheckoutSession request for them (the call that reaches a provider). */
async function checkoutRequest(service: TestService, storefrontId: string) {
  const { plan } = await call(service.clients.catalog, service.clients.catalog.createPlan, {
    storefrontId,
    name: 'Pro monthly',
    price: { currencyCode: 'EUR', amountMinor: 1999n, amountDecimal: '' },
    interval: { unit: IntervalUnit.INTERVAL_UNIT_MONTH, count: 1 },
    trialDays: 0,
    featureKeys: ['pro'],
    providerRefs: { subotiz: 'price_x' },
  });
  const { customer } = await call(service.clients.customers, service.clients.customers.createCustomer, {
    storefrontId,
    externalRef: `user-${randomBytes(3).toString('hex')}`,
    email: `u${randomBytes(3).toString('hex')}@example.com`,
    name: 'Ada',
    phone: '',
    country: 'DE',
    address: undefined,
  });
  return subscriptionCheckout(storefrontId, customer!.id, plan!.id);
}

const fieldOf = (metadata: Metadata) => metadata.get('error-field')[0];

/** What a caller sees of an error: message and trailers. A secret must be in neither. */
const visible = (error: { details: string; metadata: Metadata }) =>
  JSON.stringify({ details: error.details, trailers: error.metadata.getMap() });

/**
 * A production deployment (no insecure URLs): secret references resolve only from the storefront tenant's own
 * scope, provider URLs only to the provider's documented hosts; every attack is refused when written, naming the
 * field, writing nothing, and nothing reaches the attacker's listener, not even from a row written before the rules.
 */
describe('secret references and provider URLs that would leak a secret', () => {
  let db: TestDatabase;
  let service: TestService;
  let attacker: Listener;
  const secretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-secrets-'));

  beforeAll(async () => {
    fs.mkdirSync(path.join(secretsDir, 'tenant-a'));
    fs.mkdirSync(path.join(secretsDir, 'tenant-b'));
    fs.writeFileSync(path.join(secretsDir, 'tenant-b', 'api_key'), 'tenant-b-file-secret');
    fs.symlinkSync('/etc/passwd', path.join(secretsDir, 'tenant-a', 'escape'));
    process.env.BILLING_SECRET_TENANT_B_API_KEY = 'tenant-b-env-secret';
    process.env.BILLING_SECRET_TENANT_A_WEBHOOK_SECRET = 'whsec_tenant_a';
    attacker = await listen(() => ({ status: 200, body: '{"code":"success","data":{}}' }));
    db = await createTestDatabase();
    service = await startTestService({
      DATABASE_URL: db.url,
      ALLOW_INSECURE_PROVIDER_URLS: 'false',
      SECRETS_DIR: secretsDir,
    });
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
    await attacker?.close();
    fs.rmSync(secretsDir, { recursive: true, force: true });
  });

  const sf = () => service.clients.storefronts;
  const legit = { base_url: 'https://api.sandbox.subotiz.com', auth_mode: 'bearer' };
  const attacks: [string, Partial<CreateStorefrontRequest>, string, string][] = [
    [
      'the service’s database URL',
      { secretRefs: { api_key: 'env:DATABASE_URL' } },
      'secret_refs.api_key',
      'BILLING_SECRET_TENANT_A_',
    ],
    ['any host env var', { secretRefs: { api_key: 'env:HOME' } }, 'secret_refs.api_key', 'BILLING_SECRET_TENANT_A_'],
    [
      'another tenant’s env secret',
      { secretRefs: { api_key: 'env:BILLING_SECRET_TENANT_B_API_KEY' } },
      'secret_refs.api_key',
      'BILLING_SECRET_TENANT_A_',
    ],
    ['a host file', { secretRefs: { api_key: 'file:/etc/passwd' } }, 'secret_refs.api_key', 'secrets folder'],
    ['another tenant’s file', { secretRefs: { api_key: 'file:../tenant-b/api_key' } }, 'secret_refs.api_key', "'..'"],
    [
      'a symlink out of the tenant’s folder',
      { secretRefs: { api_key: 'file:escape' } },
      'secret_refs.api_key',
      'link leads outside',
    ],
    ['an attacker listener over http', { providerConfig: { base_url: '' } }, 'provider_config.base_url', 'https'],
    [
      'an attacker listener over https on loopback',
      { providerConfig: { base_url: 'https://127.0.0.1:1' } },
      'provider_config.base_url',
      'loopback',
    ],
    [
      'an undocumented host',
      { providerConfig: { base_url: 'https://subotiz.attacker.example' } },
      'provider_config.base_url',
      'documented host',
    ],
    [
      'credentials in the URL',
      { providerConfig: { base_url: 'https://user:hunter2@api.subotiz.com' } },
      'provider_config.base_url',
      'credentials',
    ],
  ];

  it.each(attacks)(
    'refuses %s on CreateStorefront with INVALID_ARGUMENT naming the field, writing nothing',
    async (_name, attack, field, rule) => {
      const id = `atk-${randomBytes(3).toString('hex')}`;
      const providerConfig = { ...legit, ...attack.providerConfig };
      if (providerConfig.base_url === '') providerConfig.base_url = attacker.url;
      const request = storefrontRequest(id, {
        providerConfig,
        secretRefs: { webhook_secret: 'env:BILLING_SECRET_TENANT_A_WEBHOOK_SECRET', ...attack.secretRefs },
      });
      const error = await callError(sf(), sf().createStorefront, request);
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldOf(error.metadata)).toBe(field);
      expect(error.details).toContain(rule);
      expect(visible(error)).not.toContain('hunter2');
      expect((await callError(sf(), sf().getStorefront, { storefrontId: id })).code).toBe(status.NOT_FOUND);
      expect(attacker.hits).toBe(0);
    },
  );

  it('refuses the same on UpdateStorefront and SwitchProvider, leaving the binding as it was', async () => {
    await call(sf(), sf().createStorefront, storefrontRequest('kept', { providerConfig: legit }));
    const update = await callError(sf(), sf().updateStorefront, {
      storefrontId: 'kept',
      providerConfig: { ...legit, base_url: attacker.url },
      replaceProviderConfig: true,
      secretRefs: { api_key: 'env:BILLING_SECRET_TENANT_B_API_KEY' },
      replaceSecretRefs: true,
      expectedVersion: 0n,
    });
    expect(update.code).toBe(status.INVALID_ARGUMENT);
    expect(update.details).toContain('provider_config.base_url');
    expect(update.details).toContain('secret_refs.api_key');
    const switched = await callError(sf(), sf().switchProvider, {
      storefrontId: 'kept',
      provider: 'azotte',
      providerConfig: { base_url: 'https://azotte.attacker.example' },
      secretRefs: { api_key: 'file:/etc/passwd' },
      reason: 'attack',
    });
    expect(switched.code).toBe(status.INVALID_ARGUMENT);
    expect(switched.details).toContain('provider_config.base_url');
    expect(switched.details).toContain('secret_refs.api_key');
    const { storefront } = await call(sf(), sf().getStorefront, { storefrontId: 'kept' });
    expect(storefront!.version).toBe(1n);
    expect(storefront!.binding).toMatchObject({ provider: 'subotiz', config: legit });
    expect(attacker.hits).toBe(0);
  });

  it('re-checks a binding written before these rules: the provider call is refused and nothing reaches the listener', async () => {
    await call(sf(), sf().createStorefront, storefrontRequest('legacy', { providerConfig: legit }));
    const request = await checkoutRequest(service, 'legacy');
    await withClient(db.url, (c) =>
      c.query(
        `update storefront_bindings set provider_config = $1, secret_refs = $2
         where storefront_id = 'legacy' and valid_until is null`,
        [JSON.stringify({ base_url: attacker.url, auth_mode: 'bearer' }), JSON.stringify({ api_key: 'env:HOME' })],
      ),
    );
    const subs = service.clients.subscriptions;
    const error = await callError(subs, subs.createCheckoutSession, request);
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain('provider_config.base_url');
    expect(error.details).toContain('secret_refs.api_key');
    expect(visible(error)).not.toContain(process.env.HOME!);
    expect(attacker.hits).toBe(0);
  });
});

/**
 * An emulator deployment (ALLOW_INSECURE_PROVIDER_URLS, as the tests and the embedded default run): a tenant's own
 * env and file secrets work end to end, and a provider that echoes the credential in its error cannot leak it.
 */
describe('tenant-scoped secrets at work', () => {
  let db: TestDatabase;
  let service: TestService;
  const secretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-secrets-'));

  beforeAll(async () => {
    fs.mkdirSync(path.join(secretsDir, 'tenant-a'));
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, SECRETS_DIR: secretsDir });
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
    fs.rmSync(secretsDir, { recursive: true, force: true });
  });

  it('sells a subscription with env:BILLING_SECRET_TENANT_A_* references, then with a file: reference', async () => {
    const world = await subotizWorld(service, { storefrontId: 'legit-store' });
    try {
      const first = await world.activeSubscription();
      expect((await world.subscription(first.id)).status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);

      fs.writeFileSync(path.join(secretsDir, 'tenant-a', 'subotiz_api_key'), `${process.env.TEST_SUBOTIZ_API_KEY}\n`);
      await call(service.clients.storefronts, service.clients.storefronts.updateStorefront, {
        storefrontId: 'legit-store',
        providerConfig: {},
        replaceProviderConfig: false,
        secretRefs: { ...subotizSecretRefs(), api_key: 'file:subotiz_api_key' },
        replaceSecretRefs: true,
        expectedVersion: 0n,
      });
      const second = await world.activeSubscription();
      expect(second.id).not.toBe(first.id);
    } finally {
      await world.close();
    }
  });

  it('scrubs a secret the provider echoes back (as is, base64, URL-encoded) from the gRPC error', async () => {
    const secret = `sk_echo_${randomBytes(12).toString('hex')}`;
    process.env.BILLING_SECRET_TENANT_A_ECHO_API_KEY = secret;
    let mode: 'invalid' | 'down' = 'invalid';
    const echo = await listen((req) => {
      const auth = String(req.headers.authorization);
      const echoed = `${auth} ${Buffer.from(auth).toString('base64')} ${encodeURIComponent(auth)}`;
      return mode === 'invalid'
        ? { status: 400, body: JSON.stringify({ code: 'invalidParameter', message: `api_key: ${echoed} is wrong` }) }
        : { status: 503, body: JSON.stringify({ code: 'serviceUnavailable', message: `down for ${echoed}` }) };
    });
    try {
      await call(
        service.clients.storefronts,
        service.clients.storefronts.createStorefront,
        storefrontRequest('echo-store', {
          providerConfig: { base_url: echo.url, auth_mode: 'bearer' },
          secretRefs: { api_key: 'env:BILLING_SECRET_TENANT_A_ECHO_API_KEY' },
        }),
      );
      const request = await checkoutRequest(service, 'echo-store');
      const subs = service.clients.subscriptions;
      for (const which of ['invalid', 'down'] as const) {
        mode = which;
        const hitsBefore = echo.hits;
        const error = await callError(subs, subs.createCheckoutSession, request);
        expect(echo.hits).toBeGreaterThan(hitsBefore);
        expect(error.code).toBe(which === 'invalid' ? status.INVALID_ARGUMENT : status.UNAVAILABLE);
        const seen = visible(error);
        expect(seen).toContain('[secret]');
        for (const form of [secret, Buffer.from(`Bearer ${secret}`).toString('base64').slice(8, 40), secret.slice(4)]) {
          expect(seen).not.toContain(form);
        }
      }
    } finally {
      await echo.close();
    }
  });

  it('keeps tenant-a from the env secrets of tenant-a-eu, whose prefix BILLING_SECRET_TENANT_A_EU_ extends its own', async () => {
    const secret = `sk_eu_${randomBytes(8).toString('hex')}`;
    process.env.BILLING_SECRET_TENANT_A_EU_API_KEY = secret;
    const theirs = { ...subotizSecretRefs(), api_key: 'env:BILLING_SECRET_TENANT_A_EU_API_KEY' };
    const platformA = bearer(TEST_KEYS.tenantAPlatform);
    const listener = await listen(() => ({ status: 200, body: '{"code":"success","data":{}}' }));
    const sf = service.clients.storefronts;
    try {
      // Written while no tenant-a-eu exists, the name is tenant-a's; it stops being so once tenant-a-eu does.
      await call(
        sf,
        sf.createStorefront,
        storefrontRequest('before-eu', {
          providerConfig: { base_url: listener.url, auth_mode: 'bearer' },
          secretRefs: theirs,
        }),
        platformA,
      );
      const request = await checkoutRequest(service, 'before-eu');
      await call(sf, sf.createStorefront, storefrontRequest('eu-store', { tenantId: 'tenant-a-eu' }));

      const subs = service.clients.subscriptions;
      const resolved = await callError(subs, subs.createCheckoutSession, request, platformA);
      expect(resolved.code).toBe(status.FAILED_PRECONDITION);
      expect(fieldOf(resolved.metadata)).toBe('secret_refs.api_key');
      expect(resolved.details).toContain("another tenant's BILLING_SECRET_<TENANT>_ prefix");
      expect(visible(resolved)).not.toContain(secret);
      expect(listener.hits).toBe(0);

      const written = await callError(
        sf,
        sf.createStorefront,
        storefrontRequest('after-eu', { providerConfig: { base_url: listener.url }, secretRefs: theirs }),
        platformA,
      );
      expect(written.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldOf(written.metadata)).toBe('secret_refs.api_key');
      expect(written.details).not.toContain('tenant-a-eu');
      expect((await callError(sf, sf.getStorefront, { storefrontId: 'after-eu' })).code).toBe(status.NOT_FOUND);
      // tenant-a-eu's own storefront may still name it.
      await call(sf, sf.updateStorefront, {
        storefrontId: 'eu-store',
        providerConfig: {},
        replaceProviderConfig: false,
        secretRefs: {
          webhook_secret: 'env:BILLING_SECRET_TENANT_A_EU_WEBHOOK_SECRET',
          access_no: 'env:BILLING_SECRET_TENANT_A_EU_SUBOTIZ_ACCESS_NO',
          api_key: theirs.api_key,
        },
        replaceSecretRefs: true,
        expectedVersion: 0n,
      });
    } finally {
      await listener.close();
    }
  });

  it('refuses a storefront in a tenant whose env prefix is another’s, with or without storefronts', async () => {
    const sf = service.clients.storefronts;
    const eu = `eu-${randomBytes(3).toString('hex')}`;
    await call(sf, sf.createStorefront, storefrontRequest(eu, { tenantId: 'tenant-a-eu' }));
    // tenant-a-eu has a storefront; tenant-b only holds an API key.
    for (const [tenantId, prefix] of [
      ['tenant_a_eu', 'BILLING_SECRET_TENANT_A_EU_'],
      ['tenant_b', 'BILLING_SECRET_TENANT_B_'],
    ]) {
      const error = await callError(sf, sf.createStorefront, storefrontRequest('clash', { tenantId }));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldOf(error.metadata)).toBe('tenant_id');
      expect(error.details).toContain(`env prefix ${prefix} of another tenant`);
      expect((await callError(sf, sf.getStorefront, { storefrontId: 'clash' })).code).toBe(status.NOT_FOUND);
    }
  });

  it('never sends a secret holding a newline, and never shows it', async () => {
    const secret = `sk_nl_${randomBytes(6).toString('hex')}\r\nX-Injected: yes`;
    process.env.BILLING_SECRET_TENANT_A_NL_API_KEY = secret;
    const echo = await listen(() => ({ status: 200, body: '{"code":"success","data":{}}' }));
    try {
      await call(
        service.clients.storefronts,
        service.clients.storefronts.createStorefront,
        storefrontRequest('nl-store', {
          providerConfig: { base_url: echo.url, auth_mode: 'bearer' },
          secretRefs: { api_key: 'env:BILLING_SECRET_TENANT_A_NL_API_KEY' },
        }),
      );
      const request = await checkoutRequest(service, 'nl-store');
      const subs = service.clients.subscriptions;
      const error = await callError(subs, subs.createCheckoutSession, request);
      expect(error.code).toBe(status.UNAVAILABLE);
      expect(error.details).toContain('cannot carry');
      expect(visible(error)).not.toContain('sk_nl_');
      expect(echo.hits).toBe(0);
    } finally {
      await echo.close();
    }
  });
});
