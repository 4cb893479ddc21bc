import type { Customer } from '../domain/customer';
import type { EventDraft } from '../domain/event';
import type { Plan } from '../domain/plan';
import type { ProviderBinding, Storefront } from '../domain/storefront';

/** Keyset page: the items after `afterId`, at most `size` of them (the store fetches one more to know if more). */
export interface PageRequest {
  size: number;
  afterId?: string;
}

export interface StorefrontRepository {
  /** Throws ALREADY_EXISTS when the id is taken. */
  insert(storefront: Storefront): Promise<void>;
  get(id: string, options?: { forUpdate?: boolean }): Promise<Storefront | undefined>;
  list(filter: { tenantId?: string }, page: PageRequest): Promise<Storefront[]>;
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
  update(plan: Plan): Promise<void>;
}

export interface CustomerRepository {
  /** False (and nothing written) when the storefront already has this email. */
  insert(customer: Customer): Promise<boolean>;
  get(id: string, options?: { forUpdate?: boolean }): Promise<Customer | undefined>;
  findByEmail(storefrontId: string, email: string): Promise<Customer | undefined>;
  list(filter: { storefrontId: string; email?: string; externalRef?: string }, page: PageRequest): Promise<Customer[]>;
  update(customer: Customer): Promise<void>;
}

/** Who did it and in which request; goes with every event and audit row. */
export interface ActorContext {
  actor: string;
  correlationId: string;
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
  append(draft: EventDraft, actor: ActorContext): Promise<StoredEvent>;
}

export interface EventFilter {
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
  /** Marks matching events unpublished so the relay sends them again (same ce_id). Returns how many. */
  requeue(filter: EventFilter): Promise<number>;
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
  outbox: OutboxWriter;
  events: EventLog;
  audit: AuditWriter;
}

/** Runs work atomically: state change, events and audit row commit together or not at all. */
export interface UnitOfWork {
  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
  /** Repositories outside a transaction, for reads. */
  readonly reads: Repositories;
}
