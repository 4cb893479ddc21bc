import * as grpc from '@grpc/grpc-js';
import { createBillingClient, type BillingClient, type ClientOptions } from '../../packages/client/src/client';
import {
  BillingError,
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
} from '../../packages/client/src/errors';
import { CustomerServiceService } from '../../src/gen/billing/v1/customer';
import { createStorefront } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { startTestService, TEST_KEYS, TestService } from '../support/test-service';

const STOREFRONT = 'client-pkg';

/** A call the proxy saw: which RPC, and the idempotency key it carried. */
interface SeenCall {
  path: string;
  idempotencyKey: string | undefined;
}

/**
 * A pass-through gRPC server in front of the real service: every call is forwarded with its metadata and answered
 * with the upstream answer, except the first call to `loseAnswerOf`, whose upstream answer is awaited (the service
 * did the work) and then replaced by UNAVAILABLE, as when a connection drops on the way back.
 */
class LossyProxy {
  readonly seen: SeenCall[] = [];
  loseAnswerOf: string | undefined;
  private readonly server = new grpc.Server();
  private readonly upstream: grpc.Client;

  constructor(upstreamAddress: string) {
    this.upstream = new grpc.Client(upstreamAddress, grpc.credentials.createInsecure());
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [name, definition] of Object.entries(CustomerServiceService)) {
      handlers[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        this.forward(definition, call, callback);
    }
    this.server.addService(CustomerServiceService, handlers);
  }

  async start(): Promise<string> {
    const port = await bind(this.server);
    return `127.0.0.1:${port}`;
  }

  stop(): void {
    this.upstream.close();
    this.server.forceShutdown();
  }

  private forward(
    definition: (typeof CustomerServiceService)[keyof typeof CustomerServiceService],
    call: grpc.ServerUnaryCall<unknown, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ): void {
    const key = call.metadata.get('idempotency-key')[0];
    this.seen.push({ path: definition.path, idempotencyKey: key?.toString() });
    const loseAnswer = this.loseAnswerOf === definition.path;
    if (loseAnswer) this.loseAnswerOf = undefined;
    this.upstream.makeUnaryRequest(
      definition.path,
      (value: unknown) => definition.requestSerialize(value as never),
      (buffer: Buffer) => definition.responseDeserialize(buffer),
      call.request,
      call.metadata,
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        if (loseAnswer) return callback({ code: grpc.status.UNAVAILABLE, details: 'proxy lost the answer' });
        if (error) return callback({ code: error.code, details: error.details, metadata: error.metadata });
        callback(null, response);
      },
    );
  }
}

function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
}

/** A CustomerService whose handlers never answer: only the client's deadline or signal ends a call to it. */
async function startSilentServer(): Promise<{ address: string; server: grpc.Server }> {
  const server = new grpc.Server();
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(CustomerServiceService)) handlers[name] = () => undefined;
  server.addService(CustomerServiceService, handlers);
  const port = await bind(server);
  return { address: `127.0.0.1:${port}`, server };
}

async function rejection(promise: Promise<unknown>): Promise<BillingError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BillingError);
    return error as BillingError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** @billing-adapter/client against the real service (PostgreSQL, gRPC), and against servers that misbehave. */
describe('the typed billing client', () => {
  let db: TestDatabase;
  let service: TestService;
  /** The real service's gRPC address. */
  let address: string;
  const clients: BillingClient[] = [];

  function client(options: Partial<ClientOptions> = {}): BillingClient {
    const created = createBillingClient({ address, apiKey: TEST_KEYS.admin.key, ...options });
    clients.push(created);
    return created;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url });
    address = `127.0.0.1:${service.grpcPort}`;
    await createStorefront(service.clients.storefronts, STOREFRONT);
  });

  afterAll(async () => {
    for (const created of clients) created.close();
    await service?.close();
    await db?.drop();
  });

  it('calls with the API key, taking a request with fields left out, and refuses a wrong key', async () => {
    const billing = client();
    const { customer, created } = await billing.customers.createCustomer({
      storefrontId: STOREFRONT,
      email: 'ada@example.com',
      name: 'Ada',
    });
    expect(created).toBe(true);
    expect(customer).toMatchObject({ storefrontId: STOREFRONT, email: 'ada@example.com', name: 'Ada', phone: '' });
    const read = await billing.customers.getCustomer({ customerId: customer!.id });
    expect(read.customer?.id).toBe(customer!.id);

    const stranger = client({ apiKey: 'not_a_key' });
    const error = await rejection(stranger.customers.getCustomer({ customerId: customer!.id }));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.status).toBe('UNAUTHENTICATED');
    expect(error.message).not.toContain('not_a_key');
  });

  it('reports INVALID_ARGUMENT with the field, rule and correlation id from the trailers', async () => {
    const error = await rejection(
      client().customers.createCustomer({ storefrontId: STOREFRONT, email: 'not an email', name: 'Bo' }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      status: 'INVALID_ARGUMENT',
      field: 'email',
      errorCode: 'INVALID_ARGUMENT',
      retryable: false,
      method: '/billing.v1.CustomerService/CreateCustomer',
    });
    expect(error.rule).toBe('must be a valid email address');
    expect(error.correlationId).toMatch(/\S/);
    expect(error.message).toBe('INVALID_ARGUMENT: email: must be a valid email address');
  });

  it('reports NOT_FOUND as a NotFoundError', async () => {
    const error = await rejection(client().subscriptions.getSubscription({ subscriptionId: 'sub_x' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.details).toBe("subscription_id: subscription 'sub_x' not found");
  });

  describe('against a server that never answers', () => {
    let silent: { address: string; server: grpc.Server };

    beforeAll(async () => {
      silent = await startSilentServer();
    });

    afterAll(() => silent.server.forceShutdown());

    it('gives up at the deadline with a DeadlineExceededError', async () => {
      const billing = client({ address: silent.address, deadlineMs: 300 });
      const error = await rejection(billing.customers.getCustomer({ customerId: 'cus_x' }));
      expect(error).toBeInstanceOf(DeadlineExceededError);
    });

    it('stops a call when its signal aborts, with a CancelledError', async () => {
      const billing = client({ address: silent.address });
      const abort = new AbortController();
      const pending = billing.customers.getCustomer({ customerId: 'cus_x' }, { signal: abort.signal });
      setTimeout(() => abort.abort(), 100);
      const error = await rejection(pending);
      expect(error).toBeInstanceOf(CancelledError);
      expect(error.status).toBe('CANCELLED');
    });
  });

  describe('through a proxy that can lose an answer', () => {
    let proxy: LossyProxy;
    let proxyAddress: string;

    beforeEach(async () => {
      proxy = new LossyProxy(address);
      proxyAddress = await proxy.start();
    });

    afterEach(() => proxy.stop());

    it('retries an UNAVAILABLE mutation with the same idempotency key, and the service acts once', async () => {
      proxy.loseAnswerOf = CustomerServiceService.createCustomer.path;
      const billing = client({ address: proxyAddress });
      const email = 'retry@example.com';
      const answer = await billing.customers.createCustomer({ storefrontId: STOREFRONT, email, name: 'Re' });

      // created: true is the first call's stored answer replayed; a second run would have said created: false.
      expect(answer.created).toBe(true);
      expect(proxy.seen).toHaveLength(2);
      const [first, second] = proxy.seen;
      expect(first!.idempotencyKey).toEqual(expect.any(String));
      expect(second!.idempotencyKey).toBe(first!.idempotencyKey);

      const reader = client();
      const { customers } = await reader.customers.listCustomers({ storefrontId: STOREFRONT, email });
      expect(customers.map((c) => c.id)).toEqual([answer.customer!.id]);
      const { events } = await reader.events.listEvents({ aggregateId: answer.customer!.id, pageSize: 100 });
      expect(events.filter((e) => e.type === 'billing.customer.created')).toHaveLength(1);
    });

    it('does not retry an error that retrying cannot fix', async () => {
      const error = await rejection(
        client({ address: proxyAddress }).customers.createCustomer({
          storefrontId: STOREFRONT,
          email: 'still not an email',
          name: 'No',
        }),
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(proxy.seen).toHaveLength(1);
    });
  });
});
