import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface RelayMetrics {
  published: Counter;
  failures: Counter;
  /** Events Kafka refused for good and the relay parked. */
  parked: Counter;
}

export interface ServiceMetrics {
  registry: Registry;
  rpcDuration: Histogram<'method' | 'code'>;
  relay: RelayMetrics;
  /** Rows the reconciler looked at, by kind (subscription, payment, refund) and outcome (checked, failed). */
  reconciled: Counter<'kind' | 'outcome'>;
  /** Rows a reconciler sweep stopped asking about after too many failed checks, by kind. */
  reconcileGaveUp: Counter<'kind'>;
  /** Finished runs of scheduled actions, by kind and outcome (done, retry, failed). */
  scheduledActions: Counter<'kind' | 'outcome'>;
  /** Calls to providers' APIs by provider, our operation and outcome (see `meterProviderCalls`). */
  providerCalls: Histogram<'provider' | 'operation' | 'outcome'>;
}

/** Backlogs read from the database at scrape time, so every replica reports the same truth. */
export interface Backlogs {
  outbox(): Promise<number>;
  webhookInbox(): Promise<number>;
  deadLetters(): Promise<number>;
  /** Events parked because Kafka refused them for good, not yet retried. */
  parkedEvents(): Promise<number>;
  /** Scheduled actions that used up their attempts. */
  failedActions?(): Promise<number>;
  /** Pending webhooks held back behind a failed one of their ordering key. */
  heldBackWebhooks?(): Promise<number>;
}

/**
 * Prometheus metrics served on GET /metrics. One registry per service instance (tests run several).
 * Backlog gauges are read at scrape time, so they are true whether or not this replica runs the relay or worker.
 */
export function createMetrics(backlogs: Backlogs): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => Promise<number>) => {
    const shared = sharedRead(read);
    return new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(await shared());
      },
    });
  };
  gauge('billing_outbox_backlog', 'Events in the outbox not yet published to Kafka', () => backlogs.outbox());
  gauge('billing_webhook_inbox_backlog', 'Verified webhooks not yet processed (due or waiting to retry)', () =>
    backlogs.webhookInbox(),
  );
  gauge('billing_outbox_parked', 'Events Kafka refused for good, parked until RetryDeadLetter (their keys wait)', () =>
    backlogs.parkedEvents(),
  );
  gauge('billing_webhook_dead_letters', 'Webhooks that exhausted their attempts and were not retried', () =>
    backlogs.deadLetters(),
  );
  const heldBack = backlogs.heldBackWebhooks?.bind(backlogs);
  if (heldBack) {
    gauge(
      'billing_webhook_inbox_held_back',
      'Verified webhooks waiting behind a failed one of their ordering key (part of the inbox backlog)',
      heldBack,
    );
  }
  const failedActions = backlogs.failedActions?.bind(backlogs);
  if (failedActions) {
    gauge('billing_scheduled_actions_failed', 'Scheduled actions that used up their attempts', failedActions);
  }
  return {
    reconcileGaveUp: new Counter({
      name: 'billing_reconciler_given_up_total',
      help: 'Rows the reconciler stopped asking a provider about after repeated failed checks',
      labelNames: ['kind'],
      registers: [registry],
    }),
    scheduledActions: new Counter({
      name: 'billing_scheduled_actions_total',
      help: 'Finished runs of scheduled actions by kind and outcome (done, retry, failed)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    reconciled: new Counter({
      name: 'billing_reconciler_rows_total',
      help: 'Rows the reconciler asked a provider about (expired checkouts, pending refunds, live subscriptions)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    providerCalls: new Histogram({
      name: 'billing_provider_call_duration_seconds',
      help: 'Calls to providers by provider, operation and outcome (ok, rejected, failed), retries included',
      labelNames: ['provider', 'operation', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    registry,
    rpcDuration: new Histogram({
      name: 'billing_grpc_server_duration_seconds',
      help: 'gRPC calls by method and status code',
      labelNames: ['method', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    relay: {
      published: new Counter({
        name: 'billing_outbox_published_total',
        help: 'Events published to Kafka',
        registers: [registry],
      }),
      failures: new Counter({
        name: 'billing_outbox_publish_failures_total',
        help: 'Failed publish attempts (events stay in the outbox)',
        registers: [registry],
      }),
      parked: new Counter({
        name: 'billing_outbox_parked_total',
        help: 'Events Kafka refused for good and the relay parked',
        registers: [registry],
      }),
    },
  };
}

/**
 * `read`, with concurrent callers sharing the one read in flight. /metrics needs no key and each scrape counts
 * backlogs in the database: hundreds of scrapes at once made as many sets of queries, and slowed every RPC.
 */
function sharedRead(read: () => Promise<number>): () => Promise<number> {
  let inFlight: Promise<number> | undefined;
  return () =>
    (inFlight ??= read().finally(() => {
      inFlight = undefined;
    }));
}
