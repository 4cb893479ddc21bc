import type { Knex } from 'knex';
import { ReconcileQueue } from './reconcile-queue';
import type { Refund, RefundStatus } from '../domain/payment';
import type { PageRequest, RefundRepository } from '../ports/store.port';
import { failureOf } from './payment-repository';
import { asBigInt } from './row-values';

type Row = Record<string, unknown>;

export class KnexRefundRepository implements RefundRepository {
  private readonly queue: ReconcileQueue;

  constructor(private readonly db: Knex | Knex.Transaction) {
    this.queue = new ReconcileQueue(db, 'refunds', 'PENDING', 'last_checked_at');
  }

  async insert(r: Refund): Promise<void> {
    await this.db('refunds').insert({
      id: r.id,
      payment_id: r.paymentId,
      currency: r.amount.currency,
      amount_minor: r.amount.amountMinor.toString(),
      reason: r.reason,
      created_at: r.createdAt,
      last_checked_at: r.createdAt,
      ...columns(r),
    });
  }

  async get(id: string, options?: { forUpdate?: boolean }): Promise<Refund | undefined> {
    const query = this.db('refunds').where({ id }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toRefund(row) : undefined;
  }

  async findByProviderRef(paymentId: string, ref: string, options?: { forUpdate?: boolean }) {
    const query = this.db('refunds').where({ payment_id: paymentId, provider_ref: ref }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toRefund(row) : undefined;
  }

  async listOfPayment(paymentId: string, page: PageRequest): Promise<Refund[]> {
    const query = this.db('refunds').where('payment_id', paymentId).orderBy('id').limit(page.size);
    if (page.afterId) query.where('id', '>', page.afterId);
    return (await query).map(toRefund);
  }

  async listDueForReconciliation(at: Date, limit: number): Promise<string[]> {
    return this.queue.listDue(at, limit);
  }

  async lockDueForReconciliation(id: string, at: Date): Promise<Refund | undefined> {
    const row = await this.queue.lockDue(id, at);
    return row ? toRefund(row) : undefined;
  }

  async markChecked(id: string, at: Date): Promise<void> {
    await this.queue.setDue(id, at);
  }

  async update(r: Refund): Promise<void> {
    await this.db('refunds').where({ id: r.id }).update(columns(r));
  }
}

function columns(r: Refund) {
  return {
    status: r.status,
    provider_ref: r.providerRef ?? null,
    failure_code: r.failure?.code ?? null,
    failure_message: r.failure?.message ?? null,
    updated_at: r.updatedAt,
  };
}

function toRefund(row: Row): Refund {
  return {
    id: row.id as string,
    paymentId: row.payment_id as string,
    amount: { currency: (row.currency as string).trim(), amountMinor: asBigInt(row.amount_minor) },
    reason: row.reason as string,
    status: row.status as RefundStatus,
    providerRef: (row.provider_ref as string | null) ?? undefined,
    failure: failureOf(row),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}
