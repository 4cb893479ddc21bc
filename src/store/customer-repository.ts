import type { Knex } from 'knex';
import { Address, Customer, normalizeEmail } from '../domain/customer';
import { alreadyExists } from '../domain/errors';
import type { CustomerRepository, PageRequest } from '../ports/store.port';
import type { JournalLead } from './change-journal';
import { isUniqueViolation } from './database';
import { asJson, asNumber } from './row-values';

type Row = Record<string, unknown>;

export class KnexCustomerRepository implements CustomerRepository {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async insert(customer: Customer): Promise<boolean> {
    const inserted = await this.db('customers')
      .insert({
        id: customer.id,
        storefront_id: customer.storefrontId,
        ...columns(customer),
        created_at: customer.createdAt,
      })
      .onConflict(['storefront_id', 'email_normalized'])
      .ignore()
      .returning('id');
    return inserted.length > 0;
  }

  async get(id: string, options?: { forUpdate?: boolean }): Promise<Customer | undefined> {
    const query = this.db('customers').where({ id }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toCustomer(row) : undefined;
  }

  async findByEmail(storefrontId: string, email: string): Promise<Customer | undefined> {
    const row = await this.db('customers')
      .where({ storefront_id: storefrontId, email_normalized: normalizeEmail(email) })
      .first();
    return row ? toCustomer(row) : undefined;
  }

  async findByProviderRef(storefrontId: string, provider: string, ref: string): Promise<Customer | undefined> {
    // Containment, which the GIN index on provider_refs answers without reading the storefront's customers. No
    // LIMIT (a reference names one customer): under one, the generic plan a prepared statement settles on walked the
    // storefront's customers, expecting to meet a match soon.
    const [row] = await this.db('customers')
      .where('storefront_id', storefrontId)
      .whereRaw('provider_refs @> jsonb_build_object(?::text, ?::text)', [provider, ref]);
    return row ? toCustomer(row) : undefined;
  }

  async list(
    filter: { storefrontId: string; email?: string; externalRef?: string },
    page: PageRequest,
  ): Promise<Customer[]> {
    const query = this.db('customers').where('storefront_id', filter.storefrontId).orderBy('id').limit(page.size);
    if (filter.email) query.where('email_normalized', normalizeEmail(filter.email));
    if (filter.externalRef) query.where('external_ref', filter.externalRef);
    if (page.afterId) query.where('id', '>', page.afterId);
    return (await query).map(toCustomer);
  }

  async rememberProviderRef(id: string, provider: string, ref: string): Promise<void> {
    await this.db.raw(
      `UPDATE customers SET provider_refs = provider_refs || jsonb_build_object(?::text, ?::text)
        WHERE id = ? AND provider_refs ->> ?::text IS DISTINCT FROM ?::text`,
      [provider, ref, id, provider, ref],
    );
  }

  async update(customer: Customer): Promise<void> {
    try {
      await this.db('customers').where({ id: customer.id }).update(columns(customer));
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadyExists('email: another customer of this storefront has it');
      throw error;
    }
  }
}

/**
 * A new customer as the lead row of a change journal (`ChangeJournal.lead`): inserted unless its storefront already
 * has the email, the same rule as `insert`.
 */
export function customerLead(customer: Customer): JournalLead {
  const row: Record<string, Knex.RawBinding> = {
    id: customer.id,
    storefront_id: customer.storefrontId,
    ...columns(customer),
    created_at: customer.createdAt,
  };
  return {
    table: 'customers',
    columns: Object.keys(row),
    values: Object.keys(row)
      .map((column) => `?${CASTS[column] ?? ''}`)
      .join(', '),
    bindings: Object.values(row),
    conflict: ['storefront_id', 'email_normalized'],
  };
}

/** Column types other than text, for values read as a SELECT's (where nothing tells PostgreSQL their type). */
const CASTS: Record<string, string> = {
  address: '::jsonb',
  provider_refs: '::jsonb',
  version: '::bigint',
  created_at: '::timestamptz',
  updated_at: '::timestamptz',
};

function columns(c: Customer) {
  return {
    external_ref: c.externalRef,
    email: c.email,
    email_normalized: normalizeEmail(c.email),
    name: c.name,
    phone: c.phone,
    country: c.country,
    address: c.address ? JSON.stringify(c.address) : null,
    provider_refs: JSON.stringify(c.providerRefs),
    version: c.version,
    updated_at: c.updatedAt,
  };
}

function toCustomer(row: Row): Customer {
  return {
    id: row.id as string,
    storefrontId: row.storefront_id as string,
    externalRef: row.external_ref as string,
    email: row.email as string,
    name: row.name as string,
    phone: row.phone as string,
    country: row.country as string,
    address: row.address ? asJson<Address>(row.address) : undefined,
    providerRefs: asJson(row.provider_refs),
    version: asNumber(row.version),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}
