import { context, propagation, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Wakeup } from '../app/background/wakeup';
import { EVENT_STREAMS, topicName } from '../domain/event-catalogue';
import { newId } from '../domain/ids';
import { EventPublisher, MessagesRefusedError, OutgoingMessage } from '../ports/event-publisher.port';
import type { StoredEvent } from '../ports/store.port';
import type { OutboxRelayStore } from '../store/outbox-relay-store';
import type { RelayMetrics } from '../telemetry/metrics';
import { EventEncoding, toCloudEventMessage } from './cloud-event';

export interface OutboxRelayOptions {
  topicPrefix: string;
  encoding: EventEncoding;
  batchSize: number;
  /** How often to look for events nobody told us about (other replicas, replays). */
  pollIntervalMs: number;
  leaseMs: number;
  maxBackoffMs: number;
}

const tracer = trace.getTracer('billing-adapter/outbox');

/** An outbox row on its way to the broker: the row, its message and the producer span it continues. */
interface Outgoing {
  event: StoredEvent & { id: string };
  message: OutgoingMessage;
  span: Span;
}

/**
 * Publishes outbox rows to Kafka in outbox order. Nothing is deleted: a row is marked published only after the
 * broker acknowledged it, so with Kafka (or the database) away events wait and then flow in order. Delivery is
 * at-least-once (a crash between ack and mark re-sends); consumers dedupe on ce_id.
 */
export class OutboxRelay {
  private readonly holder = `relay-${randomUUID()}`;
  private running = false;
  private loop?: Promise<void>;
  /** Poll waits end early when new events are committed; backoffs only on stop(). */
  private wakeup = new Wakeup();
  private topicsReady = false;
  private failures = 0;

  constructor(
    private readonly store: OutboxRelayStore,
    private readonly publisher: EventPublisher,
    private readonly options: OutboxRelayOptions,
    private readonly logger: Logger,
    private readonly metrics: RelayMetrics,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wakeup = new Wakeup();
    this.loop = this.run();
  }

  /** New events were committed: publish now instead of at the next poll. */
  wake(): void {
    this.wakeup.wake();
  }

  /** Stops after one last attempt to flush what is pending (bounded by `timeoutMs`). */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeup.stop();
    await this.loop;
    const flush = async () => {
      while (this.failures === 0 && (await this.store.acquireLease(this.holder, this.options.leaseMs))) {
        if ((await this.publishBatch()) < this.options.batchSize) return;
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([flush(), timeout]);
    } catch (error) {
      this.logger.warn({ err: error }, 'outbox relay: final flush failed; events stay in the outbox');
    } finally {
      clearTimeout(timer);
    }
    await this.store.releaseLease(this.holder).catch(() => undefined);
    await this.publisher.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!(await this.store.acquireLease(this.holder, this.options.leaseMs))) {
          await this.wakeup.sleep(this.options.leaseMs / 3);
          continue;
        }
        const published = await this.publishBatch();
        if (this.failures > 0) this.logger.info({ after_failures: this.failures }, 'outbox relay: publishing again');
        this.failures = 0;
        if (published < this.options.batchSize) await this.wakeup.sleep(this.options.pollIntervalMs);
      } catch (error) {
        this.failures += 1;
        this.metrics.failures.inc();
        const backoff = Math.min(this.options.maxBackoffMs, 100 * 2 ** Math.min(this.failures, 10));
        // One line per outage stage, not per retry.
        const log = this.failures === 1 || this.failures % 20 === 0 ? 'warn' : 'debug';
        this.logger[log](
          { err: error, failures: this.failures, backoff_ms: backoff },
          'outbox relay: publish failed; events wait in the outbox',
        );
        // Not wakeable: new events must not make us hammer a broker that is down.
        await this.wakeup.sleep(backoff, false);
      }
    }
  }

  /** Publishes the next batch; returns how many events it settled (published or parked). */
  private async publishBatch(): Promise<number> {
    const events = await this.store.nextBatch(this.options.batchSize);
    if (events.length === 0) return 0;
    if (!this.topicsReady) {
      await this.publisher.ensureTopics(EVENT_STREAMS.map((s) => topicName(this.options.topicPrefix, s)));
      this.topicsReady = true;
    }
    const produceSpans = events.map((event) => this.produceSpan(event));
    // The batch is its own trace, linked to every request whose events it carries.
    const batchSpan = tracer.startSpan(
      'outbox.relay publish batch',
      {
        kind: SpanKind.INTERNAL,
        links: produceSpans.map((span) => ({ context: span.spanContext() })),
        attributes: { 'messaging.batch.message_count': events.length },
      },
      ROOT_CONTEXT,
    );
    const outgoing: Outgoing[] = events.map((event, i) => {
      const traceHeaders: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), produceSpans[i]!), traceHeaders);
      return { event, span: produceSpans[i]!, message: toCloudEventMessage(event, { ...this.options, traceHeaders }) };
    });
    try {
      await this.deliver(outgoing, new Set());
    } catch (error) {
      for (const span of [...produceSpans, batchSpan]) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      }
      throw error;
    } finally {
      for (const span of [...produceSpans, batchSpan]) span.end();
    }
    return events.length;
  }

  /**
   * Sends `outgoing` in order and marks what the broker acknowledged. When the broker refuses the lot for good, it
   * is halved and each half sent on its own, down to the one event that is refused alone: that one is parked, and
   * the later events of its key are held back (here by `parkedKeys`, afterwards by the store). So one poison event
   * costs about log2(batch) extra sends, every acknowledged half is marked at once (never re-sent in a loop), and
   * order per key holds because the first half always settles before the second is sent.
   */
  private async deliver(outgoing: Outgoing[], parkedKeys: Set<string>): Promise<void> {
    const pending = outgoing.filter((o) => !parkedKeys.has(o.event.key));
    if (pending.length === 0) return;
    try {
      await this.publisher.publish(pending.map((o) => o.message));
    } catch (error) {
      if (!(error instanceof MessagesRefusedError)) throw error;
      if (pending.length === 1) return this.park(pending[0]!, error, parkedKeys);
      const half = Math.ceil(pending.length / 2);
      await this.deliver(pending.slice(0, half), parkedKeys);
      await this.deliver(pending.slice(half), parkedKeys);
      return;
    }
    await this.store.markPublished(pending.map((o) => o.event.id));
    this.metrics.published.inc(pending.length);
  }

  private async park(refused: Outgoing, error: MessagesRefusedError, parkedKeys: Set<string>): Promise<void> {
    const { event, message } = refused;
    await this.store.park(event, error.reason, new Date(), newId('dlq'));
    parkedKeys.add(event.key);
    this.metrics.parked.inc();
    refused.span.setStatus({ code: SpanStatusCode.ERROR, message: `parked: ${error.reason}` });
    this.logger.error(
      {
        event_id: event.eventId,
        event_type: event.type,
        key: event.key,
        bytes: message.value.length,
        reason: error.reason,
      },
      'outbox relay: Kafka refused an event for good; parked it (ListDeadLetters), later events of its key wait',
    );
  }

  /** A producer span continuing the trace of the request that wrote the event. */
  private produceSpan(event: StoredEvent): Span {
    const parent = event.traceparent
      ? propagation.extract(ROOT_CONTEXT, { traceparent: event.traceparent, tracestate: event.tracestate ?? '' })
      : ROOT_CONTEXT;
    const topic = topicName(this.options.topicPrefix, event.stream as (typeof EVENT_STREAMS)[number]);
    return tracer.startSpan(
      `${topic} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
          'messaging.operation.type': 'publish',
          'messaging.message.id': event.eventId,
          'messaging.kafka.message.key': event.key,
        },
      },
      parent,
    );
  }
}
