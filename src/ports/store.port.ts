import type { CheckoutSession } from '../domain/checkout-session';
import type { Customer } from '../domain/customer';
import type { Entitlement } from '../domain/entitlement';
import type { Invoice } from '../domain/invoice';
import type { Payment, Refund } from '../domain/payment';
import type { Subscription, SubscriptionStatus } from '../domain/subscription';
import type { UsageRecord } from '../domain/usage';
import type { EventDraft } from '../domain/event';
import type { Plan } from '../domain/plan';
import type { ProviderBinding, Storefront } from '../domain/storefront';

/** Keyset page: the items after `afterId`, at most `size` of them (the store fetches one more to know if more). */
export interface PageRequest {
  size: number;
  afterId?: string;
}

/**
 * Where work outside any transaction reads storefronts: the service's cache, which drops a storefront whenever any
 * replica changes it, or else the store itself.
 */
export interface StorefrontReads {
  get(id: string): Promise<Storefront | undefined>;
}

export interface StorefrontRepository {
  /** Throws ALREADY_EXISTS when the id is taken. */
  insert(storefront: Storefront): Promise<void>;
  get(id: string, options?: { forUpdate?: boolean }): Promise<Storefront | undefined>;
  list(filter: { tenantId?: string }, page: PageRequest): Promise<Storefront[]>;
  /** Every tenant that has a storefront, each once. */
  tenants(): Promise<string[]>;
  /** Writes the storefront's own fields (name, country, currency, version); not its binding. */
  update(storefront: Storefront): Promise<void>;
  /** Changes the current binding's config and secret references in place (same provider, e.g. secret rotation). */
  updateCurrentBinding(
    storefrontId: string,
    config: Record<string, string>,
    secretRefs: Record<string, string>,
  ): Promise<void>;
  /** Closes the current binding at `at` and opens `binding`. */
  replaceBinding(storefrontId: string, binding: ProviderBinding, at: Date): Promise<void>;
  listBindings(storefrontId: string): Promise<ProviderBinding[]>;
}

export interface PlanRepository {
  insert(plan: Plan): Promise<void>;
  get(id: string, options?: { forUpdate?: boolean }): Promise<Plan | undefined>;
  list(filter: { storefrontId: string; includeArchived: boolean }, page: PageRequest): Promise<Plan[]>;
  /** The storefront's plan with this reference at `provider` (its price id), if any. */
  findByProviderRef(storefrontId: string, provider: string, ref: string): Promise<Plan | undefined>;
  update(plan: Plan): Promise<void>;
}

export interface CustomerRepository {
  /** False (and nothing written) when the storefront already has this email. */
  insert(customer: Customer): Promise<boolean>;
  get(id: string, options?: { forUpdate?: boolean }): Promise<Customer | undefined>;
  findByEmail(storefrontId: string, email: string): Promise<Customer | undefined>;
  /** The storefront's customer with this id at `provider`; another storefront's is never found. */
  findByProviderRef(storefrontId: string, provider: string, ref: string): Promise<Customer | undefined>;
  list(filter: { storefrontId: string; email?: string; externalRef?: string }, page: PageRequest): Promise<Customer[]>;
  update(customer: Customer): Promise<void>;
  /**
   * Remembers the customer's id at `provider`. One statement that writes (and locks) the customer only when it held
   * another id there or none: a provider names the customer on every subscription event, and it is rarely new.
   */
  rememberProviderRef(id: string, provider: string, ref: string): Promise<void>;
}

export interface SubscriptionRepository {
  /** False (and nothing written) when the id exists already. */
  insert(subscription: Subscription): Promise<boolean>;
  /** With `storefrontId`, only that storefront's subscription (a webhook names ours only for its own storefront). */
  get(id: string, options?: { forUpdate?: boolean; storefrontId?: string }): Promise<Subscription | undefined>;
  /** The storefront's subscription with this reference at `provider`; another storefront's is never found. */
  findByProviderRef(
    storefrontId: string,
    provider: string,
    ref: string,
    options?: { forUpdate?: boolean },
  ): Promise<Subscription | undefined>;
  /** True when any storefront's subscription holds this reference at `provider` (it is unique across storefronts). */
  providerRefInUse(provider: string, ref: string): Promise<boolean>;
  /**
   * Gives the storefront's subscription `id` at `provider` the provider's reference `ref`, in one statement, and
   * returns it locked: only while it has no reference yet and no subscription of any storefront holds `ref`.
   * Undefined, with nothing written, when any of that does not hold.
   */
  claimProviderRef(id: string, storefrontId: string, provider: string, ref: string): Promise<Subscription | undefined>;
  list(
    filter: { storefrontId?: string; customerId?: string; statuses?: SubscriptionStatus[] },
    page: PageRequest,
  ): Promise<Subscription[]>;
  /** The customer's most recent subscription, whatever its state. */
  latestOfCustomer(customerId: string): Promise<Subscription | undefined>;
  /** INCOMPLETE subscriptions the reconciler should ask about by `now` (checkout expired), most overdue first. */
  listDueForReconciliation(now: Date, limit: number): Promise<string[]>;
  /** Locks one of those if it is still INCOMPLETE and due; undefined when settled or locked by another replica. */
  lockDueForReconciliation(id: string, now: Date): Promise<Subscription | undefined>;
  scheduleReconciliation(id: string, at: Date): Promise<void>;
  update(subscription: Subscription): Promise<void>;
}

export interface PaymentRepository {
  insert(payment: Payment): Promise<void>;
  /**
   * Inserts a payment that names its provider reference; false, with nothing written, when a payment (of any
   * storefront) at that provider holds the reference already (recorded by a concurrent transaction, which this waits for).
   */
  insertUnlessHeld(payment: Payment): Promise<boolean>;
  /** With `storefrontId`, only that storefront's payment (a webhook names ours only for its own storefront). */
  get(id: string, options?: { forUpdate?: boolean; storefrontId?: string }): Promise<Payment | undefined>;
  /** The storefront's payment with this reference at `provider`; another storefront's is never found. */
  findByProviderRef(
    storefrontId: string,
    provider: string,
    ref: string,
    options?: { forUpdate?: boolean },
  ): Promise<Payment | undefined>;
  /**
   * Whichever storefront's payment holds this reference at `provider` (it is unique across storefronts), unlocked:
   * one read that finds ours and tells whether another storefront has it. Only for that; never for an answer.
   */
  holdingProviderRef(provider: string, ref: string): Promise<Payment | undefined>;
  /**
   * Files the storefront's payment with reference `ref` at `provider` under `invoiceId`, in one statement (locking it
   * only when it changes); nothing when no such payment exists yet or it is filed there already.
   */
  fileUnderInvoice(storefrontId: string, provider: string, ref: string, invoiceId: string, at: Date): Promise<void>;
  list(
    filter: { storefrontId?: string; customerId?: string; subscriptionId?: string },
    page: PageRequest,
  ): Promise<Payment[]>;
  /** One-time payments still awaiting their checkout that the reconciler should ask about by `now`. */
  listDueForReconciliation(now: Date, limit: number): Promise<string[]>;
  /** Locks one of those if still unpaid and due; undefined when settled or locked by another replica. */
  lockDueForReconciliation(id: string, now: Date): Promise<Payment | undefined>;
  scheduleReconciliation(id: string, at: Date): Promise<void>;
  update(payment: Payment): Promise<void>;
}

export interface RefundRepository {
  insert(refund: Refund): Promise<void>;
  get(id: string, options?: { forUpdate?: boolean }): Promise<Refund | undefined>;
  /** Scoped by its payment, which the caller found within its storefront. */
  findByProviderRef(paymentId: string, ref: string, options?: { forUpdate?: boolean }): Promise<Refund | undefined>;
  listOfPayment(paymentId: string, page: PageRequest): Promise<Refund[]>;
  /** PENDING refunds requested or last asked about at or before `checkedBefore`, least recently first. */
  listDueForReconciliation(checkedBefore: Date, limit: number): Promise<string[]>;
  /** Locks one of those if still PENDING and due; undefined when settled or locked by another replica. */
  lockDueForReconciliation(id: string, checkedBefore: Date): Promise<Refund | undefined>;
  markChecked(id: string, at: Date): Promise<void>;
  update(refund: Refund): Promise<void>;
}

export interface InvoiceRepository {
  get(id: string, options?: { forUpdate?: boolean }): Promise<Invoice | undefined>;
  /**
   * The subscription's invoice with `invoice`'s provider reference, locked; where there is none, `invoice` is inserted
   * in the same statement and the answer is undefined. Throws the unique violation when the subscription has another
   * invoice in its place (one per cycle and type). Scoped by the subscription, which the caller found, locked, within
   * its storefront: that lock is what keeps two reports of one invoice from inserting it twice.
   */
  lockOrInsert(invoice: Invoice & { providerRef: string }): Promise<Invoice | undefined>;
  list(filter: { subscriptionId?: string; customerId?: string }, page: PageRequest): Promise<Invoice[]>;
  update(invoice: Invoice): Promise<void>;
}

export interface EntitlementRepository {
  insert(entitlement: Entitlement): Promise<void>;
  /** Several at once, in one statement (a plan's features). */
  insertAll(entitlements: readonly Entitlement[]): Promise<void>;
  /** Sets these entitlements' end (undefined: open-ended), in one statement. */
  setActiveUntil(ids: readonly string[], activeUntil: Date | undefined): Promise<void>;
  /** Entitlements of a subscription that have not been revoked (no end, or an end in the future). */
  openOfSubscription(subscriptionId: string, at: Date): Promise<Entitlement[]>;
  listOfCustomer(customerId: string, options: { featureKey?: string; activeAt?: Date }): Promise<Entitlement[]>;
  update(entitlement: Entitlement): Promise<void>;
}

export interface UsageRepository {
  /** Returns the stored record; a repeated idempotency key returns the first record instead of a second one. */
  insert(record: UsageRecord, idempotencyKey: string): Promise<UsageRecord>;
  list(subscriptionId: string, period: { start?: Date; end?: Date }): Promise<UsageRecord[]>;
}

/** A verified webhook as stored before the 200. */
export interface InboxEntry {
  id: string;
  provider: string;
  storefrontId: string;
  providerEventId: string;
  eventType: string;
  headers: Record<string, string>;
  body: Buffer;
  attempts: number;
  traceparent?: string;
  receivedAt: Date;
  /** Rows with the same (provider, storefront, ordering key) are processed one at a time, in sequence order. */
  orderingKey?: string;
  /** Decimal digits, compared numerically; a row without one sorts first within its key. */
  sequence?: string;
  /** When claimed: the last sequence applied of its key (absent: none yet; providers number from 1). */
  orderPosition?: string;
  /** The sender's address as ingress saw it (after TRUSTED_PROXIES). */
  sourceIp?: string;
}

/** A webhook as ingress stores it. */
export type NewInboxEntry = Omit<InboxEntry, 'id' | 'attempts'> & {
  /**
   * Set when processing would have nothing to do (no event is made of the webhook, and it holds no place in a
   * sequence): the entry is stored already processed, with this outcome, and no lane claims it.
   */
  settledAs?: string;
};

/** A webhook that failed processing, or an outbox event Kafka refused for good (parked). */
export interface DeadLetter {
  id: string;
  kind: 'webhook' | 'event';
  /** Webhooks only. */
  inboxId?: string;
  /** Events only: the parked event and its key (whose later events wait). */
  eventId?: string;
  eventKey?: string;
  provider: string;
  storefrontId: string;
  providerEventId: string;
  eventType: string;
  error: string;
  attempts: number;
  receivedAt: Date;
  lastAttemptAt: Date;
  retriedAt?: Date;
}

/** The webhook inbox and its dead letters. */
export interface WebhookInbox {
  /** Stores a webhook once per (provider, storefront, provider event id); false when it was there already. */
  insert(entry: NewInboxEntry): Promise<boolean>;
  /**
   * Locks a due pending entry (skipping entries other workers hold), if any: the oldest of the first storefront
   * after `afterStorefront` that has one, wrapping round (storefronts take turns); an entry with an ordering key
   * only when no earlier entry of its key is still pending (in flight, due or waiting to retry), and, with a
   * sequence, only when it is the key's next one or has waited `gapWaitMs` (default 0) for the missing ones.
   */
  claimDue(now: Date, gapWaitMs?: number, afterStorefront?: string): Promise<InboxEntry | undefined>;
  /**
   * Entries waiting for a retry (scheduleRetry) are not claimed until this finds their time has come: it makes them
   * claimable, and says whether any pending entry is due by `now` (held back by its key or not). One statement, so a
   * lane that polls an empty inbox opens no transaction. False means claimDue would find nothing.
   */
  wakeDue(now: Date): Promise<boolean>;
  /**
   * `outcome` says what processing did (applied, unchanged, `ignored: foreign/unknown object …`). The entry's key
   * position becomes max(position, its sequence), in the same transaction.
   */
  markProcessed(id: string, at: Date, outcome?: string): Promise<void>;
  /**
   * Records a failed attempt and when to try again; only on a row still PENDING. With a retry after `now` (or no
   * `now`), the entry waits out of the claim's walk until wakeDue finds it due, and the later rows of its ordering
   * key are marked held back until it is processed or dead-lettered.
   */
  scheduleRetry(id: string, attempts: number, error: string, nextAttemptAt: Date, now?: Date): Promise<void>;
  /**
   * Parks the entry and records a dead letter (its key's position moves past it, as markProcessed's does). False
   * when the row was no longer PENDING (another lane or replica processed it meanwhile): nothing is written.
   */
  deadLetter(entry: InboxEntry, attempts: number, error: string, at: Date, deadLetterId: string): Promise<boolean>;
  listDeadLetters(filter: { storefrontId?: string; provider?: string }, page: PageRequest): Promise<DeadLetter[]>;
  getDeadLetter(id: string, options?: { forUpdate?: boolean }): Promise<DeadLetter | undefined>;
  /** Puts the dead letter's entry back in the queue, due now. */
  requeueDeadLetter(id: string, at: Date): Promise<void>;
  /**
   * Deletes up to `limit` webhooks processed before `before` that no dead letter names, oldest first; how many.
   * `now` (default: the machine's clock) tells a row stamped ahead of it by a replica whose clock runs ahead.
   */
  purgeProcessed(before: Date, limit: number, now?: Date): Promise<number>;
}

/** Who did it and in which request; goes with every event and audit row. */
export interface ActorContext {
  /** The authenticated caller's name (or `system`, `provider:<id>` for work the service does itself). */
  actor: string;
  correlationId: string;
  /** The `x-actor` the caller named (e.g. the end user it acts for); recorded beside `actor`, never instead of it. */
  onBehalfOf?: string;
  /** The provider event that caused the change, when a webhook did: it goes into every event the change emits. */
  providerEventId?: string;
}

/** An event as stored in the outbox (the event log). `payload` is the encoded billing.v1.BillingEvent. */
export interface StoredEvent {
  eventId: string;
  type: string;
  key: string;
  stream: string;
  storefrontId: string;
  tenantId: string;
  provider: string;
  aggregateId: string;
  sequence: bigint;
  occurredAt: Date;
  payload: Uint8Array;
  traceparent?: string;
  tracestate?: string;
}

/** Writes events in the caller's transaction, numbering them per key. */
export interface OutboxWriter {
  append(draft: EventDraft, actor: ActorContext): Promise<void>;
}

export interface EventFilter {
  /** Only this tenant's events (a tenant-scoped caller). */
  tenantId?: string;
  storefrontId?: string;
  aggregateId?: string;
  types?: string[];
  since?: Date;
  until?: Date;
}

/** Reads the event log and queues ranges for re-publishing. Events are paged by outbox position. */
export interface EventLog {
  list(
    filter: EventFilter,
    page: { size: number; afterPosition?: string },
  ): Promise<(StoredEvent & { position: string })[]>;
  /**
   * Queues matching events again so the relay sends them again (same ce_id). Returns how many were not pending, or
   * undefined (nothing queued) when more than `max` match.
   */
  requeue(filter: EventFilter, max: number): Promise<number | undefined>;
  /** Lets the relay try a parked event (and the events of its key waiting behind it) again. */
  unpark(eventId: string): Promise<void>;
}

/** One audit row per mutation. `details` must never hold secrets. */
export interface AuditEntry extends ActorContext {
  action: string;
  resourceType: string;
  resourceId: string;
  storefrontId?: string;
  details?: Record<string, unknown>;
}

export interface AuditWriter {
  record(entry: AuditEntry): Promise<void>;
}

/** The repositories, bound to a transaction or to the plain connection. */
export interface Repositories {
  storefronts: StorefrontRepository;
  plans: PlanRepository;
  customers: CustomerRepository;
  subscriptions: SubscriptionRepository;
  payments: PaymentRepository;
  refunds: RefundRepository;
  invoices: InvoiceRepository;
  entitlements: EntitlementRepository;
  usage: UsageRepository;
  inbox: WebhookInbox;
  outbox: OutboxWriter;
  events: EventLog;
  audit: AuditWriter;
  idempotency: IdempotencyResponses;
  scheduledActions: ScheduledActionRepository;
  liveSubscriptions: LiveSubscriptionChecks;
  checkoutSessions: CheckoutSessionRepository;
}

/** Records a call's response in its final transaction (CallContext.completion). */
export interface ResponseRecorder {
  record(repos: Pick<Repositories, 'idempotency'>, result: unknown): Promise<void>;
}

/** What a change beside its state writes: events, audit rows and the call's response (`UnitOfWork.insertCustomer`). */
export type JournalRepositories = Pick<Repositories, 'outbox' | 'audit' | 'idempotency'>;

/** One idempotency key of one tenant (scope), held by one attempt (owner). */
export interface HeldIdempotencyKey {
  scope: string;
  key: string;
  owner: string;
}

/**
 * An idempotency key no attempt holds yet, claimed by the statement that stores the call's response: a call whose
 * whole effect is its final statement needs no claim of its own before it (see UnitOfWork.insertCustomer).
 */
export interface KeyClaimAtCommit {
  scope: string;
  key: string;
  method: string;
  requestHash: string;
  owner: string;
  retentionMs: number;
}

/** Stores a keyed call's response in the use case's transaction, so the change and its response commit together. */
export interface IdempotencyResponses {
  /** False (nothing stored) when the attempt no longer holds the key: its lease was taken over. */
  complete(held: HeldIdempotencyKey, response: Uint8Array): Promise<boolean>;
  /** Claims a new key with the response; false (nothing stored) when the key exists: the caller takes the slow way. */
  claimAndComplete(claim: KeyClaimAtCommit, response: Uint8Array): Promise<boolean>;
}

/** Runs work atomically: state change, events and audit row commit together or not at all. */
export interface UnitOfWork {
  /**
   * With `completes` (the call's context), this is the call's final transaction: the call's response for the
   * result is stored in it (see CallCompletion).
   */
  transaction<T>(work: (repos: Repositories) => Promise<T>, completes?: { completion?: ResponseRecorder }): Promise<T>;
  /**
   * Inserts `customer` unless its storefront already has the email and, only then, what `record` writes (events,
   * audit) and, with `completes`, the call's response: one statement, its own transaction, a single round trip where
   * `transaction` takes four. `inserted: false` when the email was taken: nothing was written.
   */
  insertCustomer<T>(
    customer: Customer,
    record: (repos: JournalRepositories) => Promise<T>,
    completes?: { completion?: ResponseRecorder },
  ): Promise<{ inserted: true; value: T } | { inserted: false }>;
  /** Repositories outside a transaction, for reads. */
  readonly reads: Repositories;
}

/** Timed work the service does itself (app/background/scheduler.ts runs it). */
export interface ScheduledAction {
  id: string;
  /** What to do; a handler is registered per kind (e.g. `subscription.cancel_at_period_end`). */
  kind: string;
  /** What it is done to (our id); one pending action per (kind, subject). */
  subjectId: string;
  storefrontId?: string;
  dueAt: Date;
  payload: Record<string, unknown>;
  /** Runs started so far, this one included while it runs. */
  attempts: number;
  lastError?: string;
  status: 'pending' | 'done' | 'failed';
  createdAt: Date;
  updatedAt: Date;
}

export interface ScheduleRequest {
  kind: string;
  subjectId: string;
  storefrontId?: string;
  dueAt: Date;
  payload?: Record<string, unknown>;
}

/** Schedules and cancels actions in the caller's transaction, atomically with the state change that wants them. */
export interface ScheduledActionRepository {
  /**
   * Schedules `kind` for the subject; the pending one, if any, is moved instead (new due time and payload, attempts
   * start again). A run of the old schedule still in flight no longer completes it.
   */
  schedule(request: ScheduleRequest): Promise<ScheduledAction>;
  /** Removes the pending action of (kind, subject); false when there was none. */
  cancel(kind: string, subjectId: string): Promise<boolean>;
  /** The pending action of (kind, subject), if any. */
  pending(kind: string, subjectId: string): Promise<ScheduledAction | undefined>;
  /** The most recently scheduled action of (kind, subject), whatever its status (pending, done, failed), if any. */
  latest(kind: string, subjectId: string): Promise<ScheduledAction | undefined>;
  /**
   * Adds `entries` to the pending action's payload, leaving its due time, attempts and lease as they are (a run in
   * flight still completes it). The action as it now is; undefined when none is pending.
   */
  annotate(kind: string, subjectId: string, entries: Record<string, unknown>): Promise<ScheduledAction | undefined>;
}

/** The runner's side of the scheduled actions: leases, outcomes. Every write is fenced by the lease owner. */
export interface ScheduledActionQueue {
  /**
   * Leases up to `limit` pending actions of `kinds` due by `now` whose lease is free or expired (SKIP LOCKED, so
   * replicas never take the same row), counting an attempt each. Committed before it returns.
   */
  claimDue(
    kinds: readonly string[],
    owner: string,
    now: Date,
    leaseUntil: Date,
    limit: number,
  ): Promise<ScheduledAction[]>;
  /** False when the lease was lost (expired and taken, or the action was moved or cancelled meanwhile). */
  complete(id: string, owner: string, at: Date): Promise<boolean>;
  /** `payload` is merged into the action's payload (top-level keys replaced) with the new due time. */
  retry(
    id: string,
    owner: string,
    dueAt: Date,
    error: string,
    at: Date,
    payload?: Record<string, unknown>,
  ): Promise<boolean>;
  fail(id: string, owner: string, error: string, at: Date): Promise<boolean>;
  /** Gives the lease back without counting the attempt (shutdown interrupted the run). */
  release(id: string, owner: string): Promise<void>;
  /** Actions that used up their attempts (metrics). */
  countFailed(): Promise<number>;
}

/** Rows whose reconciliation keeps failing, per sweep. */
export interface ReconcileFailures {
  /** Counts one more failure of the row and returns the count. */
  record(kind: string, subjectId: string, error: string, at: Date): Promise<number>;
  /** The row was checked: its failures are forgotten. */
  clear(kind: string, subjectId: string): Promise<void>;
  /** The sweep stops asking about the row. */
  giveUp(kind: string, subjectId: string, at: Date): Promise<void>;
}

/** When the reconciler asks about a live subscription (app/background/subscription-sweep.ts). */
export interface LiveCheckRules {
  /** Past its period end by this much, and not asked since: asked. */
  periodEndGraceMs: number;
  /** Neither changed nor asked about for this long: asked. */
  silenceMs: number;
  /** After a failed check (`reconcile_failures` of `failuresKind`), not asked again before this. */
  retryAfterMs: number;
  failuresKind: string;
}

/** Live subscriptions (TRIALING, ACTIVE, PAST_DUE) whose lost webhooks the reconciler looks for. */
export interface LiveSubscriptionChecks {
  /** Ids of live subscriptions due for a check by `now` (never one given up on), least recently checked first. */
  listDue(now: Date, rules: LiveCheckRules, limit: number): Promise<string[]>;
  /** Locks the subscription if still live; false when it is not, or another replica holds it (SKIP LOCKED). */
  lock(id: string): Promise<boolean>;
  /** The provider was asked about it at `at`. */
  markChecked(id: string, at: Date): Promise<void>;
}

export interface CheckoutSessionRepository {
  /** False (and nothing written) when the provider's session is recorded already (a replayed checkout). */
  insert(session: CheckoutSession): Promise<boolean>;
  get(id: string, options?: { forUpdate?: boolean }): Promise<CheckoutSession | undefined>;
  /** The session with this ref at `provider` (unique per provider). */
  findByProviderRef(provider: string, ref: string): Promise<CheckoutSession | undefined>;
  /** Writes what changes over its life: status, next action, check time, failure. */
  update(session: CheckoutSession): Promise<void>;
}
