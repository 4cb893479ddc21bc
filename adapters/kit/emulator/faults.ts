import { setTimeout as sleep } from 'node:timers/promises';

/** A {code, message} pair, as providers report payment and refund failures. */
export interface Failure {
  code: string;
  message: string;
}

/** A fault armed on the real API routes (not the test controls). */
export interface ApiFault {
  remaining: number;
  /** The status answered; a 2xx "fault" is only a delay (a slow but real answer). */
  status: number;
  /** Hang this long before answering (a timeout for the caller). */
  delayMs: number;
  /** Perform the request, then answer `status` anyway: the caller loses a response whose effect happened. */
  after: boolean;
  /** Only requests whose path and query contain this. */
  path?: string;
}

/** Armed API faults, consumed in the order they were armed by the requests they match. */
export class ApiFaults {
  private armed: ApiFault[] = [];

  /** Arms a fault for the next `fault.remaining` matching requests. */
  arm(fault: ApiFault): void {
    this.armed.push({ ...fault });
  }

  /** The fault this request takes, if any (one unit of its count is used up). */
  take(pathAndQuery: string): ApiFault | undefined {
    const fault = this.armed.find((f) => f.path === undefined || pathAndQuery.includes(f.path));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.armed = this.armed.filter((f) => f !== fault);
    return fault;
  }

  /** Disarms everything. */
  clear(): void {
    this.armed = [];
  }
}

/**
 * Runs one API request under the fault it takes, if any. Faults come first, as an outage in front of the provider
 * would; an `after` fault lets the request happen and then loses its answer, which is what idempotent replay exists
 * for. `perform` does the request and returns its answer; `send` sends either that answer or the provider's error
 * answer for the fault's status, as `faultReply` renders it.
 */
export async function withApiFault<R>(options: {
  faults: ApiFaults;
  pathAndQuery: string;
  signal: AbortSignal;
  /** Throw away an unread request body before answering without reading it. */
  discardBody: () => void;
  perform: () => Promise<R>;
  /** The provider's answer for a fault's status (its error envelope). */
  faultReply: (status: number) => R;
  send: (reply: R) => void;
}): Promise<void> {
  const fault = options.faults.take(options.pathAndQuery);
  const delay = async () => {
    if (fault && fault.delayMs > 0) await sleep(fault.delayMs, undefined, { signal: options.signal });
  };
  const failing = fault !== undefined && fault.status >= 300;
  if (fault && !fault.after) {
    await delay();
    if (failing) {
      options.discardBody();
      options.send(options.faultReply(fault.status));
      return;
    }
  }
  const reply = await options.perform();
  if (fault?.after) {
    await delay();
    if (failing) {
      options.send(options.faultReply(fault.status));
      return;
    }
  }
  options.send(reply);
}

/** "Fail the next N": charges or refunds that will fail, each with the failure it reports. */
export class FailNext {
  private remaining = 0;
  private failure: Failure;

  constructor(private readonly fallback: Failure) {
    this.failure = fallback;
  }

  /** The next `count` attempts fail with this code and message. */
  arm(count: number, failure?: Partial<Failure>): void {
    this.remaining = count;
    this.failure = { code: failure?.code ?? this.fallback.code, message: failure?.message ?? this.fallback.message };
  }

  /** The failure for this attempt, or undefined when it should succeed. */
  take(): Failure | undefined {
    if (this.remaining <= 0) return undefined;
    this.remaining -= 1;
    return { ...this.failure };
  }

  /** How many attempts are still armed to fail. */
  pending(): number {
    return this.remaining;
  }

  /** Disarms. */
  clear(): void {
    this.remaining = 0;
  }
}

/** Webhook faults: drop events, deliver them twice, or hold a batch and deliver it in reverse order. */
export type WebhookFaultMode = 'drop' | 'duplicate' | 'reorder';

/** What to do with one new event: deliver it (once or twice), hold it, or release a held batch. */
export type WebhookFaultDecision<E> =
  { action: 'deliver'; times: 1 | 2 } | { action: 'drop' } | { action: 'hold' } | { action: 'release'; events: E[] };

interface ArmedWebhookFault<E> {
  mode: WebhookFaultMode;
  count: number;
  used: number;
  held: E[];
}

/** Webhook faults armed for the next events, applied in the order they were armed. */
export class WebhookFaults<E> {
  private armed: ArmedWebhookFault<E>[] = [];

  /** Arms `mode` for the next `count` events. */
  arm(mode: WebhookFaultMode, count: number): void {
    this.armed.push({ mode, count, used: 0, held: [] });
  }

  /** Decides the fate of a new event. A reorder fault releases its batch, newest first, with its last event. */
  decide(event: E): WebhookFaultDecision<E> {
    const fault = this.armed[0];
    if (!fault) return { action: 'deliver', times: 1 };
    fault.used += 1;
    if (fault.used >= fault.count) this.armed.shift();
    if (fault.mode === 'duplicate') return { action: 'deliver', times: 2 };
    if (fault.mode === 'drop') return { action: 'drop' };
    fault.held.push(event);
    if (fault.used < fault.count) return { action: 'hold' };
    return { action: 'release', events: [...fault.held].reverse() };
  }

  /** The armed faults, as the controls show them. */
  list(): { mode: WebhookFaultMode; remaining: number }[] {
    return this.armed.map((f) => ({ mode: f.mode, remaining: f.count - f.used }));
  }

  /** Disarms everything (held events stay undelivered, as dropped ones). */
  clear(): void {
    this.armed = [];
  }
}
