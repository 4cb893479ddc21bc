import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Logger } from 'pino';
import { Wakeup } from '../app/background/wakeup';
import { EVENT_STREAMS, topicName } from '../domain/event-catalogue';
import { newId } from '../domain/ids';
import { EventPublisher, MessagesRefusedError, OutgoingMessage } from '../ports/event-publisher.port';
import type { StoredEvent } from '../ports/store.port';
import type { OutboxRelayStore } from '../store/outbox-relay-store';
import type { RelayMetrics } from '../telemetry/metrics';
import { EventEncoding, storedTraceHeaders, toCloudEventMessage } from './cloud-event';

export interface OutboxRelayOptions {
  topicPrefix: string;
  encoding: EventEncoding;
  batchSize: number;
  /** How often to look for events nobody told us about (other replicas, replays). */
  pollIntervalMs: number;
  /** How often a standby asks whether it may lead (a commit on its replica asks at once). */
  standbyRetryMs: number;
  maxBackoffMs: number;
}

const tracer = trace.getTracer('billing-adapter/outbox');

/** A batch read and encoded: its messages and every span it opened (producer spans and the batch span). */
interface Batch {
  outgoing: Outgoing[];
  spans: Span[];
}

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
  private running = false;
  private loop?: Promise<void>;
  /** Poll waits end early when new events are committed; backoffs only on stop(). */
  private wakeup = new Wakeup();
  private topicsReady = false;
  private failures = 0;
  /** The next batch, read while the current one is sent. */
  private prefetched?: Promise<Batch | undefined>;
  /** The last acknowledged batch, its mark still committing. */
  private marking?: { ids: string[]; keys: Set<string>; done: Promise<void> };

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
      try {
        while (this.failures === 0 && (await this.store.lead())) {
          if ((await this.publishBatch()) < this.options.batchSize) return;
        }
      } finally {
        await this.pause();
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
    await this.store.stepDown().catch(() => undefined);
    await this.publisher.close();
  }

  /**
   * Ends the pipeline: the prefetched batch is forgotten and the pending mark committed (what Kafka acknowledged is
   * marked even when we stop leading; if the mark fails, those events go out again).
   */
  private async pause(): Promise<void> {
    this.dropPrefetch();
    await this.settleMark();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!(await this.store.lead())) {
          await this.pause();
          await this.standReady();
          await this.wakeup.sleep(this.options.standbyRetryMs);
          continue;
        }
        const published = await this.publishBatch();
        if (this.failures > 0) this.logger.info({ after_failures: this.failures }, 'outbox relay: publishing again');
        this.failures = 0;
        if (published < this.options.batchSize) await this.wakeup.sleep(this.options.pollIntervalMs);
      } catch (error) {
        await this.pause().catch(() => undefined);
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

  /**
   * A standby keeps its topics checked and its producer connected, so when the leader dies its first batch goes out
   * without the admin round trips and the producer's handshake (a few hundred ms of a handover, measured).
   */
  private async standReady(): Promise<void> {
    await this.ensureTopics();
    await this.publisher.connect();
  }

  private async ensureTopics(): Promise<void> {
    if (this.topicsReady) return;
    await this.publisher.ensureTopics(EVENT_STREAMS.map((s) => topicName(this.options.topicPrefix, s)));
    this.topicsReady = true;
  }

  /**
   * Publishes the next batch; returns how many events it settled (published or parked).
   *
   * Batches are pipelined around the one thing that must stay serial, the send: while batch N is on its way to
   * Kafka, batch N+1 is read and encoded, and batch N-1's mark commits. Sends stay one at a time and in outbox order
   * (the idempotent producer allows one request in flight, and a failed send must not be overtaken). A send waits
   * for the pending mark when the two batches share a key, and a new mark starts only after the previous one
   * committed, so marks commit in outbox order: a crash leaves at most the last two acknowledged batches unmarked,
   * re-sent oldest first, and no key has a later event marked while an earlier one is not.
   */
  private async publishBatch(): Promise<number> {
    const batch = await this.nextBatch();
    if (!batch) {
      await this.settleMark();
      return 0;
    }
    await this.ensureTopics();
    const { outgoing, spans } = batch;
    if (this.marking && sharesKey(outgoing, this.marking.keys)) await this.settleMark();
    const full = outgoing.length === this.options.batchSize;
    // Read the next batch during the send; a short batch means the outbox is drained for now.
    if (full) this.prefetch([...outgoing.map((o) => o.event.id), ...(this.marking?.ids ?? [])]);
    try {
      const refusal = await this.publishWhole(outgoing);
      if (!refusal) {
        await this.settleMark();
        this.startMark(outgoing);
        if (!full) await this.settleMark();
      } else {
        // Refused for good: settle the slow way, with nothing overlapping. The prefetched batch was read before
        // an event was parked and may hold later events of its key, so it is read again.
        this.dropPrefetch();
        await this.settleMark();
        await this.settleRefused(outgoing, refusal, new Set());
      }
    } catch (error) {
      this.dropPrefetch();
      for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
    return outgoing.length;
  }

  /** The prefetched batch if there is one, else the next batch read now (undefined when there is none). */
  private async nextBatch(): Promise<Batch | undefined> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    return prefetched ? await prefetched : await this.readBatch([]);
  }

  private prefetch(excludeIds: string[]): void {
    const read = this.readBatch(excludeIds);
    // Awaited by the next publishBatch (which sees a failure); dropped ones must not end as unhandled rejections.
    read.catch(() => undefined);
    this.prefetched = read;
  }

  /**
   * Forgets the prefetched batch: after a failure, a refusal or a pause in leadership it may be stale (another
   * replica may have published some of it since). Its spans are never ended, which only unrecorded spans are.
   */
  private dropPrefetch(): void {
    const dropped = this.prefetched;
    this.prefetched = undefined;
    dropped?.then((batch) => batch?.spans.forEach((span) => span.end())).catch(() => undefined);
  }

  private async readBatch(excludeIds: string[]): Promise<Batch | undefined> {
    const events = await this.store.nextBatch(this.options.batchSize, excludeIds);
    if (events.length === 0) return undefined;
    return tracerRegistered() ? this.tracedBatch(events) : this.untracedBatch(events);
  }

  /**
   * No tracer provider in this process (no OTEL_* asked for one): no span would be recorded, so none is made, and
   * each message carries the trace context stored with its event, which is what a producer span would pass on. A
   * fifth of the relay's CPU per event went to making and reading those unrecorded spans.
   */
  private untracedBatch(events: (StoredEvent & { id: string })[]): Batch {
    const { topicPrefix, encoding } = this.options;
    const outgoing = events.map((event) => ({
      event,
      span: UNRECORDED,
      message: toCloudEventMessage(event, { topicPrefix, encoding, traceHeaders: storedTraceHeaders(event) }),
    }));
    return { outgoing, spans: [] };
  }

  private tracedBatch(events: (StoredEvent & { id: string })[]): Batch {
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
    const active = context.active();
    const { topicPrefix, encoding } = this.options;
    const outgoing: Outgoing[] = events.map((event, i) => {
      const span = produceSpans[i]!;
      const traceHeaders: Record<string, string> = {};
      propagation.inject(trace.setSpan(active, span), traceHeaders);
      // No span to continue it from (no propagator in this process): the stored context still goes out as written.
      const headers = traceHeaders.traceparent ? traceHeaders : storedTraceHeaders(event);
      return { event, span, message: toCloudEventMessage(event, { topicPrefix, encoding, traceHeaders: headers }) };
    });
    return { outgoing, spans: [...produceSpans, batchSpan] };
  }

  /** Sends the whole batch in one request: undefined when acknowledged, the refusal when refused for good. */
  private async publishWhole(outgoing: Outgoing[]): Promise<MessagesRefusedError | undefined> {
    try {
      await this.publisher.publish(outgoing.map((o) => o.message));
      return undefined;
    } catch (error) {
      if (error instanceof MessagesRefusedError) return error;
      throw error;
    }
  }

  /** Marks an acknowledged batch in the background; `settleMark` waits for it (and throws if it failed). */
  private startMark(outgoing: Outgoing[]): void {
    const ids = outgoing.map((o) => o.event.id);
    const done = this.store.markPublished(ids).then(() => this.metrics.published.inc(ids.length));
    // Seen by settleMark; until then a failure must not be an unhandled rejection.
    done.catch(() => undefined);
    this.marking = { ids, keys: new Set(outgoing.map((o) => o.event.key)), done };
  }

  /** Waits for the pending mark. A failed mark leaves its events unpublished: they go out again (at least once). */
  private async settleMark(): Promise<void> {
    const marking = this.marking;
    this.marking = undefined;
    await marking?.done;
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
    const refusal = await this.publishWhole(pending);
    if (refusal) return this.settleRefused(pending, refusal, parkedKeys);
    await this.store.markPublished(pending.map((o) => o.event.id));
    this.metrics.published.inc(pending.length);
  }

  /**
   * Settles events the broker just refused together, without sending them together again (that would write the
   * accepted partitions once more): one event is parked, more are halved and each half delivered.
   */
  private async settleRefused(
    refused: Outgoing[],
    error: MessagesRefusedError,
    parkedKeys: Set<string>,
  ): Promise<void> {
    if (refused.length === 1) return this.park(refused[0]!, error, parkedKeys);
    const half = Math.ceil(refused.length / 2);
    await this.deliver(refused.slice(0, half), parkedKeys);
    await this.deliver(refused.slice(half), parkedKeys);
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

/** Stands for the producer span of an untraced batch: setting its status records nothing, as on any unrecorded span. */
const UNRECORDED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Whether spans made here can be recorded: a tracer provider is registered (read per batch: tests register late). */
function tracerRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return (
    !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('billing-adapter/outbox') !== undefined
  );
}

function sharesKey(outgoing: Outgoing[], keys: Set<string>): boolean {
  return outgoing.some((o) => keys.has(o.event.key));
}
