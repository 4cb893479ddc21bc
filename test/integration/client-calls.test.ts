import * as grpc from '@grpc/grpc-js';
import { createBillingClient, type BillingClient, type ClientOptions } from '../../packages/client/src/client';
import {
  BillingError,
  DeadlineExceededError,
  InvalidArgumentError,
  UnavailableError,
} from '../../packages/client/src/errors';
import { CustomerServiceService } from '../../src/gen/billing/v1/customer';
import { PaymentServiceService } from '../../src/gen/billing/v1/payment';

/**
 * A real gRPC server for CustomerService and PaymentService that records the idempotency key of every call it gets
 * and answers as told: with an empty response, or always UNAVAILABLE.
 */
class ScriptedService {
  readonly keys: Array<string | undefined> = [];
  answer: 'ok' | 'unavailable' = 'ok';
  private readonly server = new grpc.Server();

  constructor() {
    for (const definition of [CustomerServiceService, PaymentServiceService]) {
      const handlers: grpc.UntypedServiceImplementation = {};
      for (const [name, method] of Object.entries(definition)) {
        handlers[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          this.keys.push(call.metadata.get('idempotency-key')[0]?.toString());
          if (this.answer === 'unavailable') return callback({ code: grpc.status.UNAVAILABLE, details: 'overloaded' });
          // Every field at its default: what decoding no bytes gives.
          callback(null, method.responseDeserialize(Buffer.alloc(0)));
        };
      }
      this.server.addService(definition, handlers);
    }
  }

  start(): Promise<string> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(`127.0.0.1:${port}`),
      ),
    );
  }

  stop(): void {
    this.server.forceShutdown();
  }
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

describe('calls of the typed billing client', () => {
  let service: ScriptedService;
  let address: string;
  const clients: BillingClient[] = [];

  function client(options: Partial<ClientOptions> = {}): BillingClient {
    const created = createBillingClient({ address, ...options });
    clients.push(created);
    return created;
  }

  beforeEach(async () => {
    service = new ScriptedService();
    address = await service.start();
  });

  afterEach(() => {
    clients.splice(0).forEach((created) => created.close());
    service.stop();
  });

  it.each([
    ['a string that is no number', 'abc'],
    ['a fraction', 1.5],
    ['a number beyond int64', 2n ** 64n],
  ])('rejects an int64 field given %s with an InvalidArgumentError, sending nothing', async (_case, amountMinor) => {
    const billing = client();
    let pending: Promise<unknown> | undefined;
    // Handed over as a promise that rejects, never thrown at the caller.
    expect(() => {
      pending = billing.payments.createRefund({ paymentId: 'pay_1', amount: { currencyCode: 'EUR', amountMinor } });
    }).not.toThrow();
    const error = await rejection(pending!);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.field).toBe('request');
    expect(error.rule).toMatch(/\S/);
    expect(error.method).toBe('/billing.v1.PaymentService/CreateRefund');
    expect(service.keys).toEqual([]);

    await billing.payments.createRefund({ paymentId: 'pay_1', amount: { currencyCode: 'EUR', amountMinor: '150' } });
    expect(service.keys).toHaveLength(1);
  });

  it("sends metadata['idempotency-key'] as the call's key, and refuses a second, different key", async () => {
    const billing = client();
    await billing.customers.createCustomer({ email: 'a@example.com' }, { metadata: { 'Idempotency-Key': 'k-meta' } });
    await billing.customers.createCustomer(
      { email: 'a@example.com' },
      { idempotencyKey: 'k-both', metadata: { 'idempotency-key': 'k-both' } },
    );
    expect(service.keys).toEqual(['k-meta', 'k-both']);

    const error = await rejection(
      billing.customers.createCustomer(
        { email: 'a@example.com' },
        { idempotencyKey: 'k-option', metadata: { 'idempotency-key': 'k-other' } },
      ),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.field).toBe('idempotencyKey');
    expect(service.keys).toHaveLength(2);
  });

  it('retries UNAVAILABLE within the deadline and stops there: more than one attempt, never endless', async () => {
    service.answer = 'unavailable';
    const billing = client({
      deadlineMs: 2000,
      retry: { maxAttempts: 1_000_000, initialBackoffMs: 5, maxBackoffMs: 20 },
    });
    const error = await rejection(billing.customers.createCustomer({ email: 'a@example.com' }));
    expect([UnavailableError, DeadlineExceededError]).toContainEqual(error.constructor);
    // The last attempt may have left just before the deadline and still be on its way to the server.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const attempts = service.keys.length;
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThan(1_000_000);
    expect(new Set(service.keys).size).toBe(1);
    // Settled means settled: no attempt goes out after the call has failed.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(service.keys).toHaveLength(attempts);
  });
});
