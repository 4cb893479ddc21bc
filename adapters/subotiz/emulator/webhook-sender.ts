import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { rfc3339 } from './calendar';
import type { PendingWork } from './pending-work';
import type { EmulatorMerchant } from './types';

/** Why a delivery was made. Only first deliveries and their retries follow the retry schedule. */
export type DeliveryKind = 'first' | 'retry' | 'duplicate' | 'redeliver';

/** One POST to the merchant's endpoint. `status` is null when no HTTP answer came back. */
export interface WebhookAttempt {
  at: string;
  kind: DeliveryKind;
  status: number | null;
  error?: string;
}

/** Webhook faults: drop events, deliver them twice, or hold a batch and deliver it in reverse order. */
export type WebhookFaultMode = 'drop' | 'duplicate' | 'reorder';

interface WebhookEvent {
  id: string;
  type: string;
  accessNo: string;
  created: number;
  /** Fixed when the event is created: every delivery, retry and redelivery sends these exact bytes. */
  body: string;
  attempts: WebhookAttempt[];
  delivered: boolean;
  retries: number;
}

interface Delivery {
  event: WebhookEvent;
  kind: DeliveryKind;
}

interface WebhookFault {
  mode: WebhookFaultMode;
  count: number;
  used: number;
  held: WebhookEvent[];
}

const MAX_RETRIES = 16;
const MAX_BACKOFF_BASES = 240;
const DELIVERY_TIMEOUT_MS = 10_000;

/** What the sender needs from the emulator. */
export interface WebhookSenderDeps {
  merchant(accessNo: string): EmulatorMerchant | undefined;
  newId(): string;
  retryBaseMs: number;
  work: PendingWork;
}

/**
 * Signs and delivers webhooks: one FIFO queue per merchant, one delivery at a time, so events arrive in the order
 * they happened. A failed delivery does not hold the queue: its retry is scheduled (1, 2, 4 … 240 bases, at most 16)
 * and joins the back of the queue when due.
 */
export class WebhookSender {
  private readonly events = new Map<string, WebhookEvent>();
  private readonly queues = new Map<string, Delivery[]>();
  private readonly busy = new Set<string>();
  private faults: WebhookFault[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<http.ClientRequest>();
  private stopped = false;

  constructor(private readonly deps: WebhookSenderDeps) {}

  /** Records an event for the merchant and queues its delivery (subject to armed faults). */
  publish(accessNo: string, type: string, created: number, data: unknown): void {
    const id = this.deps.newId();
    const body = JSON.stringify({ id, type, created: rfc3339(created), data });
    const event: WebhookEvent = { id, type, accessNo, created, body, attempts: [], delivered: false, retries: 0 };
    this.events.set(id, event);
    const fault = this.faults[0];
    if (!fault) {
      this.enqueue(event, 'first');
      return;
    }
    fault.used += 1;
    if (fault.used >= fault.count) this.faults.shift();
    if (fault.mode === 'duplicate') {
      this.enqueue(event, 'first');
      this.enqueue(event, 'duplicate');
    } else if (fault.mode === 'reorder') {
      fault.held.push(event);
      if (fault.used >= fault.count) for (const held of fault.held.reverse()) this.enqueue(held, 'first');
    }
    // 'drop': recorded (visible in the list with no attempts) and never sent, like a delivery Subotiz lost.
  }

  /** Arms a webhook fault for the next `count` events. */
  armFault(mode: WebhookFaultMode, count: number): void {
    this.faults.push({ mode, count, used: 0, held: [] });
  }

  /** Sends an event again (same id and body, fresh timestamp and signature); false when the id is unknown. */
  redeliver(eventId: string): boolean {
    const event = this.events.get(eventId);
    if (!event) return false;
    this.enqueue(event, 'redeliver');
    return true;
  }

  /** Every event so far, oldest first, as the /__emulator/webhooks control lists them. */
  list(): Record<string, unknown>[] {
    return [...this.events.values()].map((event) => summary(event));
  }

  /** One event with its attempts and payload, or undefined. */
  detail(eventId: string): Record<string, unknown> | undefined {
    const event = this.events.get(eventId);
    if (!event) return undefined;
    return { ...summary(event), attempt_log: event.attempts, payload: JSON.parse(event.body) as unknown };
  }

  /** Forgets every event, queued delivery, pending retry and armed fault. */
  reset(): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const queue of this.queues.values()) for (let i = 0; i < queue.length; i += 1) this.deps.work.end();
    this.queues.clear();
    this.events.clear();
    this.faults = [];
  }

  /** Stops delivering: drops queued work and aborts deliveries in flight. */
  stop(): void {
    this.stopped = true;
    this.reset();
    for (const request of this.inFlight) request.destroy();
  }

  private enqueue(event: WebhookEvent, kind: DeliveryKind): void {
    if (this.stopped || !this.deps.merchant(event.accessNo)?.webhookUrl) return;
    const queue = this.queues.get(event.accessNo) ?? [];
    this.queues.set(event.accessNo, queue);
    queue.push({ event, kind });
    this.deps.work.begin();
    this.pump(event.accessNo);
  }

  private pump(accessNo: string): void {
    if (this.busy.has(accessNo)) return;
    const next = this.queues.get(accessNo)?.shift();
    if (!next) return;
    this.busy.add(accessNo);
    void this.attempt(next).finally(() => {
      this.busy.delete(accessNo);
      this.deps.work.end();
      this.pump(accessNo);
    });
  }

  private async attempt({ event, kind }: Delivery): Promise<void> {
    const merchant = this.deps.merchant(event.accessNo);
    if (!merchant?.webhookUrl) return;
    // Wall-clock time, not the emulator clock: the receiver checks freshness against its own clock.
    const timestamp = String(Date.now());
    const signature = createHmac('sha256', merchant.webhookSecret).update(`${timestamp}.${event.body}`).digest('hex');
    const attempt: WebhookAttempt = { at: new Date().toISOString(), kind, status: null };
    try {
      attempt.status = await this.post(merchant.webhookUrl, event.body, {
        'Content-Type': 'application/json',
        'X-Timestamp': timestamp,
        'X-Access-No': merchant.accessNo,
        'X-Signature': signature,
      });
    } catch (error) {
      attempt.error = (error as Error).message;
    }
    if (this.stopped || !this.events.has(event.id)) return;
    event.attempts.push(attempt);
    if (attempt.status !== null && attempt.status >= 200 && attempt.status < 300) {
      event.delivered = true;
    } else if ((kind === 'first' || kind === 'retry') && event.retries < MAX_RETRIES) {
      this.scheduleRetry(event);
    }
  }

  private scheduleRetry(event: WebhookEvent): void {
    const bases = Math.min(2 ** event.retries, MAX_BACKOFF_BASES);
    event.retries += 1;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      // A redelivery may have got through meanwhile; Subotiz stops retrying once an attempt succeeds.
      if (!event.delivered) this.enqueue(event, 'retry');
    }, bases * this.deps.retryBaseMs);
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
      request.setTimeout(DELIVERY_TIMEOUT_MS, () => request.destroy(new Error('delivery timed out')));
      request.on('error', reject);
      request.on('close', () => this.inFlight.delete(request));
      request.end(body);
    });
  }
}

function summary(event: WebhookEvent): Record<string, unknown> {
  return {
    event_id: event.id,
    type: event.type,
    merchant: event.accessNo,
    attempts: event.attempts.length,
    delivered: event.delivered,
    last_status: event.attempts.at(-1)?.status ?? null,
    created: rfc3339(event.created),
  };
}
