/**
 * `npm run bench [-- --quick]`: what a user of each path feels, against the physical work that path does, measured
 * side by side in one run. Every party is its own process: the service (the image's `node dist/src/main.js`), the load
 * generator (scripts/bench/load-worker.ts) and each baseline server, so no measurement shares an event loop with
 * what it measures. Paths and baselines (ratio = ours / baseline):
 *
 * 1. read: GetSubscription over gRPC vs a raw grpc-js server answering the same RPC path with constant bytes;
 * 2. write: CreateCustomer with an idempotency key vs raw `pg` issuing the same statements (raw-statements.ts); at
 *    half load also from a plain HTTP/2 client (bench/h2-unary.ts), whose own garbage does not show in the tail;
 * 3. write + provider: CreateCheckoutSession against the Subotiz emulator vs raw `pg` statements + one HTTP call;
 * 4. webhook ingress: signed Subotiz webhooks vs node:http + one INSERT;
 * 5. webhook processing to the outbox (drain rate of pre-loaded webhooks) vs raw `pg` claim + event + update;
 * 6. outbox → Kafka (drain of every event the paths above wrote) vs a raw kafkajs idempotent batched producer;
 * 7. start-up to SERVING and the service's RSS under write load;
 * 8. with h2load installed, the read path again from that C client, closed loop and paced (bench/c-client.ts).
 *
 * PostgreSQL: DATABASE_URL (default 127.0.0.1:5432), a scratch database created and dropped here. Kafka:
 * KAFKA_BROKERS, else 127.0.0.1:9092 if a broker answers, else scripts/kafka-local started and stopped here.
 * Writes table.md, results.json and latency.svg to bench-results/<timestamp>/. Ratios below target are reported,
 * never failed on; a path that errors fails the run.
 */
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Pool } from 'pg';
import {
  GetSubscriptionResponse,
  SubscriptionServiceClient,
  SubscriptionServiceService,
} from '../src/gen/billing/v1/subscription';
import { createTestDatabase } from '../test/support/test-database';
import { call } from '../test/support/test-service';
import { BenchChild } from './bench/children';
import { answeredOk, h2loadMissing, measureReadFromC } from './bench/c-client';
import { deleteTopics, kafkaBroker, KafkaBroker, measureDrain } from './bench/kafka';
import { LoadGenerator } from './bench/load-generator';
import type { LoadTarget } from './bench/load-job';
import { freePort } from '../test/support/free-port';
import { createRawTables } from './bench/raw-statements';
import { LoadCurve, markdownTable, Row, writeReport } from './bench/report';
import { endChildrenOnSignal } from './bench/live-children';
import { ServiceProcess, ServiceRuntime } from './bench/service-process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { medianByRate, Run } from './bench/stats';
import { measureWebhookProcessing } from './bench/webhook-processing';
import { BenchWorld, createWorld, EMULATOR_MERCHANT, seed, STOREFRONT, WEBHOOK_LANES } from './bench/world';

const QUICK = process.argv.includes('--quick');
/** `--profile`: the service runs with `--cpu-prof`; its profiles land in the output folder's `profiles/`. */
const PROFILE = process.argv.includes('--profile');
const PATHS = ['read', 'write', 'checkout', 'processing', 'ingress', 'drain'] as const;
/** `--only read,write`: just those paths (start-up and RSS are always reported), for iterating on one of them. */
const ONLY = onlyPaths();
const wants = (p: (typeof PATHS)[number]) => ONLY.has(p);
/** `--tsx`: run the service as `npm start` does (TypeScript through tsx) instead of the image's built JavaScript. */
const RUNTIME: ServiceRuntime = process.argv.includes('--tsx') ? 'tsx' : 'built';
/** Counts: `--quick` proves every path works in well under 90 s; the full run is what the README reports. */
const COUNTS = QUICK
  ? {
      levels: [1, 4],
      headline: 4,
      requests: 100,
      warmup: 20,
      checkouts: 60,
      ingress: 200,
      ingressWarmup: 20,
      pacedWarmup: 20,
      headlineRuns: 1,
      sessions: 20,
      cClient: { requests: 200, warmup: 100, streams: 4, runs: 1, pacedSeconds: 1 },
    }
  : {
      levels: [1, 4, 16, 64],
      headline: 16,
      requests: 6000,
      warmup: 200,
      checkouts: 1000,
      ingress: 4000,
      // Ingress has one row, not a curve whose earlier levels warm its code: each side first serves this many, or
      // the row measures the JIT (measured: cold, both sides did about 2,400/s; after 8,000 requests, 3,300–3,600/s).
      ingressWarmup: 8000,
      // The half-load rows start on a fresh load generator (LoadGenerator.renew): its code warms before the paced part.
      pacedWarmup: 2000,
      headlineRuns: 3,
      sessions: 200,
      // h2load's runs are cheap (its CPU per call is a fraction of grpc-js's): more calls, the same 3 turns.
      cClient: { requests: 20000, warmup: 10000, streams: 16, runs: 3, pacedSeconds: 5 },
    };

/** The second processing row's provider latency: a provider over the internet, not the loopback emulator. */
const PROVIDER_DELAY_MS = 50;

async function main(): Promise<void> {
  endChildrenOnSignal();
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  let broker: KafkaBroker | undefined;
  const folder = path.resolve(__dirname, '..', 'bench-results', new Date().toISOString().replace(/[:.]/g, '-'));
  const profileDir = PROFILE ? path.join(folder, 'profiles') : undefined;
  try {
    const kafka = await kafkaBroker();
    broker = kafka.broker;
    // --quick overlaps a broker's start with the paths that do not need Kafka; the full run waits for it, so a
    // starting JVM does not share the machine with its measurements.
    if (!QUICK) await kafka.ready;
    const scratch = await createTestDatabase();
    cleanup.push(() => scratch.drop());
    const db = new Pool({ connectionString: scratch.url, max: 4 });
    // The scratch database is dropped WITH (FORCE) at the end: an idle client it cuts must not crash the report.
    db.on('error', () => undefined);
    cleanup.push(() => db.end());
    const ports = { grpc: await freePort(), http: await freePort() };
    const world = await createWorld(scratch.url, ports.http);
    cleanup.push(() => world.emulator.stop());
    const topicPrefix = `bench-${randomBytes(4).toString('hex')}`;
    const brokers = broker.brokers;
    cleanup.push(() => deleteTopics(brokers, topicPrefix));
    const load = await LoadGenerator.start();
    cleanup.push(() => load.stop());

    // Phase 1, relay off (no Kafka): the events every path writes stay in the outbox for the drain path.
    // What the image runs: the build is made fresh, so the bench measures the code in this checkout.
    if (RUNTIME === 'built') await buildService();
    const service = await ServiceProcess.start(world.serviceEnv('', topicPrefix), ports, {
      runtime: RUNTIME,
      profileDir,
    });
    cleanup.push(() => service.stop());
    const rows = await measurePaths(service, world, db, load, scratch.url);

    let relayOnStartupMs: number | undefined;
    if (wants('drain')) {
      await kafka.ready;
      const measured = await measureDrain(
        db,
        broker,
        async () => {
          await service.stop();
          return ServiceProcess.start(world.serviceEnv(brokers.join(','), topicPrefix), ports, {
            runtime: RUNTIME,
            profileDir,
          });
        },
        load,
        topicPrefix,
      );
      relayOnStartupMs = measured.startupMs;
      rows.paths.push({
        path: `outbox → Kafka (${measured.result.events} events, events/s)`,
        perSecond: measured.result.perSecond,
        baseline: 'raw kafkajs idempotent producer, batches of 500',
        baselinePerSecond: measured.result.baselinePerSecond,
        target: { kind: 'ratio', min: 0.8 },
      });
    }
    rows.paths.push(
      { path: 'start-up to SERVING (spawn → grpc health)', value: `${service.startupMs.toFixed(0)} ms` },
      {
        path: `RSS under write load (max, up to ${Math.max(...COUNTS.levels)} in flight)`,
        value: `${rows.rssMb.toFixed(0)} MB`,
      },
    );

    writeReport(folder, rows.paths, rows.curves, {
      mode: QUICK ? 'quick' : 'full',
      runtime: RUNTIME,
      paths: [...ONLY],
      counts: COUNTS,
      database: new URL(scratch.url).host,
      kafka: brokers,
      startupMs: { relayOff: service.startupMs, relayOn: relayOnStartupMs },
    });
    console.log(
      `\nbench (${QUICK ? 'quick' : 'full'}): headline rows at ${COUNTS.headline} in flight` +
        (COUNTS.headlineRuns > 1 ? `, read, write and ingress the median of ${COUNTS.headlineRuns} runs\n` : '\n'),
    );
    console.log(markdownTable(rows.paths));
    console.log(`\ntable, JSON and latency chart: ${path.relative(process.cwd(), folder)}/`);
    if (profileDir) {
      await service.stop();
      console.log(`service CPU profiles (open in Chrome DevTools): ${path.relative(process.cwd(), profileDir)}/`);
    }
  } finally {
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error('bench: cleanup step failed:', (error as Error).message);
      }
    }
    await broker?.release();
  }
}

/** Paths 1–5 against the relay-off service; RSS sampled under the write load. */
async function measurePaths(
  service: ServiceProcess,
  world: BenchWorld,
  db: Pool,
  load: LoadGenerator,
  databaseUrl: string,
) {
  const address = `127.0.0.1:${service.ports.grpc}`;
  const seeded = await seed(service.ports.grpc, world);
  await createRawTables(db);
  const run = (
    what: string,
    target: LoadTarget,
    concurrency: number,
    requests = COUNTS.requests,
    warmup = COUNTS.warmup,
  ): Promise<Run> => {
    service.assertAlive();
    return load.run(what, { target, concurrency, requests, warmup });
  };
  /**
   * p99 at half of saturation, the latency target: ours and the baseline each paced (open loop, no
   * self-pacing) at half of the best rate our side reached on `curve`, for about `seconds`. No ratio: both sides run
   * at the same rate; what differs is latency.
   */
  const atHalfLoad = async (
    name: string,
    curve: LoadCurve,
    seconds: number,
    sides: { ours: LoadTarget; baseline: LoadTarget; baselineName: string },
    maxMs: number,
  ): Promise<Row> => {
    const ratePerSecond = Math.max(...curve.ours.map((r) => r.perSecond)) / 2;
    const requests = Math.max(50, Math.min(COUNTS.requests, Math.round(ratePerSecond * seconds)));
    const paced = (what: string, target: LoadTarget) => {
      service.assertAlive();
      return load.run(what, { target, concurrency: 4, requests, warmup: COUNTS.pacedWarmup, ratePerSecond });
    };
    const ours = await paced(name, sides.ours);
    const baseline = await paced(sides.baselineName, sides.baseline);
    return {
      path: `${name} at half of saturation (paced at ${ratePerSecond.toFixed(0)}/s)`,
      ...cells(ours),
      baseline: `${sides.baselineName} paced alike: p50 ${baseline.p50.toFixed(1)}, p99 ${baseline.p99.toFixed(1)} ms`,
      target: { kind: 'p99', maxMs },
    };
  };

  const transport = await BenchChild.fork<{ port: number }>('baseline-grpc-server.ts', {
    BENCH_CONSTANT_RESPONSE: Buffer.from(
      GetSubscriptionResponse.encode(await readOnce(address, seeded.subscriptionId)).finish(),
    ).toString('base64'),
  });
  const ingress = await BenchChild.fork<{ port: number }>('baseline-http-server.ts', {
    BENCH_DATABASE_URL: databaseUrl,
  });
  // Each path's two sides, as the closed-loop curves and the half-load rows both drive them.
  const reads = { kind: 'grpc-get-subscription', subscriptionId: seeded.subscriptionId } as const;
  const readSides = {
    ours: { ...reads, address },
    baseline: { ...reads, address: `127.0.0.1:${transport.ready.port}` },
  };
  const writeSides = (tag: string) => ({
    ours: { kind: 'grpc-create-customer', address, storefrontId: STOREFRONT, run: tag } as const,
    baseline: { kind: 'pg-create-customer', databaseUrl, storefrontId: STOREFRONT, run: tag } as const,
  });
  /**
   * Adds runs to each side in turns until both have `headlineRuns`, and answers each side's median by rate: one
   * stalled run must not decide a ratio (a read at 16 in flight once did 1,672/s, between 2,329/s at 4 and 4,247/s
   * at 64 in the same curve). Turns alternate (even: ours first), so neither side always follows the other.
   */
  const medianOfTurns = async (
    runs: { ours: Run[]; baseline: Run[] },
    next: (side: 'ours' | 'baseline') => Promise<Run>,
  ) => {
    for (let i = runs.ours.length; i < COUNTS.headlineRuns; i++) {
      for (const side of i % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const)) {
        runs[side].push(await next(side));
      }
    }
    return { ours: medianByRate(runs.ours), baseline: medianByRate(runs.baseline) };
  };
  /** A curve's headline row: its run at the headline level and `headlineRuns - 1` more per side. */
  const headline = (
    curve: LoadCurve,
    names: { ours: string; baseline: string },
    sides: () => { ours: LoadTarget; baseline: LoadTarget },
  ) => {
    const at = (side: 'ours' | 'baseline') => curve[side].find((r) => r.concurrency === COUNTS.headline)!;
    return medianOfTurns({ ours: [at('ours')], baseline: [at('baseline')] }, (side) =>
      run(names[side], sides()[side], COUNTS.headline),
    );
  };
  try {
    const read: LoadCurve = { title: 'read: GetSubscription vs raw grpc-js no-op', ours: [], baseline: [] };
    for (const level of wants('read') ? COUNTS.levels : []) {
      read.ours.push(await run('GetSubscription', readSides.ours, level));
      read.baseline.push(await run('raw grpc-js', readSides.baseline, level));
    }
    const readHeadline =
      wants('read') && (await headline(read, { ours: 'GetSubscription', baseline: 'raw grpc-js' }, () => readSides));
    const readFromC = wants('read') ? await readFromCClient(service, transport.ready.port, seeded.subscriptionId) : [];

    const write: LoadCurve = { title: 'write: CreateCustomer (idempotency key) vs raw pg', ours: [], baseline: [] };
    await load.renew();
    let rssMb = service.rssMb();
    const sampler = setInterval(() => (rssMb = Math.max(rssMb, service.rssMb())), 100);
    try {
      // The checkout path's customers are the ones this path creates.
      for (const level of wants('write') || wants('checkout') ? COUNTS.levels : []) {
        const sides = writeSides(`c${level}-${randomBytes(3).toString('hex')}`);
        write.ours.push(await run('CreateCustomer', sides.ours, level));
        write.baseline.push(await run('raw pg CreateCustomer', sides.baseline, level));
      }
    } finally {
      clearInterval(sampler);
    }
    const writeHeadline =
      wants('write') &&
      (await headline(write, { ours: 'CreateCustomer', baseline: 'raw pg CreateCustomer' }, () =>
        writeSides(`h-${randomBytes(3).toString('hex')}`),
      ));

    const halfLoad: Row[] = [];
    await load.renew();
    if (wants('read')) {
      halfLoad.push(await atHalfLoad('read', read, QUICK ? 1 : 5, { ...readSides, baselineName: 'raw grpc-js' }, 5));
    }
    if (wants('write')) {
      const sides = writeSides(`half-${randomBytes(3).toString('hex')}`);
      halfLoad.push(await atHalfLoad('write', write, QUICK ? 1 : 10, { ...sides, baselineName: 'raw pg' }, 20));
      // Again from a client with next to no garbage of its own, so the row shows the service's tail alone.
      const light = writeSides(`half-h2-${randomBytes(3).toString('hex')}`);
      const ours = { ...light.ours, kind: 'h2-create-customer' } as const;
      const title = 'write from a plain HTTP/2 client';
      halfLoad.push(await atHalfLoad(title, write, QUICK ? 1 : 10, { ...light, ours, baselineName: 'raw pg' }, 20));
    }

    const paths: Row[] = [];
    if (readHeadline) {
      paths.push({
        path: 'read: GetSubscription (gRPC)',
        ...cells(readHeadline.ours),
        baseline: 'raw grpc-js no-op unary',
        baselinePerSecond: readHeadline.baseline.perSecond,
        target: { kind: 'ratio', min: 0.9 },
      });
    }
    if (writeHeadline) {
      paths.push({
        path: 'write: CreateCustomer + idempotency key',
        ...cells(writeHeadline.ours),
        // The statements CreateCustomer sent when the issue set the target; it now sends one (README: Development).
        baseline: 'raw pg: the 10 statements it used to send',
        baselinePerSecond: writeHeadline.baseline.perSecond,
        target: { kind: 'ratio', min: 0.8 },
      });
    }
    paths.push(...readFromC, ...halfLoad);
    await load.renew();
    if (wants('checkout')) paths.push(await measureCheckout(run, db, world, address, seeded.planId, databaseUrl));
    await load.renew();
    if (wants('processing')) {
      // Each measurement pays sessions of its own: a paid session's webhooks are not sent again.
      const open = await db.query<{ provider_ref: string }>(
        "SELECT provider_ref FROM checkout_sessions WHERE status = 'OPEN' ORDER BY created_at LIMIT $1",
        [2 * COUNTS.sessions],
      );
      const refs = open.rows.map((r) => r.provider_ref);
      if (refs.length < 2 * COUNTS.sessions) throw new Error(`bench: only ${refs.length} open checkouts to pay`);
      const processing = await measureWebhookProcessing(
        db,
        world.emulator.url,
        refs.slice(0, COUNTS.sessions),
        load,
        databaseUrl,
      );
      paths.push({
        path: `webhook processing → outbox (${processing.webhooks} webhooks, ${processing.events} events, ${WEBHOOK_LANES} lanes; webhooks/s)`,
        perSecond: processing.perSecond,
        baseline: 'raw pg claim + event + update',
        baselinePerSecond: processing.baseline.perSecond,
      });
      const delayed = await measureWebhookProcessing(
        db,
        world.emulator.url,
        refs.slice(COUNTS.sessions),
        load,
        databaseUrl,
        PROVIDER_DELAY_MS,
      );
      // No baseline: raw pg asks no provider, so a ratio would say nothing.
      paths.push({
        path: `webhook processing, provider answering in ${PROVIDER_DELAY_MS} ms (${WEBHOOK_LANES} lanes; webhooks/s)`,
        perSecond: delayed.perSecond,
      });
    }
    if (wants('ingress')) {
      const webhook = (port: number, urlPath: string, tag: string): LoadTarget => ({
        kind: 'webhook-post',
        url: `http://127.0.0.1:${port}${urlPath}`,
        secret: world.webhookSecret,
        accessNo: EMULATOR_MERCHANT.accessNo,
        run: tag,
      });
      const ingressJob = [COUNTS.headline, COUNTS.ingress, COUNTS.ingressWarmup] as const;
      // Like the read and write headlines, each side's median of runs taken in turns: one 4,000-webhook run varies by
      // about a tenth between full runs. Every run sends webhook ids of its own (a repeated id would be answered as a
      // duplicate) on a fresh generator, so neither side runs on one the other has just used.
      const { ours: ingressOurs, baseline: ingressBaseline } = await medianOfTurns(
        { ours: [], baseline: [] },
        async (side) => {
          await load.renew();
          const tag = randomBytes(4).toString('hex');
          return side === 'ours'
            ? run('webhook ingress', webhook(service.ports.http, `/webhooks/subotiz/${STOREFRONT}`, tag), ...ingressJob)
            : run('node:http + INSERT', webhook(ingress.ready.port, '/', tag), ...ingressJob);
        },
      );
      paths.push({
        path: 'webhook ingress (signed POST)',
        ...cells(ingressOurs),
        baseline: 'node:http + 1 INSERT',
        baselinePerSecond: ingressBaseline.perSecond,
        target: { kind: 'perSecond', min: 3000 },
      });
    }
    service.assertAlive();
    return { paths, curves: [read, write].filter((c) => c.ours.length > 0), rssMb };
  } finally {
    await transport.stop();
    await ingress.stop();
  }
}

/** CreateCheckoutSession against the emulator, on customers the write path created, vs raw pg + one HTTP call. */
async function measureCheckout(
  run: (what: string, target: LoadTarget, concurrency: number, requests?: number) => Promise<Run>,
  db: Pool,
  world: BenchWorld,
  address: string,
  planId: string,
  databaseUrl: string,
): Promise<Row> {
  const customers = await db.query<{ id: string }>(
    'SELECT id FROM customers WHERE storefront_id = $1 ORDER BY id LIMIT $2',
    [STOREFRONT, COUNTS.checkouts + COUNTS.warmup],
  );
  const customerIds = customers.rows.map((r) => r.id);
  const checkout = await run(
    'CreateCheckoutSession',
    { kind: 'grpc-create-checkout', address, storefrontId: STOREFRONT, planId: planId, customerIds },
    COUNTS.headline,
    COUNTS.checkouts,
  );
  const checkoutBaseline = await run(
    'raw pg + HTTP checkout',
    {
      kind: 'pg-create-checkout',
      databaseUrl,
      storefrontId: STOREFRONT,
      planId: planId,
      customerIds,
      emulator: { url: world.emulator.url, ...EMULATOR_MERCHANT },
    },
    COUNTS.headline,
    COUNTS.checkouts,
  );

  return {
    path: 'write + provider: CreateCheckoutSession',
    ...cells(checkout),
    baseline: 'raw pg statements + 1 HTTP call',
    baselinePerSecond: checkoutBaseline.perSecond,
  };
}

/** `npm run build`: dist/ as the image has it. */
async function buildService(): Promise<void> {
  console.log('bench: npm run build (the service runs as the image runs it: node dist/src/main.js)');
  await promisify(execFile)('npm', ['run', 'build'], { cwd: path.resolve(__dirname, '..') });
}

function onlyPaths(): Set<(typeof PATHS)[number]> {
  const at = process.argv.indexOf('--only');
  if (at < 0) return new Set(PATHS);
  const named = (process.argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = named.filter((p) => !(PATHS as readonly string[]).includes(p));
  if (named.length === 0 || unknown.length > 0) {
    console.error(`bench: --only takes a comma-separated list of ${PATHS.join(', ')}`);
    process.exit(2);
  }
  const paths = new Set(named as (typeof PATHS)[number][]);
  // Processing pays the checkout path's open sessions: it cannot run without it.
  if (paths.has('processing')) paths.add('checkout');
  return paths;
}

/** The read rows from h2load, a C load generator, when it is installed (scripts/bench/c-client.ts). */
async function readFromCClient(service: ServiceProcess, rawPort: number, subscriptionId: string): Promise<Row[]> {
  const missing = await h2loadMissing();
  if (missing) {
    console.log(`bench: ${missing}: no C-client read rows (apt-get install nghttp2-client, or brew install nghttp2)`);
    return [];
  }
  const rpc = SubscriptionServiceService.getSubscription.path.slice(1);
  const ours = {
    port: service.ports.grpc,
    answeredOk: () => answeredOk(service.ports.http, rpc),
    assertAlive: () => service.assertAlive(),
  };
  const rows = await measureReadFromC(ours, { port: rawPort }, subscriptionId, COUNTS.cClient);
  for (const row of rows)
    console.log(`bench: ${row.path}: ${row.perSecond!.toFixed(0)}/s, p99 ${row.p99!.toFixed(1)} ms`);
  return rows;
}

const cells = (r: Run) => ({ perSecond: r.perSecond, p50: r.p50, p99: r.p99 });

/** The read path's answer, which the transport baseline then sends as its constant. */
async function readOnce(address: string, subscriptionId: string): Promise<GetSubscriptionResponse> {
  const client = new SubscriptionServiceClient(address, grpc.credentials.createInsecure());
  try {
    return await call(client, client.getSubscription, { subscriptionId });
  } finally {
    client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
