import type { Knex } from 'knex';
import type { Invoice, InvoiceStatus, InvoiceType } from '../domain/invoice';
import type { InvoiceRepository, PageRequest } from '../ports/store.port';
import { asBigInt, asNumber, asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

export class KnexInvoiceRepository implements InvoiceRepository {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async lockOrInsert(i: Invoice & { providerRef: string }): Promise<Invoice | undefined> {
    // One round trip where a webhook sent two for a new invoice (the locked look-up, then the insert). The new row
    // goes as one JSON parameter typed by the table itself (in INSERT … SELECT, plain parameters would be text), its
    // columns those `update` writes and the ones set once.
    const row = insertedColumns(i);
    const names = Object.keys(row);
    const list = names.map(() => '??').join(', ');
    const { rows } = await this.db.raw<{ rows: Row[] }>(
      `WITH found AS (
         SELECT * FROM invoices WHERE subscription_id = ? AND provider_ref = ? LIMIT 1 FOR UPDATE
       ), inserted AS (
         INSERT INTO invoices (${list})
         SELECT ${list} FROM jsonb_populate_record(NULL::invoices, ?::jsonb)
         WHERE NOT EXISTS (SELECT 1 FROM found)
         RETURNING id
       )
       SELECT * FROM found`,
      [i.subscriptionId, i.providerRef, ...names, ...names, JSON.stringify(row)],
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

function insertedColumns(i: Invoice) {
  return {
    id: i.id,
    subscription_id: i.subscriptionId,
    customer_id: i.customerId,
    currency: i.amount.currency,
    created_at: i.createdAt,
    ...columns(i),
  };
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
