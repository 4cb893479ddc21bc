import type { Logger } from 'pino';
import path from 'node:path';
import { ALL_PROVIDERS } from '../adapters';
import { DemoEmulators, startDemoEmulators } from '../adapters/demo-emulators';
import { createHttpTransport } from '../adapters/kit/http-transport';
import { BindingGuard } from './app/providers/binding-guard';
import { CatalogUseCases } from './app/use-cases/catalog';
import { CustomerUseCases } from './app/use-cases/customers';
import { DeadLetterUseCases } from './app/use-cases/dead-letters';
import { seedDemo } from './app/use-cases/demo-seed';
import { EntitlementUseCases } from './app/use-cases/entitlements';
import { EventUseCases } from './app/use-cases/events';
import { KnownTenants } from './app/providers/known-tenants';
import { PaymentUseCases } from './app/use-cases/payments';
import { PeriodicTask } from './app/background/periodic-task';
import { purgeOldWebhooks } from './app/background/webhook-retention';
import { ProviderEventApplier } from './app/inbound/provider-events';
import { StateInDoubt } from './app/inbound/subscription-answers';
import { ProviderGateway } from './app/providers/provider-gateway';
import { ProviderRegistry } from './app/providers/provider-registry';
import { Reconciler } from './app/background/reconciler';
import { PaymentCheckoutSweep } from './app/background/payment-checkout-sweep';
import { RefundSweep } from './app/background/refund-sweep';
import { SubscriptionCheckoutSweep } from './app/background/subscription-checkout-sweep';
import { SubscriptionSweep } from './app/background/subscription-sweep';
import { KnexReconcileFailures } from './store/reconcile-failures';
import { StorefrontUseCases } from './app/use-cases/storefronts';
import { CheckoutUseCases } from './app/use-cases/checkout';
import { CheckoutSessionUseCases } from './app/use-cases/checkout-sessions';
import { PortalUseCases } from './app/use-cases/portal';
import { SubscriptionUseCases } from './app/use-cases/subscriptions';
import { UsageUseCases } from './app/use-cases/usage';
import { WebhookIntake } from './app/inbound/webhook-intake';
import { CheckoutPolls } from './app/background/checkout-polls';
import { EmulatedCancellations } from './app/background/emulated-cancellations';
import { Scheduler } from './app/background/scheduler';
import { MERCHANT_RENEWAL, merchantRenewalHandler } from './app/background/merchant-renewals';
import { KnexScheduledActionQueue } from './store/scheduled-action-queue';
import { startAuthentication } from './auth/authentication';
import { CachedTenantDirectory } from './auth/cached-tenant-directory';
import type { Config } from './config/config';
import { databaseFailure, listenFailure } from './config/start-failures';
import { EnvFileSecretResolver } from './config/secret-resolver';
import { IdempotencyGuard } from './grpc/idempotency-guard';
import { authenticate } from './grpc/interceptors/authenticate';
import { authorize } from './grpc/interceptors/authorize';
import { decodeRequest } from './grpc/interceptors/decode-request';
import { admission } from './grpc/interceptors/admission';
import { idempotency as idempotencyInterceptor } from './grpc/interceptors/idempotency';
import { inputLimits } from './grpc/interceptors/input-limits';
import { tenantScope } from './grpc/interceptors/tenant-scope';
import { tenantShare } from './grpc/interceptors/tenant-share';
import { bindServer, buildGrpcServer, setServing, shutdownServer } from './grpc/server';
import { KafkaMonitor } from './outbox/kafka-monitor';
import { KafkaPublisherThread } from './outbox/kafka-publisher-thread';
import { OutboxRelay } from './outbox/outbox-relay';
import { Clock, systemClock } from './ports/clock.port';
import type { HttpTransport } from './ports/http-transport.port';
import type { ProviderModule } from './ports/provider-adapter.port';
import { Database, isDatabaseUnavailable, isTransactionConflict, openDatabase } from './store/database';
import { DatabaseMonitor } from './store/database-monitor';
import { IdempotencyStore } from './store/idempotency-store';
import { migrateToLatest } from './store/migrate';
import { OutboxRelayStore } from './store/outbox-relay-store';
import { relayLeadership } from './store/relay-leadership';
import { KnexTenantDirectory } from './store/tenant-directory';
import { storefrontCache, subscriptionCache } from './store/notified-cache';
import { ChangeNoticeListener, STOREFRONT_CHANGES, SUBSCRIPTION_CHANGES } from './store/change-notice-listener';
import { KnexUnitOfWork } from './store/unit-of-work';
import { KnexWebhookInbox } from './store/webhook-inbox';
import { routeGrpcJsLogs } from './telemetry/grpc-js-log';
import { createLogger, redactUrl } from './telemetry/logger';
import { createMetrics } from './telemetry/metrics';
import { meterProviderCalls } from './telemetry/provider-call-metrics';
import { closeHttp, createHttpServer, listenHttp } from './webhooks/http-server';
import { InboxWorker } from './webhooks/inbox-worker';

export interface ServiceOptions {
  logger?: Logger;
  clock?: Clock;
  providers?: readonly ProviderModule[];
}

export interface RunningService {
  grpcPort: number;
  httpPort: number;
  /** The in-process emulators (EMULATORS), each provider's base URL; empty when they are off. */
  emulators: { provider: string; url: string }[];
  database: Database;
  /** The durable scheduler: register a handler per action kind; use cases schedule through their repositories. */
  scheduler: Scheduler;
  /** Drains gRPC, flushes the relay, closes Kafka and the database. */
  stop(): Promise<void>;
}

const HOUR = 3_600_000;
/** How long before the reconciler asks again about a checkout still open at the provider, or a failed check. */
const RECHECK_AFTER_MS = 5 * 60_000;
/**
 * How long a retry waits for a key whose owner stopped renewing (it died): short, because the live owner renews its
 * lease while the call runs, and the final write is fenced by the owner anyway.
 */
const IDEMPOTENCY_LEASE_MS = 10_000;

/** The composition root: wires store, use cases, transports and relay from one Config. */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  routeGrpcJsLogs(logger);
  const clock = options.clock ?? systemClock;
  // Keys first: a bad key file must stop the start before anything listens.
  const authentication = startAuthentication(config, logger);
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.databasePoolMax,
    acquireTimeoutMs: config.databaseAcquireTimeoutMs,
    logger,
  });
  const relayStore = new OutboxRelayStore(database.knex, relayLeadership(database));
  const inboxCounts = new KnexWebhookInbox(database.knex);
  const actionQueue = new KnexScheduledActionQueue(database.knex);
  const metrics = createMetrics({
    outbox: () => relayStore.countUnpublished(),
    webhookInbox: () => inboxCounts.countPending(),
    heldBackWebhooks: () => inboxCounts.countHeldBack(),
    deadLetters: () => inboxCounts.countDeadLetters(),
    parkedEvents: () => relayStore.countParked(),
    failedActions: () => actionQueue.countFailed(),
  });
  const applied = await migrateToLatest(database.knex).catch(async (error: unknown) => {
    await database.close().catch(() => undefined);
    throw config.databaseUrl ? databaseFailure(redactUrl(config.databaseUrl), error) : error;
  });
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  // Asked at once, without waiting: an unreachable Kafka is reported at start, and the service serves anyway.
  const publisher = config.kafkaBrokers.length
    ? new KafkaPublisherThread({ brokers: config.kafkaBrokers, clientId: 'billing-adapter', logger })
    : undefined;
  const kafkaMonitor = publisher
    ? new KafkaMonitor(() => publisher.probe(), config.kafkaBrokers, 30_000, logger.child({ component: 'kafka' }))
    : undefined;
  kafkaMonitor?.start();
  // Every provider call is timed by provider and outcome (the dashboard's and alert rules' provider panels).
  const kitHttp = createHttpTransport();
  const providerHttp: HttpTransport = { send: meterProviderCalls(metrics.providerCalls, (r) => kitHttp.send(r)) };
  const registry = new ProviderRegistry(options.providers ?? ALL_PROVIDERS, (provider) => ({
    clock,
    logger: logger.child({ component: 'provider', provider }),
    http: providerHttp,
  }));
  const uow = new KnexUnitOfWork(database.knex, clock);
  // The HTTP listener comes up first: the in-process emulators need its address for their webhooks.
  let serving = false;
  // Not ready while the database does not answer; comes back by itself (gRPC health follows, see below).
  const databaseMonitor = new DatabaseMonitor(
    database.probe,
    { intervalMs: 1000, failuresBeforeUnreachable: 2 },
    logger.child({ component: 'database-monitor' }),
    (reachable) => {
      if (serving) setServing(health, reachable);
    },
  );
  // Set once everything is wired; until then webhooks are refused with a retryable answer.
  let ingress: { intake: WebhookIntake; inbox: InboxWorker } | undefined = undefined;
  const http = createHttpServer({
    logger: logger.child({ component: 'webhook-ingress' }),
    trustedProxies: config.trustedProxies,
    metrics: metrics.registry,
    ready: async () => serving && databaseMonitor.isReachable(),
    detail: () => ({ kafka: kafkaMonitor?.status() ?? { state: 'off' } }),
    webhooks: async (provider, storefrontId, webhook) => {
      if (!ingress) throw new Error('not serving yet');
      const answer = await ingress.intake.receive(provider, storefrontId, webhook);
      if (answer.queued) ingress.inbox.wake();
      return answer;
    },
  });
  const httpPort = await listenHttp(http, config.host, config.httpPort).catch((error: unknown) => {
    throw listenFailure('HTTP_PORT', config.host, config.httpPort, error);
  });
  const emulators: DemoEmulators | undefined = config.emulators
    ? await startDemoEmulators({
        host: config.host,
        port: config.emulatorPort,
        // Beside the embedded data, so a restart remembers the emulators' sessions and subscriptions too.
        dataDir: config.databaseUrl ? undefined : path.join(config.dataDir, 'emulators'),
        webhookBaseUrl: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${httpPort}`,
      }).catch((error: unknown) => {
        throw listenFailure('EMULATOR_PORT', config.host, config.emulatorPort, error);
      })
    : undefined;

  const secrets = new EnvFileSecretResolver({ secretsDir: config.secretsDir, defaults: emulators?.secrets });
  const guard = new BindingGuard(secrets, {
    allowlist: config.providerHostAllowlist,
    allowInsecure: config.allowInsecureProviderUrls,
  });
  const tenants = new KnownTenants(authentication.keyTenants);
  const publicBaseUrl = config.publicBaseUrl ?? `http://localhost:${httpPort}`;
  const gateway = new ProviderGateway(registry, secrets, guard, tenants, publicBaseUrl);
  const applier = new ProviderEventApplier(gateway, clock);
  // The ingress reads a storefront per webhook, and callers poll GetSubscription: both cached, an entry dropped when
  // any replica changes its row (PostgreSQL notices); on PGlite this process is the only writer, so its own commits
  // are the whole story.
  const cachedStorefronts = storefrontCache((id) => uow.reads.storefronts.get(id));
  uow.onStorefrontChanged((id) => cachedStorefronts.changed(id));
  const cachedSubscriptions = subscriptionCache((id) => uow.reads.subscriptions.get(id));
  uow.onSubscriptionChanged((id) => cachedSubscriptions.changed(id));
  const changeNotices = database.sessionClient
    ? new ChangeNoticeListener(
        database.sessionClient,
        { [STOREFRONT_CHANGES]: cachedStorefronts, [SUBSCRIPTION_CHANGES]: cachedSubscriptions },
        logger.child({ component: 'change-notices' }),
      )
    : undefined;
  await changeNotices?.start();
  const inboxLogger = logger.child({ component: 'webhook-inbox' });
  const intake = new WebhookIntake(uow, registry, gateway, applier, clock, {
    storefronts: cachedStorefronts,
    logger: inboxLogger,
  });
  const inbox = new InboxWorker(
    uow,
    intake,
    clock,
    {
      retryBaseMs: config.webhookRetryBaseMs,
      maxDelayMs: 300_000,
      maxAttempts: config.webhookMaxAttempts,
      pollIntervalMs: config.webhookPollIntervalMs,
      orderGapWaitMs: config.webhookOrderGapMs,
      processingTimeoutMs: config.webhookProcessingTimeoutMs,
      // PGlite is one session: a second lane would only queue for it, ahead of the RPCs.
      lanes: database.kind === 'pglite' ? 1 : config.webhookWorkers,
      // A subscription that changed between asking its provider and locking it is asked about again at once.
      isTransactionConflict: (error) => error instanceof StateInDoubt || isTransactionConflict(error),
    },
    inboxLogger,
  );
  const reconcilerLogger = logger.child({ component: 'reconciler' });
  const sweepDeps = {
    uow,
    gateway,
    applier,
    clock,
    settings: { recheckAfterMs: RECHECK_AFTER_MS, providerTimeoutMs: 30_000 },
  };
  const reconciliation = new Reconciler(
    [
      new SubscriptionCheckoutSweep(sweepDeps),
      new PaymentCheckoutSweep(sweepDeps),
      new RefundSweep(sweepDeps, config.reconcileRefundAfterMs),
      new SubscriptionSweep(sweepDeps, {
        periodEndGraceMs: config.reconcilePeriodEndGraceMs,
        silenceMs: config.reconcileSilenceMs,
      }),
    ],
    new KnexReconcileFailures(database.knex),
    clock,
    { batchSize: 50, maxFailures: config.reconcileMaxFailures },
    reconcilerLogger,
    (kind, outcome) =>
      outcome === 'given_up' ? metrics.reconcileGaveUp.inc({ kind }) : metrics.reconciled.inc({ kind, outcome }),
  );
  const reconciler = new PeriodicTask(
    'reconciler',
    config.reconcileIntervalMs,
    (signal) => reconciliation.sweep(signal),
    reconcilerLogger,
  );
  // Built before the use cases so they can be handed it; kinds are registered by whoever owns the work.
  const scheduler = new Scheduler(
    actionQueue,
    clock,
    {
      pollIntervalMs: config.schedulerPollIntervalMs,
      leaseMs: config.schedulerLeaseMs,
      maxAttempts: config.schedulerMaxAttempts,
      retryBaseMs: 5_000,
      maxBackoffMs: 3_600_000,
      // Few per claim: every claimed action's lease runs from the claim, and they run one after another.
      batchSize: 2,
    },
    logger.child({ component: 'scheduler' }),
    (kind, outcome) => metrics.scheduledActions.inc({ kind, outcome }),
  );
  uow.onActionsScheduled((dueAt) => scheduler.scheduled(dueAt));
  new EmulatedCancellations(uow, gateway, clock, logger.child({ component: 'scheduler' }), applier).register(scheduler);
  scheduler.register(
    MERCHANT_RENEWAL,
    merchantRenewalHandler({ uow, gateway, applier, clock, dunningDays: config.merchantRenewalDunningDays }),
  );
  // Who owns a storefront, a customer, ...: asked by the tenant scope of every call and by use cases; owners never
  // change, so what it has seen is kept.
  const owners = new CachedTenantDirectory(new KnexTenantDirectory(database.knex));
  const useCases = {
    storefronts: new StorefrontUseCases(uow, registry, clock, guard, tenants),
    catalog: new CatalogUseCases(uow, registry, clock),
    customers: new CustomerUseCases(uow, clock, gateway, owners),
    events: new EventUseCases(uow),
    deadLetters: new DeadLetterUseCases(uow, clock, (kind) => (kind === 'event' ? relay?.wake() : inbox.wake())),
    subscriptions: {
      // Checkouts and their sessions read the storefront outside any transaction, as the ingress does: cached.
      checkout: new CheckoutUseCases(uow, gateway, clock, cachedStorefronts),
      checkoutSessions: new CheckoutSessionUseCases(uow, gateway, clock, cachedStorefronts),
      subscriptions: new SubscriptionUseCases(uow, gateway, clock, cachedSubscriptions),
      usage: new UsageUseCases(uow, gateway, clock),
      portal: new PortalUseCases(uow, gateway, cachedStorefronts),
    },
    payments: new PaymentUseCases(uow, gateway, clock),
    entitlements: new EntitlementUseCases(uow, clock),
  };
  new CheckoutPolls(uow, gateway, useCases.subscriptions.checkoutSessions, applier, clock).register(scheduler);
  if (config.demoSeed) {
    const bindings = Object.fromEntries(
      (emulators?.providers ?? []).map((p) => [p.provider, { config: p.config, secretRefs: p.secretRefs }]),
    );
    const seeded = await seedDemo(registry, useCases.storefronts, useCases.catalog, bindings);
    if (seeded.length > 0) logger.info({ storefronts: seeded }, 'demo storefronts created');
  }

  const idempotency = new IdempotencyStore(database.knex, {
    retentionMs: config.idempotencyRetentionHours * HOUR,
    leaseMs: IDEMPOTENCY_LEASE_MS,
  });
  // Hourly: idempotency keys past their retention, and processed webhooks past theirs, a batch per statement
  // (WEBHOOK_RETENTION_DAYS=0 keeps them all).
  const purges = new PeriodicTask(
    'purges',
    HOUR,
    async (signal) => {
      await idempotency.purgeExpired();
      if (config.webhookRetentionDays === 0) return;
      const retentionMs = config.webhookRetentionDays * 24 * HOUR;
      const purged = await purgeOldWebhooks(inboxCounts, clock.now(), retentionMs, signal);
      if (purged > 0) logger.info({ purged }, 'processed webhooks past their retention deleted');
    },
    logger,
  );

  const relay = publisher
    ? new OutboxRelay(
        relayStore,
        publisher,
        {
          topicPrefix: config.kafkaTopicPrefix,
          encoding: config.eventEncoding,
          batchSize: 500,
          pollIntervalMs: config.relayPollIntervalMs,
          // A standby's try is one query on its own session; a dead leader's events wait at most this long.
          standbyRetryMs: 250,
          // Back on Kafka within half a second of the broker's return. Each retry is one connect attempt and one
          // small request from one process (the leader), which a broker that is up shrugs off and one that is down
          // refuses at once, so retrying this often costs nothing worth saving.
          maxBackoffMs: 500,
        },
        logger.child({ component: 'outbox-relay' }),
        metrics.relay,
      )
    : undefined;
  if (relay) uow.onEventsCommitted(() => relay.wake());

  const interceptors = [
    admission({
      maxInFlight: config.maxInFlightRpcs,
      isDatabaseUnavailable,
      isTransactionConflict,
      databaseReachable: () => databaseMonitor.isReachable(),
    }),
    authenticate(authentication.authenticator),
    authorize(),
    // Before the request is decoded: a tenant past its share costs nothing more.
    tenantShare(config.maxInFlightPerTenant),
    decodeRequest(),
    // Pure checks before the first query: nothing invalid reaches the tenant lookup or the use case.
    inputLimits(),
    tenantScope(owners),
    idempotencyInterceptor(new IdempotencyGuard(idempotency, { renewEveryMs: IDEMPOTENCY_LEASE_MS / 4 })),
  ];
  const { server, health } = buildGrpcServer(useCases, { interceptors, logger, metrics });
  const grpcPort = await bindServer(server, config.host, config.grpcPort).catch((error: unknown) => {
    throw listenFailure('GRPC_PORT', config.host, config.grpcPort, error);
  });
  relay?.start();
  inbox.start();
  reconciler.start();
  purges.start();
  scheduler.start();
  ingress = { intake, inbox };
  serving = true;
  setServing(health, databaseMonitor.isReachable());
  // Embedded PGlite lives in this process: it cannot become unreachable, only busy (one connection for everything).
  if (database.kind === 'postgres') databaseMonitor.start();

  return {
    grpcPort,
    httpPort,
    emulators: (emulators?.providers ?? []).map((p) => ({
      provider: p.provider,
      url: `${emulators!.url}/${p.provider}`,
    })),
    database,
    scheduler,
    async stop() {
      serving = false;
      databaseMonitor.stop();
      setServing(health, false); // watchers hear NOT_SERVING, then their streams end
      health.close();
      authentication.stop();
      await shutdownServer(server, 10_000);
      await closeHttp(http);
      await inbox.stop();
      await reconciler.stop();
      await purges.stop();
      await scheduler.stop();
      await emulators?.stop();
      await kafkaMonitor?.stop();
      await relay?.stop();
      await changeNotices?.stop();
      await database.close();
    },
  };
}
