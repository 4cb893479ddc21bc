import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface RelayMetrics {
  published: Counter;
  failures: Counter;
}

export interface ServiceMetrics {
  registry: Registry;
  rpcDuration: Histogram<'method' | 'code'>;
  relay: RelayMetrics;
}

/**
 * Prometheus metrics served on GET /metrics. One registry per service instance (tests run several).
 * `outboxBacklog` is read at scrape time, so the gauge is true whether or not a relay runs.
 */
export function createMetrics(outboxBacklog: () => Promise<number>): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'billing_outbox_backlog',
    help: 'Events in the outbox not yet published to Kafka',
    registers: [registry],
    async collect() {
      this.set(await outboxBacklog());
    },
  });
  return {
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
    },
  };
}
