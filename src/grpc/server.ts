import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import fs from 'node:fs';
import path from 'node:path';
import type { CatalogUseCases } from '../app/use-cases/catalog';
import type { CustomerUseCases } from '../app/use-cases/customers';
import type { DeadLetterUseCases } from '../app/use-cases/dead-letters';
import type { EntitlementUseCases } from '../app/use-cases/entitlements';
import type { EventUseCases } from '../app/use-cases/events';
import type { PaymentUseCases } from '../app/use-cases/payments';
import type { SubscriptionServiceUseCases } from './handlers/subscription-handlers';
import type { StorefrontUseCases } from '../app/use-cases/storefronts';
import { CatalogServiceService } from '../gen/billing/v1/catalog';
import * as catalogMessages from '../gen/billing/v1/catalog';
import { CustomerServiceService } from '../gen/billing/v1/customer';
import * as customerMessages from '../gen/billing/v1/customer';
import { EntitlementServiceService } from '../gen/billing/v1/entitlement';
import * as entitlementMessages from '../gen/billing/v1/entitlement';
import { EventServiceService } from '../gen/billing/v1/event';
import * as eventMessages from '../gen/billing/v1/event';
import { PaymentServiceService } from '../gen/billing/v1/payment';
import * as paymentMessages from '../gen/billing/v1/payment';
import { StorefrontServiceService } from '../gen/billing/v1/storefront';
import * as storefrontMessages from '../gen/billing/v1/storefront';
import { SubscriptionServiceService } from '../gen/billing/v1/subscription';
import * as subscriptionMessages from '../gen/billing/v1/subscription';
import { catalogHandlers } from './handlers/catalog-handlers';
import { customerHandlers } from './handlers/customer-handlers';
import { entitlementHandlers } from './handlers/entitlement-handlers';
import { eventHandlers } from './handlers/event-handlers';
import { paymentHandlers } from './handlers/payment-handlers';
import { storefrontHandlers } from './handlers/storefront-handlers';
import { subscriptionHandlers } from './handlers/subscription-handlers';
import { deferredDecoding } from './deferred-decoding';
import { HealthService } from './health-service';
import { reusingWriter } from './response-encoding';
import { bindService, Handlers, RpcDeps } from './rpc-wrapper';

export interface UseCases {
  storefronts: StorefrontUseCases;
  catalog: CatalogUseCases;
  customers: CustomerUseCases;
  events: EventUseCases;
  deadLetters: DeadLetterUseCases;
  subscriptions: SubscriptionServiceUseCases;
  payments: PaymentUseCases;
  entitlements: EntitlementUseCases;
}

const PROTO_DIR = path.resolve(__dirname, '../../proto');

/** The largest request message accepted, after decompression; the input limits allow a few hundred KB. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/**
 * Calls in progress on one connection: MAX_IN_FLIGHT_RPCS's default, so a client on one channel meets the server's
 * UNAVAILABLE at that limit before its calls would queue in its own transport.
 */
const MAX_STREAMS_PER_CONNECTION = 256;

/** The services health checks report on, by their full names. */
const SERVICE_NAMES = [
  'billing.v1.StorefrontService',
  'billing.v1.CatalogService',
  'billing.v1.CustomerService',
  'billing.v1.SubscriptionService',
  'billing.v1.PaymentService',
  'billing.v1.EntitlementService',
  'billing.v1.EventService',
];

/** All billing.v1 services, grpc.health.v1 and server reflection on one server. */
export function buildGrpcServer(useCases: UseCases, deps: RpcDeps): { server: grpc.Server; health: HealthService } {
  const server = new grpc.Server({
    // grpc-js holds a request until it is whole, before any of our code runs: these two bound what one connection
    // can make the server hold (grpc-js advertises no stream limit by default).
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
    'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
    // Channelz keeps per-call counters and listeners for a debugging service this server does not serve.
    'grpc.enable_channelz': 0,
  });
  const serve = <S extends grpc.ServiceDefinition>(
    definition: S,
    messages: Readonly<Record<string, unknown>>,
    handlers: Handlers<S>,
  ) => {
    const served = reusingWriter(deferredDecoding(definition), messages);
    server.addService(served, bindService(served, handlers, deps));
  };
  serve(StorefrontServiceService, storefrontMessages, storefrontHandlers(useCases.storefronts));
  serve(CatalogServiceService, catalogMessages, catalogHandlers(useCases.catalog));
  serve(CustomerServiceService, customerMessages, customerHandlers(useCases.customers));
  serve(EventServiceService, eventMessages, eventHandlers(useCases.events, useCases.deadLetters));
  serve(SubscriptionServiceService, subscriptionMessages, subscriptionHandlers(useCases.subscriptions));
  serve(PaymentServiceService, paymentMessages, paymentHandlers(useCases.payments));
  serve(EntitlementServiceService, entitlementMessages, entitlementHandlers(useCases.entitlements));

  const health = new HealthService(['', ...SERVICE_NAMES]);
  health.addToServer(server);

  const protoFiles = fs
    .readdirSync(path.join(PROTO_DIR, 'billing/v1'))
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `billing/v1/${f}`);
  const definitions = protoLoader.loadSync([...protoFiles, healthProtoPath], { includeDirs: [PROTO_DIR] });
  new ReflectionService(definitions).addToServer(server);
  return { server, health };
}

/** Overall health ('') and every billing.v1 service flip together: the process serves all or none. */
export function setServing(health: HealthService, serving: boolean): void {
  for (const name of ['', ...SERVICE_NAMES]) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
}

export function bindServer(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
}

/** Lets in-flight calls finish (up to `graceMs`), then cuts the rest. */
export function shutdownServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
