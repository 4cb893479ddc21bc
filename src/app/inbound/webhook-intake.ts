import type { Logger } from 'pino';
import { context, propagation, trace } from '@opentelemetry/api';
import { DomainError, invalidArgument } from '../../domain/errors';
import type { Clock } from '../../ports/clock.port';
import type { ProviderEvent, RawWebhook, ReceivedWebhook } from '../../ports/provider-adapter.port';
import type { InboxEntry, Repositories, StorefrontReads, UnitOfWork } from '../../ports/store.port';
import { arrivalNote, arrivalOrder } from './arrival-order';
import { asNotification } from './notifications';
import { NotYetRecorded } from './event-origin';
import { EventOrigin, ForeignOrUnknownObject, ProviderEventApplier } from './provider-events';
import type { AskedFirst } from './subscription-answers';
import { envelopeRefusal, sourceRefusal } from './webhook-admission';
import { answerViolations } from '../providers/answer-check';
import type { ProviderGateway } from '../providers/provider-gateway';
import type { LoadedProvider, ProviderRegistry } from '../providers/provider-registry';

/** The outcome recorded for a webhook naming an object its storefront does not have. */
export const IGNORED_FOREIGN = 'ignored: foreign/unknown object';

/**
 * How long a webhook naming an order of ours that no storefront has recorded yet is retried, from its arrival. Our
 * checkout commits its order as soon as the provider answers, so this normally takes a second or two; 30 s leaves
 * room for a slow answer or commit, yet a checkout that failed after asking the provider (its order never recorded)
 * does not hold the webhook's ordering key for long — later webhooks of the key wait behind it meanwhile.
 */
export const NOT_RECORDED_GRACE_MS = 30_000;

export interface WebhookIntakeOptions {
  /** See NOT_RECORDED_GRACE_MS (the default); tests shorten it. */
  notRecordedGraceMs?: number;
  /**
   * Where `receive` and `process` read the storefront a webhook names (a cache that drops changed storefronts);
   * else the store.
   */
  storefronts?: StorefrontReads;
  /** Says `webhook processed` for a webhook settled at receipt, as the inbox worker says it for the others. */
  logger?: Logger;
}

/**
 * A verified webhook whose body its adapter cannot read, or whose events cannot be stored (answer-check.ts): every
 * attempt would fail the same way, so it becomes a dead letter at once instead of after every retry (and holds back
 * its ordering key no longer). RetryDeadLetter tries it again, e.g. once a fixed adapter is deployed.
 */
export class UnreadableWebhook extends Error {
  constructor(readonly refusal: DomainError) {
    super(refusal.message, { cause: refusal });
    this.name = 'UnreadableWebhook';
  }
}

/**
 * Thrown by `process`: the webhook names an order of ours not recorded yet (NotYetRecorded) and its grace is not over.
 * Nothing of it is applied; the inbox tries it again — a wait, not a failure, so it never becomes a dead letter —
 * no later than `graceEndsAt`, when it is applied if the order exists by then and ignored if not.
 */
export class AwaitingOurRecord extends Error {
  constructor(
    message: string,
    readonly graceEndsAt: Date,
  ) {
    super(message);
    this.name = 'AwaitingOurRecord';
  }
}

/** What the HTTP ingress answers. Only 200 means the webhook is stored. */
export interface IntakeAnswer {
  status: 200 | 400 | 401 | 403 | 404;
  body: Record<string, unknown>;
  /** The webhook was stored now and waits to be processed: an inbox lane has work (not sent to the provider). */
  queued?: boolean;
}

/** What processing settles a webhook as when no event is made of it. */
const NOTHING_TO_APPLY = 'ignored';

/**
 * The webhook pipeline's two halves: `receive` (storefront → signature → inbox, before the 200) and `process`
 * (normalize → state changes → events, after the ack, one transaction per inbox row).
 */
export class WebhookIntake {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly registry: ProviderRegistry,
    private readonly gateway: ProviderGateway,
    private readonly applier: ProviderEventApplier,
    private readonly clock: Clock,
    private readonly options: WebhookIntakeOptions = {},
  ) {}

  /** Storefront (404) → source-IP allowlist (403) → signature (401) → envelope (400) → inbox (200). */
  async receive(provider: string, storefrontId: string, webhook: ReceivedWebhook): Promise<IntakeAnswer> {
    const adapter = this.registry.find(provider);
    const storefronts = this.options.storefronts ?? this.uow.reads.storefronts;
    const storefront = adapter ? await storefronts.get(storefrontId) : undefined;
    if (!adapter?.webhooks || !storefront) {
      return { status: 404, body: { error: `no storefront '${storefrontId}' for provider '${provider}'` } };
    }
    // Before the signature: a sender the storefront does not allow learns nothing about its secrets or rotation.
    const binding = await this.gateway.webhookBinding(this.uow.reads, storefront, adapter);
    const config = binding?.config ?? {};
    const refusal = sourceRefusal(adapter.module.binding, config, webhook.remoteAddress);
    if (refusal) return { status: 403, body: { error: refusal } };
    const secrets = await this.gateway.webhookSecrets(this.uow.reads, storefront, adapter, binding);
    if (!secrets) return { status: 401, body: { error: 'no webhook secret is configured for this storefront' } };
    const now = this.clock.now();
    const verdict = adapter.webhooks.verify(webhook, { secrets, config }, now);
    if (!verdict.ok) return { status: 401, body: { error: `signature: ${verdict.reason}` } };
    let envelope;
    try {
      envelope = adapter.webhooks.envelope(webhook);
    } catch (error) {
      if (error instanceof DomainError) return { status: 400, body: { error: error.message } };
      throw error;
    }
    const badEnvelope = envelopeRefusal(envelope);
    if (badEnvelope) return { status: 400, body: { error: badEnvelope } };
    const carrier: { traceparent?: string } = {};
    propagation.inject(context.active(), carrier);
    // Providers send types we make no event of (most of a firehose): such a webhook is stored as processing would
    // leave it, so no lane spends a transaction on it. One with a sequence is processed, to move its key's position.
    // The price is one more parse of every accepted body (bounded by MAX_WEBHOOK_BYTES, after the signature).
    const settledAs =
      envelope.sequence === undefined && nothingToApply(adapter, webhook) ? NOTHING_TO_APPLY : undefined;
    const stored = await this.uow.reads.inbox.insert({
      provider,
      storefrontId,
      providerEventId: envelope.providerEventId,
      eventType: envelope.eventType,
      orderingKey: envelope.orderingKey,
      sequence: envelope.sequence,
      sourceIp: webhook.remoteAddress,
      headers: webhook.headers,
      body: webhook.body,
      traceparent: carrier.traceparent,
      receivedAt: now,
      settledAs,
    });
    if (stored && settledAs) {
      const settled = {
        provider,
        storefrontId,
        providerEventId: envelope.providerEventId,
        eventType: envelope.eventType,
      };
      this.options.logger?.info(processedLogFields(settled, settledAs), 'webhook processed');
    }
    return { status: 200, body: { received: true, duplicate: !stored }, queued: stored && settledAs === undefined };
  }

  /**
   * Normalizes one stored webhook and applies its events in the caller's transaction; returns what happened.
   * `signal` ends the provider calls made for it (the inbox's processing deadline).
   */
  async process(repos: Repositories, entry: InboxEntry, signal?: AbortSignal): Promise<string> {
    const adapter = this.registry.find(entry.provider);
    if (!adapter?.webhooks) throw new Error(`provider '${entry.provider}' has no webhook support in this build`);
    // From the cache ingress filled (one round trip less per webhook, inside the lane's transaction): a storefront
    // changed by any replica is dropped from it as the change commits, so at worst this attempt sees the binding of
    // a moment before, as an RPC does.
    const storefront = await (this.options.storefronts ?? repos.storefronts).get(entry.storefrontId);
    if (!storefront) throw new Error(`storefront '${entry.storefrontId}' no longer exists`);
    const events = eventsOf(adapter, { headers: entry.headers, body: entry.body });
    const notes: string[] = [];
    // After a gap in the key's sequence the missing webhooks may never come: the provider's current state of what
    // this one touches is asked too, and applied after its events. A late one is applied as any (no regressions).
    const order = arrivalOrder(entry);
    const catchUp = order.kind === 'after a gap';
    const origin: EventOrigin = {
      provider: entry.provider,
      storefront,
      correlationId: currentTraceId() ?? entry.providerEventId,
      signal,
      features: adapter.features,
      inSequence: order.kind === 'next',
    };
    // Asked before anything is locked (this transaction holds only the inbox row), then locked and applied.
    const asked = await this.applier.askFirst(repos, origin, events, { catchUp });
    // Whether this attempt may still wait for our own records: decided once, so every event of the webhook, and the
    // refund lookup that reads `mayAwaitOurRecords`, agree with what is done when one is missing.
    const graceEndsAt = new Date(entry.receivedAt.getTime() + this.graceMs());
    const applying: EventOrigin = { ...origin, mayAwaitOurRecords: this.clock.now() < graceEndsAt };
    for (const event of events) notes.push(await this.applyInScope(repos, applying, event, asked, graceEndsAt));
    if (catchUp) notes.push(...(await this.applier.catchUp(repos, origin, asked, entry.providerEventId)));
    return arrivalNote(order) + (notes.length ? notes.join('; ') : NOTHING_TO_APPLY);
  }

  /**
   * Applies one event to the storefront it was signed for. One naming an object the storefront does not have (ours
   * for another storefront, or none of ours) is acknowledged and recorded as ignored: retrying cannot make it
   * the storefront's, and it must not become a dead letter someone replays. Lookups precede writes, so nothing of
   * it is written. One naming an order of ours no storefront has yet is waited for (AwaitingOurRecord) until its
   * grace, counted from its arrival, is over (`origin.mayAwaitOurRecords`, decided per attempt); then it is ignored as
   * unknown (a refund naming our refund id not recorded yet is then recorded as issued outside this service).
   */
  private async applyInScope(
    repos: Repositories,
    origin: EventOrigin,
    event: ProviderEvent,
    asked: AskedFirst,
    graceEndsAt: Date,
  ): Promise<string> {
    try {
      return await this.applier.apply(repos, origin, event, asked);
    } catch (error) {
      if (error instanceof NotYetRecorded) {
        if (origin.mayAwaitOurRecords) throw new AwaitingOurRecord(error.message, graceEndsAt);
        return `${IGNORED_FOREIGN} (${error.message}, still ${this.graceMs()} ms after the webhook arrived)`;
      }
      if (error instanceof ForeignOrUnknownObject) return `${IGNORED_FOREIGN} (${error.message})`;
      throw error;
    }
  }

  private graceMs(): number {
    return this.options.notRecordedGraceMs ?? NOT_RECORDED_GRACE_MS;
  }
}

/** What `webhook processed` says of a webhook, whether a lane settled it or ingress did at receipt. */
export function processedLogFields(
  webhook: Pick<InboxEntry, 'provider' | 'storefrontId' | 'providerEventId' | 'eventType'>,
  outcome: string,
): Record<string, string> {
  return {
    provider: webhook.provider,
    storefront_id: webhook.storefrontId,
    event_id: webhook.providerEventId,
    type: webhook.eventType,
    outcome,
  };
}

/**
 * The events processing applies of a webhook (a notification provider's become notifications: what to ask), checked
 * storable (answer-check.ts) before any of them is written. Either failure is the same on every attempt.
 */
function eventsOf(adapter: LoadedProvider, webhook: RawWebhook): ProviderEvent[] {
  const events = readEvents(adapter, webhook);
  const violations = answerViolations(events, 'events');
  if (violations.length > 0) throw new UnreadableWebhook(invalidArgument(violations.slice(0, 5)));
  return events;
}

/** The webhook's events as processing takes them, unchecked; UnreadableWebhook when its adapter cannot read it. */
function readEvents(adapter: LoadedProvider, webhook: RawWebhook): ProviderEvent[] {
  let parsed: ProviderEvent[];
  try {
    parsed = adapter.webhooks!.parse(webhook);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'INVALID_ARGUMENT') throw new UnreadableWebhook(error);
    throw error;
  }
  return adapter.features.webhooks === 'notification' ? parsed.flatMap(asNotification) : parsed;
}

/**
 * True when processing would apply nothing; false also when the body does not parse (processing reports that). No
 * storability check: with no events there is nothing to check, and with some the lane checks them.
 */
function nothingToApply(adapter: LoadedProvider, webhook: RawWebhook): boolean {
  try {
    return readEvents(adapter, webhook).length === 0;
  } catch {
    return false;
  }
}

function currentTraceId(): string | undefined {
  const id = trace.getSpanContext(context.active())?.traceId;
  return id && !/^0+$/.test(id) ? id : undefined;
}
