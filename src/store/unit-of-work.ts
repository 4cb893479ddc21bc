import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import type { Clock } from '../ports/clock.port';
import type { Customer } from '../domain/customer';
import type { JournalRepositories, Repositories, ResponseRecorder, UnitOfWork } from '../ports/store.port';
import { KnexAuditWriter } from './audit-writer';
import { ChangeJournal, LeadTaken } from './change-journal';
import { customerLead, KnexCustomerRepository } from './customer-repository';
import { KnexEntitlementRepository } from './entitlement-repository';
import { KnexInvoiceRepository } from './invoice-repository';
import { KnexPaymentRepository } from './payment-repository';
import { KnexRefundRepository } from './refund-repository';
import { KnexSubscriptionRepository } from './subscription-repository';
import { KnexUsageRepository } from './usage-repository';
import { KnexWebhookInbox } from './webhook-inbox';
import { KnexEventLog } from './event-log';
import { KnexOutboxWriter } from './outbox-writer';
import { KnexPlanRepository } from './plan-repository';
import { KnexIdempotencyResponses } from './idempotency-store';
import { KnexStorefrontRepository } from './storefront-repository';
import { KnexScheduledActions } from './scheduled-actions';
import { KnexLiveSubscriptionChecks } from './live-subscription-checks';
import { KnexCheckoutSessionRepository } from './checkout-session-repository';

const tracer = trace.getTracer('billing-adapter/store');

/** Knex transactions over the repositories. Tells listeners (the relay) when a commit wrote events. */
export class KnexUnitOfWork implements UnitOfWork {
  readonly reads: Repositories;
  private readonly eventListeners: Array<() => void> = [];
  private readonly scheduleListeners: Array<(dueAt: Date) => void> = [];
  private readonly storefrontListeners: Array<(storefrontId: string) => void> = [];
  private readonly subscriptionListeners: Array<(subscriptionId: string) => void> = [];

  constructor(
    private readonly knex: Knex,
    private readonly clock: Clock,
  ) {
    this.reads = this.repositories(knex, new ChangeJournal(knex, true), () => undefined);
  }

  /** Called after every commit that appended events. */
  onEventsCommitted(listener: () => void): void {
    this.eventListeners.push(listener);
  }

  /** Called after every commit that wrote a storefront or its binding, once per storefront. */
  onStorefrontChanged(listener: (storefrontId: string) => void): void {
    this.storefrontListeners.push(listener);
  }

  /** Called after every commit that wrote a subscription, once per subscription. */
  onSubscriptionChanged(listener: (subscriptionId: string) => void): void {
    this.subscriptionListeners.push(listener);
  }

  /** Called after every commit that scheduled actions, with the earliest due time (the scheduler wakes). */
  onActionsScheduled(listener: (dueAt: Date) => void): void {
    this.scheduleListeners.push(listener);
  }

  async transaction<T>(
    work: (repos: Repositories) => Promise<T>,
    completes?: { completion?: ResponseRecorder },
  ): Promise<T> {
    return traced(async () => {
      let wroteEvents = false;
      let earliestDue: Date | undefined;
      const changedStorefronts = new Set<string>();
      const changedSubscriptions = new Set<string>();
      const result = await this.knex.transaction(async (tx) => {
        const journal = new ChangeJournal(tx);
        const repos = this.repositories(
          tx,
          journal,
          () => (wroteEvents = true),
          (at) => (earliestDue = earliestDue && earliestDue <= at ? earliestDue : at),
          (id) => changedStorefronts.add(id),
          (id) => changedSubscriptions.add(id),
        );
        const value = await work(repos);
        // The call's response commits with its change, or neither does; it is written with the journal.
        await completes?.completion?.record(repos, value);
        await journal.flush();
        return value;
      });
      if (wroteEvents) for (const listener of this.eventListeners) listener();
      if (earliestDue) for (const listener of this.scheduleListeners) listener(earliestDue);
      for (const id of changedStorefronts) for (const listener of this.storefrontListeners) listener(id);
      for (const id of changedSubscriptions) for (const listener of this.subscriptionListeners) listener(id);
      return result;
    });
  }

  async insertCustomer<T>(
    customer: Customer,
    record: (repos: JournalRepositories) => Promise<T>,
    completes?: { completion?: ResponseRecorder },
  ): Promise<{ inserted: true; value: T } | { inserted: false }> {
    return traced(async () => {
      let wroteEvents = false;
      // Nothing is sent until the journal's one statement: it inserts the customer first and the rest only then.
      const journal = new ChangeJournal(this.knex);
      journal.lead(customerLead(customer));
      const repos: JournalRepositories = {
        outbox: new KnexOutboxWriter(journal, this.clock, () => (wroteEvents = true)),
        audit: new KnexAuditWriter(journal, this.clock),
        idempotency: new KnexIdempotencyResponses(this.knex, journal),
      };
      try {
        const value = await record(repos);
        // The response flushes the journal when there is one (see KnexIdempotencyResponses.complete).
        await completes?.completion?.record(repos, value);
        await journal.flush();
        if (wroteEvents) for (const listener of this.eventListeners) listener();
        return { inserted: true as const, value };
      } catch (error) {
        // A taken email is an answer, not a failed transaction.
        if (error instanceof LeadTaken) return { inserted: false as const };
        throw error;
      }
    });
  }

  private repositories(
    db: Knex | Knex.Transaction,
    journal: ChangeJournal,
    onAppend: () => void,
    onSchedule: (dueAt: Date) => void = (at) => this.scheduleListeners.forEach((listener) => listener(at)),
    onStorefrontChange: (id: string) => void = (id) => this.storefrontListeners.forEach((listener) => listener(id)),
    onSubscriptionChange: (id: string) => void = (id) => this.subscriptionListeners.forEach((listener) => listener(id)),
  ): Repositories {
    return {
      storefronts: new KnexStorefrontRepository(db, onStorefrontChange),
      plans: new KnexPlanRepository(db, { withinTransaction: db !== this.knex }),
      customers: new KnexCustomerRepository(db),
      subscriptions: new KnexSubscriptionRepository(db, onSubscriptionChange, { withinTransaction: db !== this.knex }),
      payments: new KnexPaymentRepository(db, { withinTransaction: db !== this.knex }),
      refunds: new KnexRefundRepository(db),
      invoices: new KnexInvoiceRepository(db),
      entitlements: new KnexEntitlementRepository(db),
      usage: new KnexUsageRepository(db),
      inbox: new KnexWebhookInbox(db, journal),
      outbox: new KnexOutboxWriter(journal, this.clock, onAppend),
      events: new KnexEventLog(db),
      audit: new KnexAuditWriter(journal, this.clock),
      idempotency: new KnexIdempotencyResponses(db, journal),
      scheduledActions: new KnexScheduledActions(db, this.clock, onSchedule),
      liveSubscriptions: new KnexLiveSubscriptionChecks(db),
      checkoutSessions: new KnexCheckoutSessionRepository(db),
    };
  }
}

/** Runs a unit of work in a `db.transaction` span, marked failed when the work throws. */
function traced<T>(work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(
    'db.transaction',
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } },
    async (span) => {
      try {
        return await work();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
