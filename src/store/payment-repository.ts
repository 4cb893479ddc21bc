import type { Knex } from 'knex';
import { ReconcileQueue } from './reconcile-queue';
import type { Failure, Payment, PaymentKind, PaymentStatus, RefundState } from '../domain/payment';
import type { PageRequest, PaymentRepository } from '../ports/store.port';
import { asBigInt, asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

export class KnexPaymentRepository implements PaymentRepository {
  private readonly queue: ReconcileQueue;
  /**
   * Within a transaction, the payment holding each provider reference as this transaction first read it. A webhook
   * reads it before asking its provider and again before locking: one statement instead of two. A payment another
   * transaction records meanwhile is still found: by the locked read that follows where one was seen, else by the
   * new payment's insert, which finds the reference held (paymentScope, recordedMeanwhile). Forgotten whenever this
   * transaction writes a payment. Not on `uow.reads`, which must see other writers' changes.
   */
  private readonly holders?: Map<string, Payment | undefined>;

  constructor(
    private readonly db: Knex | Knex.Transaction,
    options: { withinTransaction?: boolean } = {},
  ) {
    this.queue = new ReconcileQueue(db, 'payments', 'REQUIRES_PAYMENT_METHOD', 'reconcile_at');
    if (options.withinTransaction) this.holders = new Map();
  }

  async insert(p: Payment): Promise<void> {
    this.holders?.clear();
    await this.db('payments').insert(insertedColumns(p));
  }

  async insertUnlessHeld(p: Payment): Promise<boolean> {
    if (!p.providerRef) throw new Error('insertUnlessHeld: the payment names no provider reference');
    this.holders?.clear();
    const inserted = await this.db('payments')
      .insert(insertedColumns(p))
      .onConflict(['provider', 'provider_ref'])
      .ignore()
      .returning('id');
    return inserted.length > 0;
  }

  async get(id: string, options?: { forUpdate?: boolean; storefrontId?: string }): Promise<Payment | undefined> {
    const query = this.db('payments').where({ id }).first();
    if (options?.storefrontId !== undefined) query.where({ storefront_id: options.storefrontId });
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toPayment(row) : undefined;
  }

  async findByProviderRef(storefrontId: string, provider: string, ref: string, options?: { forUpdate?: boolean }) {
    const query = this.db('payments').where({ storefront_id: storefrontId, provider, provider_ref: ref }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toPayment(row) : undefined;
  }

  async holdingProviderRef(provider: string, ref: string): Promise<Payment | undefined> {
    const key = `${provider}\u0000${ref}`;
    if (this.holders?.has(key)) return structuredClone(this.holders.get(key));
    const row = await this.db('payments').where({ provider, provider_ref: ref }).first();
    const holder = row ? toPayment(row) : undefined;
    this.holders?.set(key, structuredClone(holder));
    return holder;
  }

  async fileUnderInvoice(
    storefrontId: string,
    provider: string,
    ref: string,
    invoiceId: string,
    at: Date,
  ): Promise<void> {
    this.holders?.clear();
    await this.db('payments')
      .where({ storefront_id: storefrontId, provider, provider_ref: ref })
      .whereRaw('invoice_id IS DISTINCT FROM ?', [invoiceId])
      .update({ invoice_id: invoiceId, updated_at: at });
  }

  async list(
    filter: { storefrontId?: string; customerId?: string; subscriptionId?: string },
    page: PageRequest,
  ): Promise<Payment[]> {
    const query = this.db('payments').orderBy('id').limit(page.size);
    if (filter.storefrontId) query.where('storefront_id', filter.storefrontId);
    if (filter.customerId) query.where('customer_id', filter.customerId);
    if (filter.subscriptionId) query.where('subscription_id', filter.subscriptionId);
    if (page.afterId) query.where('id', '>', page.afterId);
    return (await query).map(toPayment);
  }

  async listDueForReconciliation(at: Date, limit: number): Promise<string[]> {
    return this.queue.listDue(at, limit);
  }

  async lockDueForReconciliation(id: string, at: Date): Promise<Payment | undefined> {
    const row = await this.queue.lockDue(id, at);
    return row ? toPayment(row) : undefined;
  }

  async scheduleReconciliation(id: string, at: Date): Promise<void> {
    await this.queue.setDue(id, at);
  }

  async update(p: Payment): Promise<void> {
    this.holders?.clear();
    await this.db('payments').where({ id: p.id }).update(columns(p));
  }
}

function insertedColumns(p: Payment) {
  return {
    id: p.id,
    storefront_id: p.storefrontId,
    customer_id: p.customerId,
    provider: p.provider,
    currency: p.amount.currency,
    created_at: p.createdAt,
    // An open checkout is asked about once it has expired (the reconciler's bookkeeping, see migration 003).
    reconcile_at: p.status === 'REQUIRES_PAYMENT_METHOD' ? (p.checkoutExpiresAt ?? null) : null,
    ...columns(p),
  };
}

function columns(p: Payment) {
  return {
    subscription_id: p.subscriptionId ?? null,
    invoice_id: p.invoiceId ?? null,
    kind: p.kind,
    provider_ref: p.providerRef ?? null,
    amount_minor: p.amount.amountMinor.toString(),
    status: p.status,
    refund_state: p.refundState,
    refunded_minor: p.refundedMinor.toString(),
    failure_code: p.failure?.code ?? null,
    failure_message: p.failure?.message ?? null,
    checkout_session_ref: p.checkoutSessionRef ?? null,
    checkout_expires_at: p.checkoutExpiresAt ?? null,
    updated_at: p.updatedAt,
  };
}

export function failureOf(row: Row): Failure | undefined {
  return row.failure_code || row.failure_message
    ? { code: (row.failure_code as string) ?? '', message: (row.failure_message as string) ?? '' }
    : undefined;
}

function toPayment(row: Row): Payment {
  return {
    id: row.id as string,
    storefrontId: row.storefront_id as string,
    customerId: row.customer_id as string,
    subscriptionId: (row.subscription_id as string | null) ?? undefined,
    invoiceId: (row.invoice_id as string | null) ?? undefined,
    kind: row.kind as PaymentKind,
    provider: row.provider as string,
    providerRef: (row.provider_ref as string | null) ?? undefined,
    amount: { currency: (row.currency as string).trim(), amountMinor: asBigInt(row.amount_minor) },
    status: row.status as PaymentStatus,
    refundState: row.refund_state as RefundState,
    refundedMinor: asBigInt(row.refunded_minor),
    failure: failureOf(row),
    checkoutSessionRef: (row.checkout_session_ref as string | null) ?? undefined,
    checkoutExpiresAt: asOptionalDate(row.checkout_expires_at),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}
