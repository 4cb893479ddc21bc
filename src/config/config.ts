import { isIP } from 'node:net';
import type { EventEncoding } from '../outbox/cloud-event';
import { IpRange, parseAllowlist } from '../domain/ip-allowlist';

/** Everything the service reads from the environment, parsed and validated once at start-up. */
export interface Config {
  databaseUrl?: string;
  dataDir: string;
  kafkaBrokers: string[];
  kafkaTopicPrefix: string;
  eventEncoding: EventEncoding;
  grpcPort: number;
  httpPort: number;
  /** Interface both listeners bind to. */
  host: string;
  logLevel: string;
  /** Seed the demo storefronts and plans. Defaults to on for the embedded database only. */
  demoSeed: boolean;
  idempotencyRetentionHours: number;
  /** Processed webhooks are deleted this many days after processing; 0 keeps them all. */
  webhookRetentionDays: number;
  relayPollIntervalMs: number;
  /** Run the provider emulators in-process (the embedded default). Defaults to on with the demo seed. */
  emulators: boolean;
  /** The one port of the in-process emulators, each under `/<provider>` (EMULATOR_PORT, default 8091; 0 = any). */
  emulatorPort: number;
  /** Webhook processing: first retry delay (doubling, capped at 5 min), attempts before a dead letter, poll. */
  webhookRetryBaseMs: number;
  webhookMaxAttempts: number;
  webhookPollIntervalMs: number;
  /** How long a webhook after a gap in its ordering key's sequence waits for the missing ones (WEBHOOK_ORDER_GAP_MS). */
  webhookOrderGapMs: number;
  /**
   * How long one attempt at processing a webhook may wait for its provider calls (WEBHOOK_PROCESSING_TIMEOUT_MS):
   * then they are abandoned and the attempt fails, to be retried.
   */
  webhookProcessingTimeoutMs: number;
  /** Webhooks processed at once, each in its own transaction (WEBHOOK_WORKERS; always 1 on embedded PGlite). */
  webhookWorkers: number;
  /** How often the reconciler sweeps for expired checkouts and pending refunds (see app/background/reconciliation.ts). */
  reconcileIntervalMs: number;
  /** How long a refund stays PENDING (since requested or last checked) before the reconciler asks the provider. */
  reconcileRefundAfterMs: number;
  /** JSON file of API keys (`[{name, tenant, role, key_sha256}]`), re-read on SIGHUP. */
  apiKeysFile?: string;
  /** The identity provider's JWKS; when set, bearer JWTs (claims `sub`, `tenant`, `role`) are accepted too. */
  authJwksUrl?: string;
  /** Required with `authJwksUrl`: the `iss` a JWT must carry (AUTH_JWT_ISSUER). */
  authJwtIssuer?: string;
  /** Required with `authJwksUrl`: the `aud` a JWT must carry or list (AUTH_JWT_AUDIENCE). */
  authJwtAudience?: string;
  /** No keys configured on the embedded database: only the documented `demo_admin_key` is accepted. */
  demoAdminKey: boolean;
  /** The only folder `file:` secret references may read, one sub-folder per tenant (SECRETS_DIR). */
  secretsDir: string;
  /** Provider hosts a binding may use besides the provider's documented ones (PROVIDER_HOST_ALLOWLIST). */
  providerHostAllowlist: string[];
  /** How providers reach our webhook ingress (PUBLIC_BASE_URL); unset: `http://localhost:{HTTP_PORT}` once listening. */
  publicBaseUrl?: string;
  /** http and loopback/private provider URLs, for emulators (ALLOW_INSECURE_PROVIDER_URLS; on for the embedded default). */
  allowInsecureProviderUrls: boolean;
  /** RPCs served at once; beyond it calls are answered UNAVAILABLE at once (grpc/interceptors/admission.ts). */
  maxInFlightRpcs: number;
  /** RPCs one tenant's callers may have in flight at once; beyond it RESOURCE_EXHAUSTED (tenant-share.ts). */
  maxInFlightPerTenant: number;
  /** PostgreSQL connections in the pool. */
  databasePoolMax: number;
  /** How long a query waits for a pooled (or new) connection before the call answers UNAVAILABLE. */
  databaseAcquireTimeoutMs: number;
  /** Proxies whose X-Forwarded-For names a webhook's sender (TRUSTED_PROXIES: IPs/CIDRs; default none). */
  trustedProxies: IpRange[];
  /** Scheduler (app/background/scheduler.ts): poll, lease of a claimed action, runs before an action fails. */
  schedulerPollIntervalMs: number;
  schedulerLeaseMs: number;
  schedulerMaxAttempts: number;
  /** Failed provider checks of one row before the reconciler stops asking about it. */
  reconcileMaxFailures: number;
  /** A live subscription this long past its period end with no word of a renewal is asked about. */
  reconcilePeriodEndGraceMs: number;
  /** A live subscription not heard of (no change, no check) for this long is asked about. */
  reconcileSilenceMs: number;
  /**
   * Merchant-initiated renewals (binding `renewals: merchant`): days after the period end at which a declined
   * renewal is charged again (MERCHANT_RENEWAL_DUNNING_DAYS, default 1,3,5); after the last the subscription is UNPAID.
   */
  merchantRenewalDunningDays: number[];
}

/** A configuration error names the variable and the rule. */
export class ConfigError extends Error {
  constructor(variable: string, rule: string) {
    super(`${variable}: ${rule}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// connection string');
  }
  const encoding = optional(env, 'EVENT_ENCODING') ?? 'protobuf';
  if (encoding !== 'protobuf' && encoding !== 'json')
    throw new ConfigError('EVENT_ENCODING', "must be 'protobuf' or 'json'");
  const prefix = optional(env, 'KAFKA_TOPIC_PREFIX') ?? 'billing';
  if (!/^[A-Za-z0-9._-]+$/.test(prefix)) {
    throw new ConfigError('KAFKA_TOPIC_PREFIX', 'may hold only letters, digits, dot, underscore and dash');
  }
  const retention = integer(env, 'IDEMPOTENCY_RETENTION_HOURS', 24, 1, 24 * 30);
  if (retention < 24) throw new ConfigError('IDEMPOTENCY_RETENTION_HOURS', 'must be at least 24');
  const maxInFlightRpcs = integer(env, 'MAX_IN_FLIGHT_RPCS', 256, 1, 100_000);
  const webhookRetention = integer(env, 'WEBHOOK_RETENTION_DAYS', 30, 0, 3650);
  // Within a provider's redelivery window, a purged webhook delivered again is processed again (README: Retention).
  if (webhookRetention > 0 && webhookRetention < 3) {
    throw new ConfigError('WEBHOOK_RETENTION_DAYS', 'must be 0 (keep all) or at least 3');
  }
  const demoSeed = boolean(env, 'DEMO_SEED', !databaseUrl);
  const apiKeysFile = optional(env, 'API_KEYS_FILE');
  const authJwksUrl = optional(env, 'AUTH_JWKS_URL');
  if (authJwksUrl && !/^https?:\/\/[^\s/]+/.test(authJwksUrl)) {
    throw new ConfigError('AUTH_JWKS_URL', 'must be an http(s):// URL');
  }
  const authJwtIssuer = optional(env, 'AUTH_JWT_ISSUER');
  const authJwtAudience = optional(env, 'AUTH_JWT_AUDIENCE');
  // The identity provider signs tokens for other applications with the same keys: only iss + aud make one ours.
  if (authJwksUrl && !authJwtIssuer) throw new ConfigError('AUTH_JWT_ISSUER', 'is required with AUTH_JWKS_URL');
  if (authJwksUrl && !authJwtAudience) throw new ConfigError('AUTH_JWT_AUDIENCE', 'is required with AUTH_JWKS_URL');
  if (databaseUrl && !apiKeysFile && !authJwksUrl) {
    throw new ConfigError(
      'API_KEYS_FILE',
      'is required with DATABASE_URL (or AUTH_JWKS_URL): every RPC needs a caller',
    );
  }
  const emulators = boolean(env, 'EMULATORS', demoSeed);
  const allowInsecureProviderUrls = boolean(env, 'ALLOW_INSECURE_PROVIDER_URLS', !databaseUrl);
  // The demo storefronts are bound to the in-process emulators, which listen on http://127.0.0.1: without this the
  // seed itself is refused (provider_config.base_url must be https) after the database was migrated.
  if (demoSeed && emulators && !allowInsecureProviderUrls) {
    throw new ConfigError(
      'ALLOW_INSECURE_PROVIDER_URLS',
      'must be true with DEMO_SEED: the demo storefronts use the local emulators over http',
    );
  }
  // One by default: webhooks without an ordering key are then applied in arrival order, as one replica always did.
  const webhookWorkers = integer(env, 'WEBHOOK_WORKERS', 1, 1, 32);
  const databasePoolMax = integer(env, 'DATABASE_POOL_MAX', 10, 1, 1000);
  // Each lane holds a pooled connection across its provider calls: a pool of lanes only would starve ingress and RPCs.
  // One lane, the default, is allowed with any pool, as before lanes existed.
  if (databaseUrl && webhookWorkers > 1 && webhookWorkers >= databasePoolMax) {
    throw new ConfigError('WEBHOOK_WORKERS', `must be less than DATABASE_POOL_MAX (${databasePoolMax})`);
  }
  return {
    databaseUrl,
    dataDir: optional(env, 'DATA_DIR') ?? './.data',
    kafkaBrokers: brokerList(env, 'KAFKA_BROKERS'),
    kafkaTopicPrefix: prefix,
    eventEncoding: encoding,
    grpcPort: integer(env, 'GRPC_PORT', 50051, 0, 65535),
    httpPort: integer(env, 'HTTP_PORT', 8080, 0, 65535),
    host: listenHost(env, 'HOST'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    demoSeed,
    idempotencyRetentionHours: retention,
    webhookRetentionDays: webhookRetention,
    relayPollIntervalMs: integer(env, 'RELAY_POLL_INTERVAL_MS', 1000, 10, 60_000),
    emulators,
    emulatorPort: integer(env, 'EMULATOR_PORT', 8091, 0, 65535),
    webhookRetryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 1000, 10, 3_600_000),
    webhookMaxAttempts: integer(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
    webhookPollIntervalMs: integer(env, 'WEBHOOK_POLL_INTERVAL_MS', 1000, 10, 60_000),
    webhookOrderGapMs: integer(env, 'WEBHOOK_ORDER_GAP_MS', 30_000, 0, 600_000),
    webhookProcessingTimeoutMs: integer(env, 'WEBHOOK_PROCESSING_TIMEOUT_MS', 30_000, 1000, 600_000),
    webhookWorkers,
    reconcileIntervalMs: integer(env, 'RECONCILE_INTERVAL_MS', 60_000, 50, 3_600_000),
    reconcileRefundAfterMs: integer(env, 'RECONCILE_REFUND_AFTER_MS', 600_000, 0, 7 * 24 * 3_600_000),
    apiKeysFile,
    authJwksUrl,
    authJwtIssuer,
    authJwtAudience,
    demoAdminKey: !apiKeysFile && !authJwksUrl && !databaseUrl,
    secretsDir: optional(env, 'SECRETS_DIR') ?? '/run/secrets',
    providerHostAllowlist: hostList(env, 'PROVIDER_HOST_ALLOWLIST'),
    publicBaseUrl: publicBaseUrl(env),
    // The embedded default runs its emulators in-process on http://127.0.0.1.
    allowInsecureProviderUrls,
    maxInFlightRpcs,
    maxInFlightPerTenant: integer(
      env,
      'MAX_IN_FLIGHT_PER_TENANT',
      Math.ceil((maxInFlightRpcs * 3) / 4),
      1,
      maxInFlightRpcs,
    ),
    databasePoolMax,
    databaseAcquireTimeoutMs: integer(env, 'DATABASE_ACQUIRE_TIMEOUT_MS', 3000, 100, 60_000),
    trustedProxies: ipRanges(env, 'TRUSTED_PROXIES'),
    schedulerPollIntervalMs: integer(env, 'SCHEDULER_POLL_INTERVAL_MS', 1000, 10, 60_000),
    schedulerLeaseMs: integer(env, 'SCHEDULER_LEASE_MS', 300_000, 1000, 3_600_000),
    schedulerMaxAttempts: integer(env, 'SCHEDULER_MAX_ATTEMPTS', 10, 1, 100),
    reconcileMaxFailures: integer(env, 'RECONCILE_MAX_FAILURES', 20, 1, 1000),
    reconcilePeriodEndGraceMs: integer(env, 'RECONCILE_PERIOD_END_GRACE_MS', 3_600_000, 0, 7 * 24 * 3_600_000),
    reconcileSilenceMs: integer(env, 'RECONCILE_SILENCE_MS', 24 * 3_600_000, 60_000, 90 * 24 * 3_600_000),
    merchantRenewalDunningDays: dayList(env, 'MERCHANT_RENEWAL_DUNNING_DAYS', [1, 3, 5]),
  };
}

/** pino's levels. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function oneOf(env: NodeJS.ProcessEnv, name: string, allowed: readonly string[], fallback: string): string {
  const value = optional(env, name) ?? fallback;
  if (!allowed.includes(value)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got '${value}'`);
  return value;
}

/** Comma-separated `host:port` pairs (kafkajs needs the port; a bare host fails only later, at the first send). */
function brokerList(env: NodeJS.ProcessEnv, name: string): string[] {
  const brokers = commaList(env, name);
  for (const broker of brokers) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(broker);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new ConfigError(name, `must list host:port pairs separated by commas (e.g. kafka:9092), got '${broker}'`);
    }
  }
  return brokers;
}

/** An IPv4/IPv6 address or a host name to bind the listeners to; all-digit dotted names must be valid IPv4. */
function listenHost(env: NodeJS.ProcessEnv, name: string): string {
  const value = optional(env, name) ?? '0.0.0.0';
  const hostName = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
  const numeric = /^[\d.]+$/.test(value);
  if (isIP(value) === 0 && (numeric || !hostName.test(value))) {
    throw new ConfigError(name, `must be an IPv4 or IPv6 address or a host name to listen on, got '${value}'`);
  }
  return value;
}

/** Comma-separated IPv4/IPv6 addresses or CIDRs. */
function ipRanges(env: NodeJS.ProcessEnv, name: string): IpRange[] {
  const parsed = parseAllowlist(optional(env, name) ?? '');
  if ('error' in parsed) throw new ConfigError(name, parsed.error);
  return parsed.ranges;
}

/** A comma-separated variable's non-empty items, trimmed (none when it is unset). */
function commaList(env: NodeJS.ProcessEnv, name: string): string[] {
  return (optional(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** Comma-separated host names (no scheme, port or path), lower-cased. */
/** An http(s) origin (and optional path) providers can post to; kept without a trailing slash. */
function publicBaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const value = optional(env, 'PUBLIC_BASE_URL');
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('PUBLIC_BASE_URL', 'must be an absolute http(s) URL, e.g. https://billing.example.com');
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) {
    throw new ConfigError('PUBLIC_BASE_URL', 'must be an http(s) URL without credentials, query or fragment');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function hostList(env: NodeJS.ProcessEnv, name: string): string[] {
  const hosts = commaList(env, name).map((h) => h.toLowerCase());
  for (const host of hosts) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host) && !/^\[?[0-9a-f:.]+\]?$/.test(host)) {
      throw new ConfigError(name, `must list host names separated by commas (no scheme, port or path), got '${host}'`);
    }
  }
  return hosts.map((h) => h.replace(/^\[|\]$/g, ''));
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, "must be 'true' or 'false'");
}

/** Comma-separated whole days, each 1–365 and later than the one before (at most 20). */
function dayList(env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const days = value.split(',').map((part) => part.trim());
  const rule = 'must be 1 to 20 comma-separated whole days from 1 to 365, each later than the one before';
  if (days.length > 20 || days.some((d) => !/^\d{1,3}$/.test(d))) throw new ConfigError(name, rule);
  const numbers = days.map(Number);
  if (numbers.some((n, i) => n < 1 || n > 365 || (i > 0 && n <= numbers[i - 1]!))) throw new ConfigError(name, rule);
  return numbers;
}
