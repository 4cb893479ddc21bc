import * as grpc from '@grpc/grpc-js';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ALL_PROVIDERS } from '../../adapters';
import { loadConfig } from '../../src/config/config';
import { CatalogServiceClient } from '../../src/gen/billing/v1/catalog';
import { CustomerServiceClient } from '../../src/gen/billing/v1/customer';
import { EventServiceClient } from '../../src/gen/billing/v1/event';
import { StorefrontServiceClient } from '../../src/gen/billing/v1/storefront';
import { SubscriptionServiceClient } from '../../src/gen/billing/v1/subscription';
import type { ProviderModule } from '../../src/ports/provider-adapter.port';
import { RunningService, ServiceOptions, startService } from '../../src/service';

export interface TestService extends RunningService {
  clients: {
    storefronts: StorefrontServiceClient;
    catalog: CatalogServiceClient;
    customers: CustomerServiceClient;
    events: EventServiceClient;
    subscriptions: SubscriptionServiceClient;
  };
  topicPrefix: string;
  close(): Promise<void>;
}

/** A test caller: its plaintext key (sent as `authorization: Bearer <key>`) and who the key file says it is. */
export interface TestKey {
  key: string;
  name: string;
  tenant: string;
  role: 'service' | 'platform' | 'admin';
}

/** The keys every test service accepts. `admin` is what `call` sends unless told otherwise. */
export const TEST_KEYS = {
  admin: { key: 'test_admin_key', name: 'test-admin', tenant: 'test-ops', role: 'admin' },
  tenantAService: { key: 'test_tenant_a_service_key', name: 'tenant-a-checkout', tenant: 'tenant-a', role: 'service' },
  tenantAPlatform: {
    key: 'test_tenant_a_platform_key',
    name: 'tenant-a-console',
    tenant: 'tenant-a',
    role: 'platform',
  },
  tenantBService: { key: 'test_tenant_b_service_key', name: 'tenant-b-checkout', tenant: 'tenant-b', role: 'service' },
  tenantBPlatform: {
    key: 'test_tenant_b_platform_key',
    name: 'tenant-b-console',
    tenant: 'tenant-b',
    role: 'platform',
  },
} as const satisfies Record<string, TestKey>;

/** Metadata that authenticates as `key`. */
export function bearer(key: TestKey): Record<string, string> {
  return { authorization: `Bearer ${key.key}` };
}

/** Writes an `API_KEYS_FILE` holding `keys` (hashed, as in production) and returns its path. */
export function writeKeysFile(keys: readonly TestKey[] = Object.values(TEST_KEYS), file?: string): string {
  const target = file ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'billing-keys-')), 'api-keys.json');
  const entries = keys.map((k) => ({
    name: k.name,
    tenant: k.tenant,
    role: k.role,
    key_sha256: createHash('sha256').update(k.key).digest('hex'),
  }));
  fs.writeFileSync(target, JSON.stringify(entries, null, 2));
  return target;
}

/**
 * Runs the real service in-process on free ports, with real gRPC clients pointed at it. `extraProviders` join the
 * shipped ones (a test's fake provider).
 */
export async function startTestService(
  env: Record<string, string | undefined>,
  options: ServiceOptions & { extraProviders?: readonly ProviderModule[] } = {},
): Promise<TestService> {
  const topicPrefix = env.KAFKA_TOPIC_PREFIX ?? `test-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    HOST: '127.0.0.1',
    RELAY_POLL_INTERVAL_MS: '200',
    DEMO_SEED: 'false',
    API_KEYS_FILE: env.API_KEYS_FILE ?? writeKeysFile(),
    ALLOW_INSECURE_PROVIDER_URLS: 'true',
    ...env,
    KAFKA_TOPIC_PREFIX: topicPrefix,
  });
  const { extraProviders, ...serviceOptions } = options;
  const service = await startService(config, {
    ...serviceOptions,
    ...(extraProviders && { providers: [...(options.providers ?? ALL_PROVIDERS), ...extraProviders] }),
    logger: options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  const address = `127.0.0.1:${service.grpcPort}`;
  const credentials = grpc.credentials.createInsecure();
  const clients = {
    storefronts: new StorefrontServiceClient(address, credentials),
    catalog: new CatalogServiceClient(address, credentials),
    customers: new CustomerServiceClient(address, credentials),
    events: new EventServiceClient(address, credentials),
    subscriptions: new SubscriptionServiceClient(address, credentials),
  };
  return {
    ...service,
    clients,
    topicPrefix,
    async close() {
      for (const client of Object.values(clients)) client.close();
      await service.stop();
    },
  };
}

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/**
 * Promisified unary call with metadata; resolves the response and the trailers. Authenticates as the test admin
 * unless `metadata.authorization` says otherwise ('' sends no authorization at all).
 */
export function call<Req, Res>(
  client: grpc.Client,
  method: Unary<Req, Res>,
  request: Req,
  metadata: Record<string, string> = {},
): Promise<Res> {
  return callWithTrailers(client, method, request, metadata).then((r) => r.response);
}

export function callWithTrailers<Req, Res>(
  client: grpc.Client,
  method: Unary<Req, Res>,
  request: Req,
  metadata: Record<string, string> = {},
): Promise<{ response: Res; trailers: grpc.Metadata }> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries({ ...bearer(TEST_KEYS.admin), ...metadata })) if (v !== '') md.set(k, v);
  return new Promise((resolve, reject) => {
    let trailers = new grpc.Metadata();
    let result: Res | undefined;
    let done = false;
    const finish = () => {
      if (done && result !== undefined) resolve({ response: result, trailers });
    };
    const unary = method.call(client, request, md, { deadline: Date.now() + 30_000 }, (error, response) => {
      if (error) return reject(error);
      result = response;
      finish();
    });
    unary.on('status', (status: grpc.StatusObject) => {
      trailers = status.metadata;
      done = true;
      finish();
    });
  });
}

/** Expects a call to fail; returns the error for assertions. */
export async function callError<Req, Res>(
  client: grpc.Client,
  method: Unary<Req, Res>,
  request: Req,
  metadata: Record<string, string> = {},
): Promise<grpc.ServiceError> {
  try {
    await call(client, method, request, metadata);
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The types of the events written about one aggregate, oldest first (read through EventService.ListEvents). */
export async function eventTypesOf(service: TestService, aggregateId: string): Promise<string[]> {
  const { events } = await call(service.clients.events, service.clients.events.listEvents, {
    storefrontId: '',
    aggregateId,
    types: [],
    since: undefined,
    until: undefined,
    pageSize: 500,
    pageToken: '',
  });
  return events.map((e) => e.type);
}

/** A gauge's (unlabelled) value from the service's GET /metrics. */
export async function gauge(service: RunningService, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`metric ${name} not found`);
  return Number(match[1]);
}

/** A counter's value for exact labels, e.g. counter(s, 'x_total', { kind: 'refund' }); 0 when never counted. */
export async function counter(service: RunningService, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
