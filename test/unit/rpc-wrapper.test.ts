import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalidArgument } from '../../src/domain/errors';
import { CustomerServiceService } from '../../src/gen/billing/v1/customer';
import { deferredDecoding, EncodedRequest } from '../../src/grpc/deferred-decoding';
import { decodeRequest } from '../../src/grpc/interceptors/decode-request';
import type { Interceptor } from '../../src/grpc/interceptors/interceptor';
import { bindService, Handlers, query, RpcDeps } from '../../src/grpc/rpc-wrapper';
import type { ServiceMetrics } from '../../src/telemetry/metrics';

type Answer = { error: Partial<grpc.StatusObject> | null; trailer?: grpc.Metadata };

/** Calls GetCustomer through the real wrapper with a fake grpc-js call; resolves with what it answered. */
function getCustomer(
  run: (request: unknown) => Promise<unknown>,
  logger: Partial<Logger>,
  request: unknown,
  interceptors: Interceptor[] = [],
) {
  const handlers = Object.fromEntries(
    Object.keys(CustomerServiceService).map((name) => [name, query(run)]),
  ) as Handlers<typeof CustomerServiceService>;
  const deps: RpcDeps = {
    interceptors,
    logger: logger as Logger,
    metrics: { rpcDuration: { observe: () => undefined } } as unknown as ServiceMetrics,
  };
  const implementation = bindService(CustomerServiceService, handlers, deps);
  const call = { request, metadata: new grpc.Metadata(), on: () => undefined, getDeadline: () => Infinity };
  return new Promise<Answer>((resolve) =>
    (implementation.getCustomer as grpc.handleUnaryCall<unknown, unknown>)(
      call as never,
      ((error: Partial<grpc.StatusObject> | null, _value: unknown, trailer?: grpc.Metadata) =>
        resolve({ error, trailer })) as grpc.sendUnaryData<unknown>,
    ),
  );
}

const quiet = { error: () => undefined, debug: () => undefined };

describe('the RPC wrapper never dies', () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  beforeAll(() => process.on('unhandledRejection', onRejection));
  afterAll(() => process.off('unhandledRejection', onRejection));
  afterEach(async () => {
    await new Promise((r) => setImmediate(r));
    expect(rejections).toEqual([]);
  });

  it('answers a plain INTERNAL when even building the status fails', async () => {
    // An error no `instanceof` can inspect: the status table cannot classify it.
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf: () => {
          throw new Error('hostile');
        },
      },
    );
    const answer = await getCustomer(() => Promise.reject(hostile), quiet, { customerId: 'cus_1' });
    expect(answer.error?.code).toBe(grpc.status.INTERNAL);
    expect(answer.error?.details).toBe('internal error');
  }, 5_000);

  it('answers a refusal even when the logger throws', async () => {
    const brokenLogger = {
      error: () => {
        throw new Error('logger down');
      },
      debug: () => {
        throw new Error('logger down');
      },
    };
    const refusal = () => Promise.reject(invalidArgument([{ field: 'customer_id', rule: 'is required' }]));
    const answer = await getCustomer(refusal, brokenLogger, { customerId: '' });
    expect(answer.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const failure = await getCustomer(() => Promise.reject(new Error('boom')), brokenLogger, { customerId: 'cus_1' });
    expect(failure.error?.code).toBe(grpc.status.INTERNAL);
  }, 5_000);

  it('turns a refusal quoting non-ASCII input into ASCII trailers', async () => {
    const refusal = () => Promise.reject(invalidArgument([{ field: 'customer_id', rule: "'é\u0000' is unknown" }]));
    const answer = await getCustomer(refusal, quiet, { customerId: 'é' });
    expect(answer.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(answer.error?.metadata?.get('error-rule')).toEqual(["'\\u00e9\\u0000' is unknown"]);
  });

  it('refuses a request that did not decode as INVALID_ARGUMENT naming the request, without running the handler', async () => {
    let ran = false;
    const bytes = Buffer.from([0x0a, 0xff, 0xff, 0x03]);
    const answer = await getCustomer(
      async () => {
        ran = true;
        return {};
      },
      quiet,
      deferredDecoding(CustomerServiceService).getCustomer.requestDeserialize(bytes),
    );
    expect(ran).toBe(false);
    expect(answer.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(answer.error?.metadata?.get('error-field')).toEqual(['request']);
  });
});

describe('deferred decoding', () => {
  const good = CustomerServiceService.getCustomer.requestSerialize({ customerId: 'cus_1' });

  it('keeps the bytes until asked, then decodes them as the generated decoder does', () => {
    const request = deferredDecoding(CustomerServiceService).getCustomer.requestDeserialize(good);
    expect(request).toBeInstanceOf(EncodedRequest);
    expect((request as unknown as EncodedRequest).decode('GetCustomer')).toEqual({ customerId: 'cus_1' });
  });

  it('decodes nothing for a call an interceptor before decodeRequest refuses (an unauthenticated caller, say)', async () => {
    let decodes = 0;
    const request = new EncodedRequest(good, (bytes) => {
      decodes += 1;
      return CustomerServiceService.getCustomer.requestDeserialize(bytes);
    });
    const unauthenticated: Interceptor = () => Promise.reject(invalidArgument([{ field: 'authorization', rule: 'x' }]));
    const refused = await getCustomer(async () => ({}), quiet, request, [unauthenticated, decodeRequest()]);
    expect(refused.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(decodes).toBe(0);

    let seen: unknown;
    const answered = await getCustomer(
      async (decoded) => {
        seen = decoded;
        return {};
      },
      quiet,
      request,
      [decodeRequest()],
    );
    expect(answered.error).toBeNull();
    expect(seen).toEqual({ customerId: 'cus_1' });
    expect(decodes).toBe(1);
  });
});
