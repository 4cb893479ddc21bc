/**
 * The bench's load generator, forked by scripts/bench.ts so that no measurement shares an event loop with what it
 * measures. It takes one LoadJob at a time over IPC, runs `requests` operations with `concurrency` in flight (after
 * `warmup` unmeasured ones) and answers every operation's latency. Any failed operation fails the job: a broken
 * path must never come out as a number.
 */
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { subotizWebhookSignature } from '../../adapters/subotiz/webhooks';
import {
  CreateCustomerRequest,
  CreateCustomerResponse,
  CustomerServiceClient,
  CustomerServiceService,
} from '../../src/gen/billing/v1/customer';
import { SubscriptionServiceClient } from '../../src/gen/billing/v1/subscription';
import { subscriptionCheckout } from '../../test/support/fixtures';
import { bearer, call, TEST_KEYS } from '../../test/support/test-service';
import { H2Unary } from './h2-unary';
import type { LoadJob, LoadReply, LoadTarget } from './load-job';
import { rawCreateCheckout, rawCreateCustomer, rawProcessWebhook } from './raw-statements';

/** One operation (the i-th of the job), and what to close afterwards. */
interface Operation {
  run(i: number): Promise<void>;
  close(): Promise<void>;
}

async function operationFor(target: LoadTarget): Promise<Operation> {
  switch (target.kind) {
    case 'grpc-get-subscription': {
      const client = new SubscriptionServiceClient(target.address, grpc.credentials.createInsecure());
      return {
        run: () =>
          call(client, client.getSubscription, { subscriptionId: target.subscriptionId }).then(() => undefined),
        close: async () => client.close(),
      };
    }
    case 'grpc-create-customer': {
      const client = new CustomerServiceClient(target.address, grpc.credentials.createInsecure());
      return {
        run: async (i) => {
          const { created } = await call(client, client.createCustomer, customerRequest(target, i), {
            'idempotency-key': `customer-${target.run}-${i}`,
          });
          createdOrThrow(created, i);
        },
        close: async () => client.close(),
      };
    }
    case 'h2-create-customer': {
      const client = new H2Unary(target.address);
      const { path } = CustomerServiceService.createCustomer;
      return {
        run: async (i) => {
          const message = CreateCustomerRequest.encode(customerRequest(target, i)).finish();
          const answer = await client.call(path, message, {
            ...bearer(TEST_KEYS.admin),
            'idempotency-key': `customer-${target.run}-${i}`,
          });
          createdOrThrow(CreateCustomerResponse.decode(answer).created, i);
        },
        close: () => client.close(),
      };
    }
    case 'grpc-create-checkout': {
      const client = new SubscriptionServiceClient(target.address, grpc.credentials.createInsecure());
      const run = randomBytes(4).toString('hex');
      return {
        run: (i) =>
          call(
            client,
            client.createCheckoutSession,
            subscriptionCheckout(
              target.storefrontId,
              target.customerIds[i % target.customerIds.length]!,
              target.planId,
            ),
            { 'idempotency-key': `checkout-${run}-${i}` },
          ).then(() => undefined),
        close: async () => client.close(),
      };
    }
    case 'webhook-post': {
      // One kept-alive connection per lane, as a provider's delivery workers hold theirs. fetch (undici's WHATWG
      // layer) cost the generator more CPU per request than the service spent answering it, so it, not the service,
      // set the pace on our 2 cores.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      return {
        run: (i) => postWebhook(target, `${target.run}-${i}`, agent),
        close: async () => agent.destroy(),
      };
    }
    case 'pg-create-customer': {
      const pool = benchPool(target.databaseUrl);
      return {
        run: (i) => rawCreateCustomer(pool, target.storefrontId, target.run, i),
        close: () => pool.end(),
      };
    }
    case 'pg-create-checkout': {
      const pool = benchPool(target.databaseUrl);
      return {
        run: (i) =>
          rawCreateCheckout(pool, { ...target, customerId: target.customerIds[i % target.customerIds.length]! }, i),
        close: () => pool.end(),
      };
    }
    case 'pg-inbox-drain': {
      const pool = benchPool(target.databaseUrl);
      return {
        run: async (i) => {
          if (!(await rawProcessWebhook(pool))) throw new Error(`the raw inbox ran dry after ${i} webhooks`);
        },
        close: () => pool.end(),
      };
    }
    case 'kafka-produce':
      return kafkaBatches(target);
  }
}

/** The i-th customer of a run: a new email each time, so every call creates one. */
function customerRequest(target: { storefrontId: string; run: string }, i: number): CreateCustomerRequest {
  return {
    storefrontId: target.storefrontId,
    externalRef: `user-${i}`,
    email: `${target.run}-${i}@example.com`,
    name: 'Ada',
    phone: '',
    country: 'DE',
    address: undefined,
  };
}

function createdOrThrow(created: boolean, i: number): void {
  if (!created) throw new Error(`CreateCustomer ${i} found an existing customer: the bench reused an email`);
}

/** The service's pool size (DATABASE_POOL_MAX default): the baselines get as many connections as it has. */
function benchPool(databaseUrl: string): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max: 10 });
  pool.on('error', () => undefined);
  return pool;
}

/** A signed Subotiz webhook of a type the service acknowledges and ignores: ingress is measured, not processing. */
function postWebhook(
  { url, secret, accessNo }: Extract<LoadTarget, { kind: 'webhook-post' }>,
  id: string,
  agent: http.Agent,
): Promise<void> {
  const body = Buffer.from(
    JSON.stringify({ id, type: 'v2.bench.ping', created: new Date().toISOString(), data: { id } }),
  );
  const timestamp = String(Date.now());
  return new Promise<void>((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'x-timestamp': timestamp,
          'x-signature': subotizWebhookSignature(secret, timestamp, body),
          'x-access-no': accessNo,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode === 200) resolve();
          else reject(new Error(`POST ${url} → ${response.statusCode}: ${Buffer.concat(chunks).toString()}`));
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * The drain baseline: a kafkajs idempotent producer (as the relay configures its own) sending batches of
 * `batchSize` messages, one batch at a time. One operation is one message. It connects on the first operation, so
 * a job without warm-up times the connection too, as the relay's drain is timed from the service's start.
 */
async function kafkaBatches(target: Extract<LoadTarget, { kind: 'kafka-produce' }>): Promise<Operation> {
  const kafka = new Kafka({ clientId: 'bench-baseline', brokers: target.brokers, logLevel: logLevel.NOTHING });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let connecting: Promise<void> | undefined;
  const value = randomBytes(target.payloadBytes);
  let pending: { key: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      await (connecting ??= producer.connect());
      await producer.send({
        topic: target.topic,
        messages: batch.map((m) => ({ key: m.key, value, headers: target.headers })),
      });
      for (const m of batch) m.resolve();
    } catch (error) {
      for (const m of batch) m.reject(error);
    }
  };
  return {
    run: (i) =>
      new Promise<void>((resolve, reject) => {
        pending.push({ key: `key-${i % 97}`, resolve, reject });
        if (pending.length >= target.batchSize) void flush();
        // The last, short batch goes once every lane has queued its message.
        else if (pending.length === 1) setImmediate(() => pending.length > 0 && void flush());
      }),
    close: () => producer.disconnect(),
  };
}

/** Starts operation `from + k` when it is due (k / rate seconds in); its latency counts from then. */
async function paced(operation: Operation, from: number, count: number, rate: number, latencies: number[]) {
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let k = 0; k < count; k++) {
    const due = t0 + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(operation.run(from + k).then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(inFlight);
}

async function runJob(job: LoadJob): Promise<LoadReply> {
  const operation = await operationFor(job.target);
  try {
    const lanes = async (from: number, count: number, latencies?: number[]) => {
      let next = from;
      const end = from + count;
      const lane = async () => {
        while (next < end) {
          const i = next++;
          const t0 = performance.now();
          await operation.run(i);
          latencies?.push(performance.now() - t0);
        }
      };
      await Promise.all(Array.from({ length: job.concurrency }, lane));
    };
    await lanes(0, job.warmup);
    const latenciesMs: number[] = [];
    const started = performance.now();
    if (job.ratePerSecond) await paced(operation, job.warmup, job.requests, job.ratePerSecond, latenciesMs);
    else await lanes(job.warmup, job.requests, latenciesMs);
    return { ok: true, latenciesMs, seconds: (performance.now() - started) / 1000 };
  } finally {
    await operation.close();
  }
}

process.on('message', (job: LoadJob) => {
  runJob(job)
    .catch((error: unknown): LoadReply => ({ ok: false, error: (error as Error).stack ?? String(error) }))
    .then((reply) => process.send!(reply));
});

process.send!({ ready: true });
