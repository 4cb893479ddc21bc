/**
 * `npm run bench`: throughput of the service's hot paths as ratios against raw baselines measured in the same run
 * on the same machine, so the numbers mean something on any box (absolute numbers alone do not).
 *
 * - CreateCustomer over gRPC (validation, transaction, outbox event, audit row, idempotency key) against a raw
 *   `INSERT` of one row through a pg pool at the same concurrency;
 * - webhook ingress (size check, storefront lookup, HMAC verification, durable inbox insert, 200) against a bare
 *   node:http server that inserts the body with one `INSERT`.
 *
 * Uses PostgreSQL at DATABASE_URL (default 127.0.0.1:5432) in a scratch database (the tests' helper) it drops afterwards; no Kafka (the
 * relay is off, events stay in the outbox). Options: BENCH_REQUESTS (default 2000), BENCH_CONCURRENCY (16).
 */
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import pino from 'pino';
import { subotizWebhookSignature } from '../adapters/subotiz/webhooks';
import { loadConfig } from '../src/config/config';
import { CustomerServiceClient } from '../src/gen/billing/v1/customer';
import { StorefrontServiceClient } from '../src/gen/billing/v1/storefront';
import { startService } from '../src/service';
import { createTestDatabase } from '../test/support/test-database';
import { call, writeKeysFile } from '../test/support/test-service';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WEBHOOK_SECRET = `whsec_bench_${randomBytes(8).toString('hex')}`;
// The bench storefront's tenant (`bench`) may reference only its own BILLING_SECRET_BENCH_* variables.
process.env.BILLING_SECRET_BENCH_WEBHOOK_SECRET = WEBHOOK_SECRET;

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
}

/** Runs `REQUESTS` calls of `one(i)` with `CONCURRENCY` in flight; throughput and latency percentiles (ms). */
async function measure(one: (i: number) => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const t0 = performance.now();
      await one(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { perSecond: REQUESTS / seconds, p50: at(0.5), p99: at(0.99) };
}

/** Warm-up (JIT, connection pools, caches) before each measured run. */
async function warmThenMeasure(one: (i: number) => Promise<void>, offset: number): Promise<Run> {
  for (let i = 0; i < 200; i++) await one(offset + i);
  return measure((i) => one(i));
}

async function main(): Promise<void> {
  const scratch = await createTestDatabase();
  const databaseUrl = scratch.url;
  const pool = new Pool({ connectionString: databaseUrl, max: 10 });
  // The scratch database is dropped WITH (FORCE) at the end: an idle client it cuts must not crash the report.
  pool.on('error', () => undefined);
  const service = await startService(
    // `call` authenticates as the tests' admin key, which this key file holds.
    loadConfig({
      DATABASE_URL: databaseUrl,
      API_KEYS_FILE: writeKeysFile(),
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      HOST: '127.0.0.1',
      DEMO_SEED: 'false',
      // Its binding points at a closed local port: no provider is ever reached.
      ALLOW_INSECURE_PROVIDER_URLS: 'true',
    }),
    { logger: pino({ level: 'warn' }) },
  );
  const address = `127.0.0.1:${service.grpcPort}`;
  const storefronts = new StorefrontServiceClient(address, grpc.credentials.createInsecure());
  const customers = new CustomerServiceClient(address, grpc.credentials.createInsecure());
  const baselineHttp = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      pool
        .query('insert into bench_raw_webhooks (body) values ($1)', [Buffer.concat(chunks)])
        .then(() => res.writeHead(200).end())
        .catch(() => res.writeHead(500).end());
    });
  });
  try {
    await call(storefronts, storefronts.createStorefront, {
      storefrontId: 'bench',
      tenantId: 'bench',
      name: 'Bench',
      country: 'DE',
      defaultCurrency: 'EUR',
      provider: 'subotiz',
      providerConfig: { base_url: 'http://127.0.0.1:9', auth_mode: 'bearer', sub_merchant_id: 'm-1' },
      secretRefs: {
        api_key: 'env:BILLING_SECRET_BENCH_WEBHOOK_SECRET',
        webhook_secret: 'env:BILLING_SECRET_BENCH_WEBHOOK_SECRET',
      },
    });
    await pool.query(
      `create table bench_raw_customers (id text primary key, storefront_id text, email text, name text,
       created_at timestamptz default now())`,
    );
    await pool.query('create table bench_raw_webhooks (id bigserial primary key, body bytea)');
    await new Promise<void>((resolve) => baselineHttp.listen(0, '127.0.0.1', resolve));
    const baselinePort = (baselineHttp.address() as AddressInfo).port;

    const run = randomBytes(3).toString('hex');
    const rawInsert = await warmThenMeasure(async (i) => {
      await pool.query('insert into bench_raw_customers (id, storefront_id, email, name) values ($1, $2, $3, $4)', [
        `c${run}${i}`,
        'bench',
        `u${run}${i}@example.com`,
        'Ada',
      ]);
    }, REQUESTS);
    const createCustomer = await warmThenMeasure(async (i) => {
      await call(customers, customers.createCustomer, {
        storefrontId: 'bench',
        externalRef: `user-${i}`,
        email: `u${run}${i}@example.com`,
        name: 'Ada',
        phone: '',
        country: 'DE',
        address: undefined,
      });
    }, REQUESTS);

    const webhook = (i: number) => {
      // A type the service acknowledges and ignores: ingress is measured, not processing.
      const body = JSON.stringify({
        id: `${run}${i}`,
        type: 'v2.bench.ping',
        created: new Date().toISOString(),
        data: { n: i },
      });
      const timestamp = String(Date.now());
      const signature = subotizWebhookSignature(WEBHOOK_SECRET, timestamp, Buffer.from(body));
      return {
        body,
        headers: {
          'content-type': 'application/json',
          'x-timestamp': timestamp,
          'x-signature': signature,
          'x-access-no': 'bench',
        },
      };
    };
    const post = async (port: number, path: string, i: number) => {
      const { body, headers } = webhook(i);
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body });
      if (response.status !== 200) throw new Error(`${path} → ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };
    const rawHttp = await warmThenMeasure((i) => post(baselinePort, '/', i), REQUESTS);
    const ingress = await warmThenMeasure((i) => post(service.httpPort, '/webhooks/subotiz/bench', i), REQUESTS);

    const rows = [
      ['CreateCustomer (gRPC)', createCustomer, rawInsert, 'raw pg INSERT'],
      ['webhook ingress (HTTP)', ingress, rawHttp, 'node:http + pg INSERT'],
    ] as const;
    console.log(`\nbench: ${REQUESTS} requests, ${CONCURRENCY} in flight, PostgreSQL ${new URL(databaseUrl).host}\n`);
    console.log('| path | req/s | p50 ms | p99 ms | baseline | baseline req/s | ratio |');
    console.log('|---|---:|---:|---:|---|---:|---:|');
    for (const [path, ours, base, baseName] of rows) {
      console.log(
        `| ${path} | ${ours.perSecond.toFixed(0)} | ${ours.p50.toFixed(1)} | ${ours.p99.toFixed(1)} | ${baseName} | ` +
          `${base.perSecond.toFixed(0)} | ${(ours.perSecond / base.perSecond).toFixed(2)} |`,
      );
    }
  } finally {
    storefronts.close();
    customers.close();
    baselineHttp.close();
    await service.stop();
    await pool.end();
    await scratch.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
