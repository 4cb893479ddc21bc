import { loadConfig } from '../../src/config/config';

describe('configuration from the environment', () => {
  it('defaults to the embedded setup with no configuration at all', () => {
    expect(loadConfig({})).toMatchObject({
      databaseUrl: undefined,
      dataDir: './.data',
      kafkaBrokers: [],
      kafkaTopicPrefix: 'billing',
      eventEncoding: 'protobuf',
      grpcPort: 50051,
      httpPort: 8080,
      demoSeed: true,
      idempotencyRetentionHours: 24,
      maxInFlightRpcs: 256,
      databasePoolMax: 10,
      databaseAcquireTimeoutMs: 3000,
    });
  });

  it('keeps processed webhooks 30 days unless told; 0 keeps them all', () => {
    expect(loadConfig({}).webhookRetentionDays).toBe(30);
    expect(loadConfig({ WEBHOOK_RETENTION_DAYS: '0' }).webhookRetentionDays).toBe(0);
    expect(() => loadConfig({ WEBHOOK_RETENTION_DAYS: '-1' })).toThrow(/^WEBHOOK_RETENTION_DAYS: must be an integer/);
    expect(() => loadConfig({ WEBHOOK_RETENTION_DAYS: '1' })).toThrow(
      /^WEBHOOK_RETENTION_DAYS: must be 0 \(keep all\) or at least 3/,
    );
  });

  it('does not seed demo data on an external database unless asked', () => {
    const external = { DATABASE_URL: 'postgres://db/x', API_KEYS_FILE: '/etc/billing/keys.json' };
    expect(loadConfig(external).demoSeed).toBe(false);
    // The demo storefronts call the local emulators over http, which an external database's default refuses.
    expect(loadConfig({ ...external, DEMO_SEED: 'true', ALLOW_INSECURE_PROVIDER_URLS: 'true' }).demoSeed).toBe(true);
  });

  it('reads the secret and provider-URL settings; insecure provider URLs only on the embedded default', () => {
    expect(loadConfig({})).toMatchObject({
      secretsDir: '/run/secrets',
      providerHostAllowlist: [],
      allowInsecureProviderUrls: true,
    });
    const production = loadConfig({
      DATABASE_URL: 'postgres://db/x',
      API_KEYS_FILE: '/etc/billing/keys.json',
      SECRETS_DIR: '/var/secrets',
      PROVIDER_HOST_ALLOWLIST: ' Pay.Example.net, core-eu.paytiko.com ',
    });
    expect(production).toMatchObject({
      secretsDir: '/var/secrets',
      providerHostAllowlist: ['pay.example.net', 'core-eu.paytiko.com'],
      allowInsecureProviderUrls: false,
    });
    expect(
      loadConfig({ DATABASE_URL: 'postgres://db/x', API_KEYS_FILE: '/k.json', ALLOW_INSECURE_PROVIDER_URLS: 'true' })
        .allowInsecureProviderUrls,
    ).toBe(true);
    expect(() => loadConfig({ PROVIDER_HOST_ALLOWLIST: 'https://pay.example.net/x' })).toThrow(
      /^PROVIDER_HOST_ALLOWLIST: /,
    );
    expect(() => loadConfig({ ALLOW_INSECURE_PROVIDER_URLS: 'yes' })).toThrow(/^ALLOW_INSECURE_PROVIDER_URLS: /);
  });

  it('reads the JWT issuer and audience that go with AUTH_JWKS_URL', () => {
    const jwt = {
      DATABASE_URL: 'postgres://db/x',
      AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
      AUTH_JWT_ISSUER: 'https://idp.example.com/',
      AUTH_JWT_AUDIENCE: 'billing-adapter',
    };
    expect(loadConfig(jwt)).toMatchObject({
      authJwksUrl: 'https://idp.example.com/.well-known/jwks.json',
      authJwtIssuer: 'https://idp.example.com/',
      authJwtAudience: 'billing-adapter',
    });
  });

  it('allows the one default lane with any pool, and more lanes only below DATABASE_POOL_MAX', () => {
    const external = { DATABASE_URL: 'postgres://db/x', API_KEYS_FILE: '/k.json' };
    expect(loadConfig({ ...external, DATABASE_POOL_MAX: '1' }).webhookWorkers).toBe(1);
    expect(loadConfig({ ...external, WEBHOOK_WORKERS: '4' })).toMatchObject({ webhookWorkers: 4, databasePoolMax: 10 });
  });

  it('splits KAFKA_BROKERS', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092' }).kafkaBrokers).toEqual(['a:9092', 'b:9092']);
  });

  it.each([
    [{ GRPC_PORT: 'fifty' }, 'GRPC_PORT'],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT'],
    [{ EVENT_ENCODING: 'avro' }, 'EVENT_ENCODING'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ KAFKA_TOPIC_PREFIX: 'bad prefix' }, 'KAFKA_TOPIC_PREFIX'],
    [{ IDEMPOTENCY_RETENTION_HOURS: '2' }, 'IDEMPOTENCY_RETENTION_HOURS'],
    [{ DATABASE_URL: 'postgres://db/x' }, 'API_KEYS_FILE'],
    [{ DATABASE_URL: 'postgres://db/x', API_KEYS_FILE: '/k.json', DEMO_SEED: 'true' }, 'ALLOW_INSECURE_PROVIDER_URLS'],
    [{ AUTH_JWKS_URL: 'file:///etc/jwks.json', AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a' }, 'AUTH_JWKS_URL'],
    [{ AUTH_JWKS_URL: 'https://idp/jwks.json', AUTH_JWT_AUDIENCE: 'billing' }, 'AUTH_JWT_ISSUER'],
    [{ AUTH_JWKS_URL: 'https://idp/jwks.json', AUTH_JWT_ISSUER: 'https://idp/' }, 'AUTH_JWT_AUDIENCE'],
    [{ AUTH_JWKS_URL: 'https://idp/jwks.json', AUTH_JWT_ISSUER: ' ', AUTH_JWT_AUDIENCE: 'billing' }, 'AUTH_JWT_ISSUER'],
    [{ MAX_IN_FLIGHT_RPCS: '0' }, 'MAX_IN_FLIGHT_RPCS'],
    [{ DATABASE_POOL_MAX: 'many' }, 'DATABASE_POOL_MAX'],
    [{ DATABASE_ACQUIRE_TIMEOUT_MS: '5' }, 'DATABASE_ACQUIRE_TIMEOUT_MS'],
    [{ WEBHOOK_WORKERS: '0' }, 'WEBHOOK_WORKERS'],
    [{ DATABASE_URL: 'postgres://db/x', API_KEYS_FILE: '/k.json', WEBHOOK_WORKERS: '10' }, 'WEBHOOK_WORKERS'],
    [
      { DATABASE_URL: 'postgres://db/x', API_KEYS_FILE: '/k.json', WEBHOOK_WORKERS: '2', DATABASE_POOL_MAX: '2' },
      'WEBHOOK_WORKERS',
    ],
  ])('fails fast on %p, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });

  it('reads PUBLIC_BASE_URL without a trailing slash, refusing anything providers could not post to', () => {
    expect(loadConfig({}).publicBaseUrl).toBeUndefined();
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://billing.example.com/' }).publicBaseUrl).toBe(
      'https://billing.example.com',
    );
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://example.com/billing/' }).publicBaseUrl).toBe(
      'https://example.com/billing',
    );
    for (const bad of ['billing.example.com', 'ftp://example.com', 'https://u:p@example.com', 'https://e.com/?a=1']) {
      expect(() => loadConfig({ PUBLIC_BASE_URL: bad })).toThrow('PUBLIC_BASE_URL');
    }
  });

  it('never echoes a database password in its error', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:hunter2@x' })).not.toThrow(/hunter2/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:hunter2@x' })).toThrow(/^DATABASE_URL: /);
  });

  it('reads the one emulator port from EMULATOR_PORT (default 8091), naming the variable when it is bad', () => {
    expect(loadConfig({}).emulatorPort).toBe(8091);
    expect(loadConfig({ EMULATOR_PORT: '0' }).emulatorPort).toBe(0);
    expect(loadConfig({ EMULATOR_PORT: '9093' }).emulatorPort).toBe(9093);
    expect(() => loadConfig({ EMULATOR_PORT: '70000' })).toThrow(/^EMULATOR_PORT: /);
    expect(() => loadConfig({ EMULATOR_PORT: 'x' })).toThrow(/^EMULATOR_PORT: /);
  });
});
