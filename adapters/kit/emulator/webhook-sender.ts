import http from 'node:http';
import https from 'node:https';
import { type WebhookFaultMode, WebhookFaults } from './faults';
import type { PendingWork } from './pending-work';
import type { RetrySchedule } from './retry-schedules';

/** Why a delivery was made. Only first deliveries and their retries follow the retry schedule. */
export type DeliveryKind = 'first' | 'retry' | 'duplicate' | 'redeliver';

/** One POST to the receiver. `status` is null when no HTTP answer came back. */
export interface WebhookAttempt {
  at: string;
  kind: DeliveryKind;
  status: number | null;
  error?: string;
}

/** One event as the sender keeps it (also what is kept on disk). */
export interface WebhookEvent {
  id: string;
  type: string;
  /** Whose endpoint and secret: a merchant, an account. */
  destination: string;
  /** Events with the same key are delivered one at a time, in order (when the sender orders at all). */
  orderingKey: string;
  /** When it happened, as the emulator's clock said (RFC 3339). */
  created: string;
  /** Fixed when the event is created: every delivery, retry and redelivery sends these exact bytes. */
  body: string;
  attempts: WebhookAttempt[];
  delivered: boolean;
  retries: number;
  /** With a retry clock: when the next retry falls due on that clock (epoch ms); absent when none is scheduled. */
  nextRetryAt?: number;
  /** The retry schedule ran out without a 2xx: no further attempts (a redelivery may still be asked for). */
  undeliverable?: boolean;
}

/** Where and how one destination receives webhooks. */
export interface WebhookEndpoint {
  url: string;
  /** The signing hook: headers for this attempt (called per attempt, so timestamps are fresh). */
  headers(event: WebhookEvent): Record<string, string>;
}

/** What the sender needs from its emulator. */
export interface WebhookSenderOptions {
  /** The endpoint of a destination now, or undefined when it has none (events are recorded, not sent). */
  endpoint(destination: string): WebhookEndpoint | undefined;
  retrySchedule: RetrySchedule;
  /** One delivery at a time per ordering key, in publish order; false delivers everything at once. */
  ordered: boolean;
  work: PendingWork;
  /** Called after anything worth keeping on disk changed. */
  changed?: () => void;
  /** How the list names the destination (`merchant`, `account`, …). */
  destinationLabel?: string;
  deliveryTimeoutMs?: number;
  /**
   * An emulator clock (epoch ms). With it, retries fall due on that clock and are sent by `deliverDueRetries`
   * (called when the clock is advanced or ticks), and attempts are stamped with it; without it, retries wait on
   * wall-time timers.
   */
  retryClock?: () => number;
}

interface Delivery {
  event: WebhookEvent;
  kind: DeliveryKind;
}

/**
 * Delivers webhooks. With ordering, one FIFO queue per key and one delivery at a time, so events arrive in the order
 * they happened; a failed delivery does not hold the queue: its retry is scheduled and joins the back of the queue
 * when due. Faults (drop, duplicate, reorder) apply as events are published.
 */
export class WebhookSender {
  private readonly events = new Map<string, WebhookEvent>();
  private readonly queues = new Map<string, Delivery[]>();
  private readonly busy = new Set<string>();
  private readonly faults = new WebhookFaults<WebhookEvent>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<http.ClientRequest>();
  private stopped = false;

  constructor(private readonly options: WebhookSenderOptions) {}

  /** Records an event and queues its delivery (subject to armed faults). */
  publish(input: {
    id: string;
    type: string;
    destination: string;
    orderingKey?: string;
    created: string;
    body: string;
  }): void {
    const event: WebhookEvent = {
      ...input,
      orderingKey: input.orderingKey ?? input.destination,
      attempts: [],
      delivered: false,
      retries: 0,
    };
    this.events.set(event.id, event);
    const decision = this.faults.decide(event);
    if (decision.action === 'deliver') {
      this.enqueue(event, 'first');
      if (decision.times === 2) this.enqueue(event, 'duplicate');
    } else if (decision.action === 'release') {
      for (const held of decision.events) this.enqueue(held, 'first');
    }
    // 'drop' and 'hold': recorded (listed with no attempts) and not sent, like a delivery the provider lost.
    this.options.changed?.();
  }

  /** Arms a webhook fault for the next `count` events. */
  armFault(mode: WebhookFaultMode, count: number): void {
    this.faults.arm(mode, count);
  }

  /** Sends an event again (same id and body, fresh signature); false when the id is unknown. */
  redeliver(eventId: string): boolean {
    const event = this.events.get(eventId);
    if (!event) return false;
    this.enqueue(event, 'redeliver');
    return true;
  }

  /** Every event so far, oldest first, as the /__emulator/webhooks control lists them. */
  list(): Record<string, unknown>[] {
    return [...this.events.values()].map((event) => this.summary(event));
  }

  /** One event with its attempts and payload, or undefined. */
  detail(eventId: string): Record<string, unknown> | undefined {
    const event = this.events.get(eventId);
    if (!event) return undefined;
    return { ...this.summary(event), attempt_log: event.attempts, payload: JSON.parse(event.body) as unknown };
  }

  /** The armed faults. */
  armedFaults(): { mode: WebhookFaultMode; remaining: number }[] {
    return this.faults.list();
  }

  /** Queues every retry due on the retry clock at or before `now`; answers how many. */
  deliverDueRetries(now: number): number {
    let queued = 0;
    for (const event of this.events.values()) {
      if (event.nextRetryAt === undefined || event.nextRetryAt > now) continue;
      event.nextRetryAt = undefined;
      if (event.delivered) continue;
      this.enqueue(event, 'retry');
      queued += 1;
    }
    if (queued > 0) this.options.changed?.();
    return queued;
  }

  /** Events whose retry schedule ran out without a 2xx, oldest first. */
  undeliverable(): Record<string, unknown>[] {
    return [...this.events.values()].filter((e) => e.undeliverable && !e.delivered).map((e) => this.summary(e));
  }

  /** Every event, for the state file. */
  snapshot(): WebhookEvent[] {
    return [...this.events.values()].map((e) => ({ ...e, attempts: [...e.attempts] }));
  }

  /**
   * Takes back events from the state file. Undelivered ones that had been tried and still have retries left are
   * retried (a provider keeps retrying across its own restarts); ones never tried are sent now.
   */
  restore(events: readonly WebhookEvent[]): void {
    for (const saved of events) {
      const event = { ...saved, attempts: [...saved.attempts] };
      this.events.set(event.id, event);
      if (event.delivered || event.nextRetryAt !== undefined || event.undeliverable) continue;
      if (event.attempts.length === 0) this.enqueue(event, 'first');
      else if (this.options.retrySchedule(event.retries) !== undefined) this.enqueue(event, 'retry');
    }
  }

  /** Forgets every event, queued delivery, pending retry and armed fault. */
  reset(): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const queue of this.queues.values()) for (let i = 0; i < queue.length; i += 1) this.options.work.end();
    this.queues.clear();
    this.events.clear();
    this.faults.clear();
    this.options.changed?.();
  }

  /** Stops delivering: drops queued work and aborts deliveries in flight. Events stay recorded. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const queue of this.queues.values()) for (let i = 0; i < queue.length; i += 1) this.options.work.end();
    this.queues.clear();
    for (const request of this.inFlight) request.destroy();
  }

  private enqueue(event: WebhookEvent, kind: DeliveryKind): void {
    if (this.stopped || !this.options.endpoint(event.destination)) return;
    // Unordered: each delivery gets its own queue, so none waits for another.
    const key = this.options.ordered ? event.orderingKey : `${event.id}\n${kind}\n${Math.random()}`;
    const queue = this.queues.get(key) ?? [];
    this.queues.set(key, queue);
    queue.push({ event, kind });
    this.options.work.begin();
    this.pump(key);
  }

  private pump(key: string): void {
    if (this.busy.has(key)) return;
    const queue = this.queues.get(key);
    const next = queue?.shift();
    if (!next) {
      this.queues.delete(key);
      return;
    }
    this.busy.add(key);
    void this.attempt(next).finally(() => {
      this.busy.delete(key);
      this.options.work.end();
      this.pump(key);
    });
  }

  private async attempt({ event, kind }: Delivery): Promise<void> {
    const endpoint = this.options.endpoint(event.destination);
    if (!endpoint) return;
    const at = new Date(this.options.retryClock?.() ?? Date.now()).toISOString();
    const attempt: WebhookAttempt = { at, kind, status: null };
    try {
      attempt.status = await this.post(endpoint.url, event.body, {
        'Content-Type': 'application/json',
        ...endpoint.headers(event),
      });
    } catch (error) {
      attempt.error = (error as Error).message;
    }
    if (this.stopped || this.events.get(event.id) !== event) return;
    event.attempts.push(attempt);
    if (attempt.status !== null && attempt.status >= 200 && attempt.status < 300) {
      event.delivered = true;
    } else if (kind === 'first' || kind === 'retry') {
      this.scheduleRetry(event);
    }
    this.options.changed?.();
  }

  private scheduleRetry(event: WebhookEvent): void {
    const wait = this.options.retrySchedule(event.retries);
    if (wait === undefined) {
      event.undeliverable = true;
      return;
    }
    event.retries += 1;
    if (this.options.retryClock) {
      event.nextRetryAt = this.options.retryClock() + wait;
      return;
    }
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      // A redelivery may have got through meanwhile; providers stop retrying once an attempt succeeds.
      if (!event.delivered) this.enqueue(event, 'retry');
    }, wait);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private post(url: string, body: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const transport = url.startsWith('https:') ? https : http;
      const request = transport.request(
        url,
        { method: 'POST', agent: false, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.on('error', reject);
        },
      );
      this.inFlight.add(request);
      const timeoutMs = this.options.deliveryTimeoutMs ?? 10_000;
      request.setTimeout(timeoutMs, () => request.destroy(new Error('delivery timed out')));
      request.on('error', reject);
      request.on('close', () => this.inFlight.delete(request));
      request.end(body);
    });
  }

  private summary(event: WebhookEvent): Record<string, unknown> {
    return {
      event_id: event.id,
      type: event.type,
      [this.options.destinationLabel ?? 'destination']: event.destination,
      attempts: event.attempts.length,
      delivered: event.delivered,
      last_status: event.attempts.at(-1)?.status ?? null,
      created: event.created,
    };
  }
}
