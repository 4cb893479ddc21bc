import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { rateLimitedLog } from '../telemetry/rate-limited-log';
import {
  AwaitingOurRecord,
  IGNORED_FOREIGN,
  processedLogFields,
  UnreadableWebhook,
} from '../app/inbound/webhook-intake';
import { childSignal } from '../app/background/child-signal';
import { Wakeup } from '../app/background/wakeup';
import { newId } from '../domain/ids';
import type { Clock } from '../ports/clock.port';
import type { InboxEntry, Repositories, UnitOfWork } from '../ports/store.port';

/** Processes one stored webhook in the worker's transaction and says what it did (WebhookIntake.process). */
export interface InboxProcessor {
  /** `signal` aborts at the attempt's deadline: provider calls made for the entry stop then. */
  process(repos: Repositories, entry: InboxEntry, signal?: AbortSignal): Promise<string>;
}

export interface InboxWorkerOptions {
  /** First retry delay; doubles per attempt up to `maxDelayMs`. */
  retryBaseMs: number;
  maxDelayMs: number;
  /** Attempts before a webhook becomes a dead letter. */
  maxAttempts: number;
  pollIntervalMs: number;
  /**
   * How long a webhook that arrived after a gap in its key's sequence waits for the missing ones before it is
   * applied anyway (WEBHOOK_ORDER_GAP_MS). Default 0: order only among the webhooks present.
   */
  orderGapWaitMs?: number;
  /**
   * How long one attempt may take (WEBHOOK_PROCESSING_TIMEOUT_MS): then the provider calls made for it are
   * abandoned and the attempt fails like any other, to be retried. An attempt holds a lane, a pooled connection and
   * its row locks while it waits on the provider; without a deadline a provider that accepts requests and never
   * answers held them for every timeout and retry of every call the webhook needed. Default: none.
   */
  processingTimeoutMs?: number;
  /**
   * Entries processed at once, each in its own transaction (WEBHOOK_WORKERS). Default 1. Processing waits on the
   * database and the provider far more than it computes, so a few lanes multiply throughput; order per key holds
   * whatever the count, as it does across replicas (claimDue).
   */
  lanes?: number;
  /**
   * True for an error that says the entry's transaction lost to a concurrent one (a deadlock between lanes or
   * replicas, or a subscription changed between asking its provider and locking it). Such an entry is due again at
   * once instead of after the backoff: the other transaction is done. The attempt still counts, so an entry that keeps
   * colliding ends as a dead letter like any other.
   */
  isTransactionConflict?: (error: unknown) => boolean;
}

const tracer = trace.getTracer('billing-adapter/webhooks');

/** A processing lane: its pause, and whether the poll (not a wake) ended it, so it peeks before it claims. */
interface Lane {
  pause: Wakeup;
  poll: boolean;
  /** The storefront this lane served last: its next claim starts after it, so storefronts take turns. */
  lastStorefront: string;
}

/**
 * Processes the webhook inbox after the ack: storefronts in turn, each one's oldest due entry first, one transaction per entry, rows locked with
 * SKIP LOCKED so replicas share the work. A failure rolls the entry's changes back and retries it with backoff;
 * after `maxAttempts` it becomes a dead letter (EventService.ListDeadLetters / RetryDeadLetter). Entries with an
 * ordering key go one at a time in sequence order (WebhookInbox.claimDue): a failing entry holds back only later
 * entries of its own key while it retries, and releases them once it is dead-lettered. An entry that arrived after a
 * gap in its key's sequence waits up to `orderGapWaitMs` for the missing ones.
 */
export class InboxWorker {
  private loops?: Promise<void>[];
  /** One pause per lane: an arrival wakes one sleeping lane, and a lane that found work wakes the next. */
  private readonly lanes: Lane[];
  /** A wake that found every lane busy: the next lane that finds nothing claims once more instead of pausing. */
  private wakeMissed = false;
  /**
   * The lanes' one poll: each tick sends one sleeping lane to look, so an idle worker asks the database once per
   * interval however many lanes it has (four lanes polling on their own asked four times as often, for nothing).
   */
  private pollTimer?: NodeJS.Timeout;
  /** The poll's own wakeDue (every lane busy) in flight: a slow database does not stack them up; stop waits for it. */
  private waking?: Promise<void>;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly intake: InboxProcessor,
    private readonly clock: Clock,
    private readonly options: InboxWorkerOptions,
    private readonly logger: Logger,
  ) {
    this.pollFailed = rateLimitedLog(logger);
    // Every lane looks once at start, as a poll would.
    this.lanes = Array.from({ length: Math.max(1, options.lanes ?? 1) }, () => ({
      pause: new Wakeup(),
      poll: true,
      lastStorefront: '',
    }));
  }

  private readonly pollFailed: ReturnType<typeof rateLimitedLog>;
  /** Aborted by stop(): ends the attempts in flight (each one's signal is its child). */
  private readonly stopping = new AbortController();

  start(): void {
    if (this.loops) return;
    this.loops = this.lanes.map((lane) => this.run(lane));
    this.pollTimer = setInterval(() => this.pollOnce(), this.options.pollIntervalMs);
  }

  /** Process now instead of at the next poll (a webhook just arrived, or a dead letter was requeued). */
  wake(): void {
    // Every lane is busy: one may have claimed nothing just before this webhook committed, and be about to pause.
    if (!this.wakeOneLane()) this.wakeMissed = true;
  }

  async stop(): Promise<void> {
    clearInterval(this.pollTimer);
    // Attempts waiting on a provider end now, rolled back and not counted: another run takes them again.
    this.stopping.abort(new Error('the service is stopping'));
    for (const lane of this.lanes) lane.pause.stop();
    await Promise.all([...(this.loops ?? []), this.waking]);
  }

  private async run(lane: Lane): Promise<void> {
    // Only a poll peeks first: after work, or a wake, there likely is more, and the peek would be one more round
    // trip per webhook.
    while (!lane.pause.isStopped) {
      let worked = false;
      try {
        worked = await this.processNext({ peekFirst: lane.poll, lane });
      } catch (error) {
        // Once a second while the database is away: the same failure is logged once per window, with a count.
        this.pollFailed('error', 'webhook inbox poll failed', { err: error });
      }
      lane.poll = false;
      // There may be more: one more lane joins (it goes back to sleep after one empty claim if there is not).
      if (worked) this.wakeOneLane();
      else if (this.wakeMissed) this.wakeMissed = false;
      // No timer of its own: a wake (an arrival, more work) or the worker's poll ends the pause.
      else await lane.pause.sleep(Infinity);
    }
  }

  /**
   * The poll's tick: one sleeping lane looks for due entries (other replicas' arrivals, retries and gap waits coming
   * due). When every lane is busy each claims again as soon as it is done, so the tick only makes retries that came
   * due claimable.
   */
  private pollOnce(): void {
    if (this.wakeOneLane({ poll: true }) || this.waking) return;
    // Every lane is busy, so none peeks (the peek is what makes retries that came due claimable again): wake them here,
    // or a retry would wait until the lanes ran out of other work.
    this.waking = this.uow.reads.inbox
      .wakeDue(this.clock.now())
      // A lane that found nothing while this ran may be pausing: it claims once more, as after an arrival.
      .then((due) => void (due && this.wake()))
      .catch((error: unknown) => this.pollFailed('error', 'webhook inbox poll failed', { err: error }))
      .finally(() => (this.waking = undefined));
  }

  /** Wakes a sleeping lane (to peek first, for a poll); false when every lane is busy. */
  private wakeOneLane(options: { poll?: boolean } = {}): boolean {
    const sleeping = this.lanes.find((lane) => lane.pause.isSleeping);
    if (!sleeping) return false;
    sleeping.poll = options.poll === true;
    sleeping.pause.wake();
    return true;
  }

  /**
   * Processes one due entry; false when none was due. With `peekFirst`, an empty inbox costs one read instead of a
   * transaction around an empty claim (an idle service with 4 lanes polling every 50 ms went from 15% to 8% of a core).
   */
  async processNext(options: { peekFirst?: boolean; lane?: Lane } = {}): Promise<boolean> {
    if (options.peekFirst && !(await this.uow.reads.inbox.wakeDue(this.clock.now()))) return false;
    let claimed: InboxEntry | undefined;
    // Ends at the attempt's deadline (started before the claim, so it bounds the whole transaction's provider calls)
    // or when the worker stops, whichever comes first.
    const attempt = childSignal(this.stopping.signal, this.options.processingTimeoutMs);
    try {
      await this.uow.transaction(async (repos) => {
        const after = options.lane?.lastStorefront;
        claimed = await repos.inbox.claimDue(this.clock.now(), this.options.orderGapWaitMs ?? 0, after);
        if (!claimed) return;
        if (options.lane) options.lane.lastStorefront = claimed.storefrontId;
        const entry = claimed;
        const parent = entry.traceparent
          ? propagation.extract(ROOT_CONTEXT, { traceparent: entry.traceparent })
          : ROOT_CONTEXT;
        await tracer.startActiveSpan(
          'webhook.process',
          {
            kind: SpanKind.CONSUMER,
            attributes: { 'billing.provider': entry.provider, 'billing.provider_event_id': entry.providerEventId },
          },
          parent,
          async (span) => {
            try {
              const outcome = await this.intake.process(repos, entry, attempt.signal);
              await repos.inbox.markProcessed(entry.id, this.clock.now(), outcome);
              const fields = processedLogFields(entry, outcome);
              // Not an error (it is acknowledged and recorded), but a signed webhook about someone else's object
              // deserves a look: a misrouted endpoint, or a storefront probing another's.
              if (outcome.includes(IGNORED_FOREIGN))
                this.logger.warn(fields, 'webhook names no object of its storefront');
              else this.logger.info(fields, 'webhook processed');
            } catch (error) {
              // Waiting for our own record of the order is not a failure of this webhook.
              if (!(error instanceof AwaitingOurRecord))
                span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
              throw error;
            } finally {
              span.end();
            }
          },
        );
      });
    } catch (error) {
      if (!claimed) throw error;
      // Interrupted by shutdown, not failed: the claim rolled back with the rest, so the attempt is not counted.
      if (this.stopping.signal.aborted) return false;
      // Otherwise an aborted attempt is one past its deadline.
      await this.recordFailure(claimed, attempt.signal.aborted ? this.pastDeadline(error) : error);
    } finally {
      attempt.release();
    }
    return claimed !== undefined;
  }

  /**
   * What an attempt cut off by its deadline failed with, saying so first (the cause is what was abandoned). Errors
   * the failure path tells apart keep their class: waiting for our record, unreadable, and a lost conflict (due again
   * at once).
   */
  private pastDeadline(error: unknown): unknown {
    if (error instanceof AwaitingOurRecord || error instanceof UnreadableWebhook) return error;
    if (this.options.isTransactionConflict?.(error)) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return new Error(
      `processing passed its deadline (WEBHOOK_PROCESSING_TIMEOUT_MS=${this.options.processingTimeoutMs}): ${detail}`,
      { cause: error },
    );
  }

  private async recordFailure(entry: InboxEntry, error: unknown): Promise<void> {
    if (error instanceof AwaitingOurRecord) return this.awaitOurRecord(entry, error);
    const message = error instanceof Error ? error.message : String(error);
    const now = this.clock.now();
    const attempts = entry.attempts + 1;
    const conflict = this.options.isTransactionConflict?.(error) === true;
    await this.uow.transaction(async (repos) => {
      // An unreadable webhook fails every attempt alike: retrying only holds back its ordering key.
      if (attempts >= this.options.maxAttempts || error instanceof UnreadableWebhook) {
        if (!(await repos.inbox.deadLetter(entry, attempts, message, now, newId('dlq')))) return;
        this.logger.warn(
          { provider: entry.provider, event_id: entry.providerEventId, attempts, error: message },
          'webhook dead-lettered',
        );
        return;
      }
      const delay = conflict ? 0 : Math.min(this.options.retryBaseMs * 2 ** (attempts - 1), this.options.maxDelayMs);
      await repos.inbox.scheduleRetry(entry.id, attempts, message, new Date(now.getTime() + delay), now);
      this.logger.warn(
        { provider: entry.provider, event_id: entry.providerEventId, attempts, retry_in_ms: delay, error: message },
        'webhook processing failed; will retry',
      );
    });
  }

  /**
   * The webhook names an order of ours not committed yet: tried again, not counted as a failed attempt (it must not
   * become a dead letter while it waits). The delay grows with the time already waited (half of it, at least the
   * first retry delay), and the last try is at the end of its grace, when it is applied or ignored for good.
   */
  private async awaitOurRecord(entry: InboxEntry, waiting: AwaitingOurRecord): Promise<void> {
    const now = this.clock.now();
    const waited = Math.max(0, now.getTime() - entry.receivedAt.getTime());
    const delay = Math.max(this.options.retryBaseMs, Math.floor(waited / 2));
    const next = new Date(Math.min(now.getTime() + delay, waiting.graceEndsAt.getTime()));
    await this.uow.transaction((repos) =>
      repos.inbox.scheduleRetry(entry.id, entry.attempts, waiting.message, next, now),
    );
    this.logger.info(
      {
        provider: entry.provider,
        event_id: entry.providerEventId,
        retry_at: next.toISOString(),
        reason: waiting.message,
      },
      'webhook waits for our own record of its order',
    );
  }
}
