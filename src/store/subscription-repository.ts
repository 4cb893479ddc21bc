import type { Knex } from 'knex';
import { ReconcileQueue } from './reconcile-queue';
import type { Subscription, SubscriptionStatus } from '../domain/subscription';
import type { PageRequest, SubscriptionRepository } from '../ports/store.port';
import { asNumber, asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

export class KnexSubscriptionRepository implements SubscriptionRepository {
  private readonly queue: ReconcileQueue;

  /**
   * Within a transaction, whether each provider reference was another subscription's as this transaction first
   * asked: a webhook asks before asking its provider and again before locking. Forgotten whenever this transaction
   * writes a subscription; a reference another transaction takes meanwhile fails the write on the unique key, and
   * the webhook's retry sees it. Not on `uow.reads`, which must see other writers' changes.
   */
  private readonly refsInUse?: Map<string, boolean>;

  constructor(
    private readonly db: Knex | Knex.Transaction,
    /**
     * A subscription was written: the unit of work tells this replica's cache after the commit (the others hear of it
     * from the table's trigger, migration 016).
     */
    private readonly onChange: (subscriptionId: string) => void = () => undefined,
    options: { withinTransaction?: boolean } = {},
  ) {
    this.queue = new ReconcileQueue(db, 'subscriptions', 'INCOMPLETE', 'reconcile_at');
    if (options.withinTransaction) this.refsInUse = new Map();
  }

  async insert(s: Subscription): Promise<boolean> {
    this.refsInUse?.clear();
    const inserted = await this.db('subscriptions')
      .insert({
        id: s.id,
        storefront_id: s.storefrontId,
        customer_id: s.customerId,
        provider: s.provider,
        created_at: s.createdAt,
        // An open checkout is asked about once it has expired (the reconciler's bookkeeping, see migration 003).
        reconcile_at: s.status === 'INCOMPLETE' ? (s.checkoutExpiresAt ?? null) : null,
        ...columns(s),
      })
      .onConflict('id')
      .ignore()
      .returning('id');
    if (inserted.length > 0) this.onChange(s.id);
    return inserted.length > 0;
  }

  async get(id: string, options?: { forUpdate?: boolean; storefrontId?: string }): Promise<Subscription | undefined> {
    const query = this.db('subscriptions').where({ id }).first();
    if (options?.storefrontId !== undefined) query.where({ storefront_id: options.storefrontId });
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toSubscription(row) : undefined;
  }

  async findByProviderRef(
    storefrontId: string,
    provider: string,
    ref: string,
    options?: { forUpdate?: boolean },
  ): Promise<Subscription | undefined> {
    const query = this.db('subscriptions').where({ storefront_id: storefrontId, provider, provider_ref: ref }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toSubscription(row) : undefined;
  }

  async providerRefInUse(provider: string, ref: string): Promise<boolean> {
    const key = `${provider}\u0000${ref}`;
    const known = this.refsInUse?.get(key);
    if (known !== undefined) return known;
    const inUse = (await this.db('subscriptions').where({ provider, provider_ref: ref }).first('id')) !== undefined;
    this.refsInUse?.set(key, inUse);
    return inUse;
  }

  async claimProviderRef(
    id: string,
    storefrontId: string,
    provider: string,
    ref: string,
  ): Promise<Subscription | undefined> {
    this.refsInUse?.clear();
    // The lookup by id, the check that no subscription holds the reference, and the write, in one round trip. A
    // subscription claiming the same reference at once fails one of the two on the unique key, as the three
    // statements did; a concurrent writer of this row makes the re-checked `provider_ref IS NULL` decide.
    const rows = (await this.db('subscriptions')
      .where({ id, storefront_id: storefrontId, provider })
      .whereNull('provider_ref')
      .whereNotExists((held) =>
        held.from('subscriptions as held').where({ 'held.provider': provider, 'held.provider_ref': ref }),
      )
      .update({ provider_ref: ref })
      .returning('*')) as Row[];
    if (rows.length === 0) return undefined;
    this.onChange(id);
    return toSubscription(rows[0]!);
  }

  async list(
    filter: { storefrontId?: string; customerId?: string; statuses?: SubscriptionStatus[] },
    page: PageRequest,
  ): Promise<Subscription[]> {
    const query = this.db('subscriptions').orderBy('id').limit(page.size);
    if (filter.storefrontId) query.where('storefront_id', filter.storefrontId);
    if (filter.customerId) query.where('customer_id', filter.customerId);
    if (filter.statuses?.length) query.whereIn('status', filter.statuses);
    if (page.afterId) query.where('id', '>', page.afterId);
    return (await query).map(toSubscription);
  }

  async latestOfCustomer(customerId: string): Promise<Subscription | undefined> {
    const row = await this.db('subscriptions').where('customer_id', customerId).orderBy('id', 'desc').first();
    return row ? toSubscription(row) : undefined;
  }

  async listDueForReconciliation(at: Date, limit: number): Promise<string[]> {
    return this.queue.listDue(at, limit);
  }

  async lockDueForReconciliation(id: string, at: Date): Promise<Subscription | undefined> {
    const row = await this.queue.lockDue(id, at);
    return row ? toSubscription(row) : undefined;
  }

  async scheduleReconciliation(id: string, at: Date): Promise<void> {
    await this.queue.setDue(id, at);
  }

  async update(s: Subscription): Promise<void> {
    this.refsInUse?.clear();
    await this.db('subscriptions').where({ id: s.id }).update(columns(s));
    this.onChange(s.id);
  }
}

function columns(s: Subscription) {
  return {
    plan_id: s.planId,
    quantity: s.quantity,
    provider_ref: s.providerRef ?? null,
    status: s.status,
    current_period_start: s.currentPeriodStart ?? null,
    current_period_end: s.currentPeriodEnd ?? null,
    trial_end: s.trialEnd ?? null,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt ?? null,
    ended_at: s.endedAt ?? null,
    provider_observed_at: s.providerObservedAt ?? null,
    provider_observed_in_report: s.providerObservedInReport === true,
    checkout_session_ref: s.checkoutSessionRef ?? null,
    checkout_url: s.checkoutUrl ?? null,
    checkout_expires_at: s.checkoutExpiresAt ?? null,
    payment_method_ref: s.paymentMethodRef ?? null,
    version: s.version,
    updated_at: s.updatedAt,
  };
}

function toSubscription(row: Row): Subscription {
  return {
    id: row.id as string,
    storefrontId: row.storefront_id as string,
    customerId: row.customer_id as string,
    planId: row.plan_id as string,
    quantity: asNumber(row.quantity),
    provider: row.provider as string,
    providerRef: (row.provider_ref as string | null) ?? undefined,
    status: row.status as SubscriptionStatus,
    currentPeriodStart: asOptionalDate(row.current_period_start),
    currentPeriodEnd: asOptionalDate(row.current_period_end),
    trialEnd: asOptionalDate(row.trial_end),
    cancelAtPeriodEnd: Boolean(row.cancel_at_period_end),
    canceledAt: asOptionalDate(row.canceled_at),
    endedAt: asOptionalDate(row.ended_at),
    providerObservedAt: asOptionalDate(row.provider_observed_at),
    providerObservedInReport: Boolean(row.provider_observed_in_report),
    checkoutSessionRef: (row.checkout_session_ref as string | null) ?? undefined,
    checkoutUrl: (row.checkout_url as string | null) ?? undefined,
    checkoutExpiresAt: asOptionalDate(row.checkout_expires_at),
    paymentMethodRef: (row.payment_method_ref as string | null) ?? undefined,
    version: asNumber(row.version),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}
