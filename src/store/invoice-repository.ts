import type { Knex } from 'knex';
import type { Invoice, InvoiceStatus, InvoiceType } from '../domain/invoice';
import type { InvoiceRepository, PageRequest } from '../ports/store.port';
import { asBigInt, asNumber, asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

export class KnexInvoiceRepository implements InvoiceRepository {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async lockOrInsert(i: Invoice & { providerRef: string }): Promise<Invoice | undefined> {
    // One round trip where a webhook sent two for a new invoice (the locked look-up, then the insert). The insert's
    // parameters are cast: in INSERT … SELECT an untyped parameter would be text.
    const { rows } = await this.db.raw<{ rows: Row[] }>(
      `WITH found AS (
         SELECT * FROM invoices WHERE subscription_id = ? AND provider_ref = ? LIMIT 1 FOR UPDATE
       ), inserted AS (
         INSERT INTO invoices (id, subscription_id, customer_id, currency, amount_minor, type, status, cycle_index,
                               period_start, period_end, provider_ref, created_at, updated_at)
         SELECT ?, ?, ?, ?, ?::bigint, ?, ?, ?::int, ?::timestamptz, ?::timestamptz, ?, ?::timestamptz, ?::timestamptz
         WHERE NOT EXISTS (SELECT 1 FROM found)
         RETURNING id
       )
       SELECT * FROM found`,
      [
        i.subscriptionId,
        i.providerRef,
        i.id,
        i.subscriptionId,
        i.customerId,
        i.amount.currency,
        i.amount.amountMinor.toString(),
        i.type,
        i.status,
        i.cycleIndex,
        i.periodStart?.toISOString() ?? null,
        i.periodEnd?.toISOString() ?? null,
        i.providerRef,
        i.createdAt.toISOString(),
        i.updatedAt.toISOString(),
      ],
    );
    return rows[0] ? toInvoice(rows[0]) : undefined;
  }

  async get(id: string, options?: { forUpdate?: boolean }): Promise<Invoice | undefined> {
    const query = this.db('invoices').where({ id }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toInvoice(row) : undefined;
  }

  async list(filter: { subscriptionId?: string; customerId?: string }, page: PageRequest): Promise<Invoice[]> {
    const query = this.db('invoices').orderBy('id').limit(page.size);
    if (filter.subscriptionId) query.where('subscription_id', filter.subscriptionId);
    if (filter.customerId) query.where('customer_id', filter.customerId);
    if (page.afterId) query.where('id', '>', page.afterId);
    return (await query).map(toInvoice);
  }

  async update(i: Invoice): Promise<void> {
    await this.db('invoices').where({ id: i.id }).update(columns(i));
  }
}

function columns(i: Invoice) {
  return {
    amount_minor: i.amount.amountMinor.toString(),
    type: i.type,
    status: i.status,
    cycle_index: i.cycleIndex,
    period_start: i.periodStart ?? null,
    period_end: i.periodEnd ?? null,
    provider_ref: i.providerRef ?? null,
    updated_at: i.updatedAt,
  };
}

function toInvoice(row: Row): Invoice {
  return {
    id: row.id as string,
    subscriptionId: row.subscription_id as string,
    customerId: row.customer_id as string,
    amount: { currency: (row.currency as string).trim(), amountMinor: asBigInt(row.amount_minor) },
    type: row.type as InvoiceType,
    status: row.status as InvoiceStatus,
    cycleIndex: asNumber(row.cycle_index),
    periodStart: asOptionalDate(row.period_start),
    periodEnd: asOptionalDate(row.period_end),
    providerRef: (row.provider_ref as string | null) ?? undefined,
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}
