import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import * as catalog from '../../../src/gen/billing/v1/catalog';
import * as customer from '../../../src/gen/billing/v1/customer';
import * as entitlement from '../../../src/gen/billing/v1/entitlement';
import * as event from '../../../src/gen/billing/v1/event';
import * as payment from '../../../src/gen/billing/v1/payment';
import * as storefront from '../../../src/gen/billing/v1/storefront';
import * as subscription from '../../../src/gen/billing/v1/subscription';
import { billingError, BillingError, isMutation, toBillingError } from './errors';

export interface RetryOptions {
  /** Attempts per call, the first included. Default 5. */
  maxAttempts?: number;
  /** Default 100. */
  initialBackoffMs?: number;
  /** Default 2_000. */
  maxBackoffMs?: number;
}

export interface ClientOptions {
  /** host:port */
  address: string;
  /** Sent as `authorization: Bearer <key>`; never logged or put in errors. */
  apiKey?: string;
  /** Default insecure (plaintext). */
  credentials?: grpc.ChannelCredentials;
  /** Per call: the whole call, retries and backoff included. Default 10_000. */
  deadlineMs?: number;
  retry?: RetryOptions;
  channelOptions?: grpc.ChannelOptions;
}

export interface CallOptions {
  /** Overrides the client's `deadlineMs` for this call. */
  deadlineMs?: number;
  /**
   * For mutations; a random UUID when unset. Every retry of the call sends the same key. `metadata['idempotency-key']`
   * is the same thing; setting both to different keys rejects the call.
   */
  idempotencyKey?: string;
  /** Extra metadata (`x-actor`, `x-correlation-id`, `traceparent`, ...). */
  metadata?: Record<string, string>;
  /** Aborting rejects the call with a CancelledError. */
  signal?: AbortSignal;
}

const IDEMPOTENCY_KEY = 'idempotency-key';

type Builtin = Date | Uint8Array | string | number | boolean | undefined;

/**
 * What a call accepts: the generated request with every field optional, at every depth (ts-proto's own DeepPartial,
 * which `fromPartial` takes). Omitted fields get their proto defaults; int64 fields also take a string or number.
 */
export type RequestInput<T> = T extends bigint
  ? string | number | bigint
  : T extends Builtin
    ? T
    : T extends Array<infer U>
      ? Array<RequestInput<U>>
      : T extends ReadonlyArray<infer U>
        ? ReadonlyArray<RequestInput<U>>
        : T extends object
          ? { [K in keyof T]?: RequestInput<T[K]> }
          : Partial<T>;

/** The part of a generated method definition this client reads: its path and its (de)serializers. */
interface UnaryMethodDefinition {
  path: string;
  requestSerialize(value: never): Buffer;
  responseDeserialize(value: Buffer): unknown;
}

type RequestOf<M> = M extends { requestSerialize(value: infer Req): Buffer } ? Req : never;
type ResponseOf<M> = M extends { responseDeserialize(value: Buffer): infer Res } ? Res : never;

/** One promise method per RPC of a generated `<X>ServiceService` definition, under the same names. */
export type ServiceClient<Definition> = {
  [Method in keyof Definition]: (
    request: RequestInput<RequestOf<Definition[Method]>>,
    options?: CallOptions,
  ) => Promise<ResponseOf<Definition[Method]>>;
};

export type StorefrontClient = ServiceClient<typeof storefront.StorefrontServiceService>;
export type CatalogClient = ServiceClient<typeof catalog.CatalogServiceService>;
export type CustomerClient = ServiceClient<typeof customer.CustomerServiceService>;
export type SubscriptionClient = ServiceClient<typeof subscription.SubscriptionServiceService>;
export type PaymentClient = ServiceClient<typeof payment.PaymentServiceService>;
export type EntitlementClient = ServiceClient<typeof entitlement.EntitlementServiceService>;
export type EventClient = ServiceClient<typeof event.EventServiceService>;

export interface BillingClient {
  storefronts: StorefrontClient;
  catalog: CatalogClient;
  customers: CustomerClient;
  subscriptions: SubscriptionClient;
  payments: PaymentClient;
  entitlements: EntitlementClient;
  events: EventClient;
  /** Closes the channel; calls after this fail. */
  close(): void;
}

/** A generated service definition and the module holding its messages (where each `<Rpc>Request` lives). */
interface ServiceModule {
  definition: Record<string, UnaryMethodDefinition>;
  messages: object;
}

const SERVICES = {
  storefronts: { definition: storefront.StorefrontServiceService, messages: storefront },
  catalog: { definition: catalog.CatalogServiceService, messages: catalog },
  customers: { definition: customer.CustomerServiceService, messages: customer },
  subscriptions: { definition: subscription.SubscriptionServiceService, messages: subscription },
  payments: { definition: payment.PaymentServiceService, messages: payment },
  entitlements: { definition: entitlement.EntitlementServiceService, messages: entitlement },
  events: { definition: event.EventServiceService, messages: event },
} satisfies Record<Exclude<keyof BillingClient, 'close'>, ServiceModule>;

interface Settings {
  apiKey?: string;
  deadlineMs: number;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** A promise client for every billing-adapter service over one channel, with deadlines and idempotent retries. */
export function createBillingClient(options: ClientOptions): BillingClient {
  const channel = new grpc.Client(
    options.address,
    options.credentials ?? grpc.credentials.createInsecure(),
    options.channelOptions,
  );
  const settings: Settings = {
    apiKey: options.apiKey,
    deadlineMs: options.deadlineMs ?? 10_000,
    maxAttempts: Math.max(1, options.retry?.maxAttempts ?? 5),
    initialBackoffMs: options.retry?.initialBackoffMs ?? 100,
    maxBackoffMs: options.retry?.maxBackoffMs ?? 2_000,
  };
  const bind = (service: ServiceModule) => bindService(channel, settings, service);
  return {
    storefronts: bind(SERVICES.storefronts) as StorefrontClient,
    catalog: bind(SERVICES.catalog) as CatalogClient,
    customers: bind(SERVICES.customers) as CustomerClient,
    subscriptions: bind(SERVICES.subscriptions) as SubscriptionClient,
    payments: bind(SERVICES.payments) as PaymentClient,
    entitlements: bind(SERVICES.entitlements) as EntitlementClient,
    events: bind(SERVICES.events) as EventClient,
    close: () => channel.close(),
  };
}

type UntypedMethod = (request: unknown, options?: CallOptions) => Promise<unknown>;

function bindService(channel: grpc.Client, settings: Settings, service: ServiceModule): Record<string, UntypedMethod> {
  const methods: Record<string, UntypedMethod> = {};
  for (const [name, definition] of Object.entries(service.definition)) {
    const fromPartial = requestFactory(service.messages, name);
    // Async, so a request that cannot be built rejects like every other failure instead of throwing at the caller.
    methods[name] = async (request, callOptions = {}) =>
      invoke(channel, settings, definition, buildRequest(definition, fromPartial, request), callOptions);
  }
  return methods;
}

/**
 * The request message, checked to serialize: a value the generated code cannot take (an int64 of 'abc' or 1.5, one
 * beyond 64 bits) is the caller's mistake, reported as INVALID_ARGUMENT before anything is sent. The generated code
 * does not say which field it choked on, so the error names the whole request and gives its reason as the rule.
 */
function buildRequest(
  definition: UnaryMethodDefinition,
  fromPartial: (request: unknown) => unknown,
  request: unknown,
): unknown {
  try {
    const message = fromPartial(request);
    definition.requestSerialize(message as never);
    return message;
  } catch (error) {
    const rule = error instanceof Error ? error.message : String(error);
    throw billingError({
      code: grpc.status.INVALID_ARGUMENT,
      details: `request: ${rule}`,
      method: definition.path,
      field: 'request',
      rule,
    });
  }
}

/**
 * The generated `<Rpc>Request.fromPartial` of an RPC: it fills what the caller omitted with proto defaults, so the
 * serializer never meets an undefined field. ts-proto names every request `<Rpc>Request`; a message that breaks the
 * convention fails here, when the client is created, not on some later call.
 */
function requestFactory(messages: object, rpcName: string): (request: unknown) => unknown {
  const messageName = `${rpcName.charAt(0).toUpperCase()}${rpcName.slice(1)}Request`;
  const message: unknown = (messages as Record<string, unknown>)[messageName];
  const fromPartial = (message as { fromPartial?: unknown } | undefined)?.fromPartial;
  if (typeof fromPartial !== 'function') throw new Error(`no generated ${messageName}.fromPartial for ${rpcName}`);
  return (request) => fromPartial.call(message, request ?? {});
}

/** One call: attempts until an answer, a non-retryable error, the last attempt, the deadline, or the signal. */
async function invoke(
  channel: grpc.Client,
  settings: Settings,
  definition: UnaryMethodDefinition,
  request: unknown,
  callOptions: CallOptions,
): Promise<unknown> {
  const deadline = Date.now() + (callOptions.deadlineMs ?? settings.deadlineMs);
  // Minted once per call: a retry must carry the key of the first attempt, or the service would act twice.
  const chosenKey = idempotencyKeyOf(callOptions, definition.path);
  const idempotencyKey = isMutation(definition.path) ? (chosenKey ?? randomUUID()) : undefined;
  const metadata = callMetadata(settings.apiKey, callOptions.metadata, idempotencyKey);
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnce(channel, definition, request, metadata, deadline, callOptions.signal);
    } catch (error) {
      if (!(error instanceof BillingError) || !error.retryable || attempt >= settings.maxAttempts) throw error;
      const pause = backoffMs(settings, attempt);
      // A pause that ends at the deadline leaves no time for the attempt: the caller hears the real failure now.
      if (Date.now() + pause >= deadline) throw error;
      await sleep(pause, callOptions.signal, definition.path);
    }
  }
}

/**
 * The key the caller chose, as `idempotencyKey` or as `metadata['idempotency-key']` (metadata names are
 * case-insensitive): either way it is the call's key, and two different ones are a mistake worth failing on.
 */
function idempotencyKeyOf(callOptions: CallOptions, method: string): string | undefined {
  const inMetadata = Object.entries(callOptions.metadata ?? {}).find(
    ([name]) => name.toLowerCase() === IDEMPOTENCY_KEY,
  )?.[1];
  const { idempotencyKey } = callOptions;
  if (idempotencyKey !== undefined && inMetadata !== undefined && idempotencyKey !== inMetadata) {
    const rule = "differs from metadata['idempotency-key']; pass the key once";
    throw billingError({
      code: grpc.status.INVALID_ARGUMENT,
      details: `idempotencyKey: ${rule}`,
      method,
      field: 'idempotencyKey',
      rule,
    });
  }
  return idempotencyKey ?? inMetadata;
}

function attemptOnce(
  channel: grpc.Client,
  definition: UnaryMethodDefinition,
  request: unknown,
  metadata: grpc.Metadata,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled(definition.path));
    // grpc-js answers a cancelled call with CANCELLED through the callback below.
    const onAbort = () => call.cancel();
    const call = channel.makeUnaryRequest(
      definition.path,
      (value: unknown) => definition.requestSerialize(value as never),
      (buffer: Buffer) => definition.responseDeserialize(buffer),
      request,
      metadata.clone(),
      { deadline },
      (error, response) => {
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(toBillingError(error, definition.path));
        else resolve(response);
      },
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function callMetadata(
  apiKey: string | undefined,
  extra: Record<string, string> | undefined,
  idempotencyKey: string | undefined,
): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (apiKey !== undefined) metadata.set('authorization', `Bearer ${apiKey}`);
  for (const [key, value] of Object.entries(extra ?? {})) metadata.set(key, value);
  if (idempotencyKey !== undefined) metadata.set(IDEMPOTENCY_KEY, idempotencyKey);
  return metadata;
}

/** Exponential backoff with full jitter: retries of many callers spread out instead of arriving together. */
function backoffMs(settings: Settings, attempt: number): number {
  const ceiling = Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** (attempt - 1));
  return Math.random() * ceiling;
}

function sleep(ms: number, signal: AbortSignal | undefined, method: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled(method));
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled(method));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function cancelled(method: string): BillingError {
  return billingError({ code: grpc.status.CANCELLED, details: 'cancelled by the caller', method });
}
