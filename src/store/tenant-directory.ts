import type { Knex } from 'knex';
import type { ScopedKind, TenantDirectory } from '../ports/tenant-directory.port';

/** For each kind: the query from its id to the owning storefront's tenant. */
const OWNER: Record<ScopedKind, (db: Knex, id: string) => Knex.QueryBuilder> = {
  storefront: (db, id) => db('storefronts').where('id', id).select('tenant_id'),
  plan: (db, id) => viaStorefront(db, 'plans', id),
  customer: (db, id) => viaStorefront(db, 'customers', id),
  subscription: (db, id) => viaStorefront(db, 'subscriptions', id),
  payment: (db, id) => viaStorefront(db, 'payments', id),
  'checkout session': (db, id) => viaStorefront(db, 'checkout_sessions', id),
  invoice: (db, id) =>
    db('invoices as o')
      .join('subscriptions as s', 's.id', 'o.subscription_id')
      .join('storefronts as f', 'f.id', 's.storefront_id')
      .where('o.id', id)
      .select('f.tenant_id'),
  refund: (db, id) =>
    db('refunds as o')
      .join('payments as p', 'p.id', 'o.payment_id')
      .join('storefronts as f', 'f.id', 'p.storefront_id')
      .where('o.id', id)
      .select('f.tenant_id'),
  // A dead letter keeps the storefront id its webhook named, which may not exist: its owner is then unknown ('').
  'dead letter': (db, id) =>
    db('dead_letters as o')
      .leftJoin('storefronts as f', 'f.id', 'o.storefront_id')
      .where('o.id', id)
      .select(db.raw("coalesce(f.tenant_id, '') as tenant_id")),
};

function viaStorefront(db: Knex, table: string, id: string): Knex.QueryBuilder {
  return db(`${table} as o`)
    .join('storefronts as f', 'f.id', 'o.storefront_id')
    .where('o.id', id)
    .select('f.tenant_id');
}

/** Reads the owning tenant of an object from the database. */
export class KnexTenantDirectory implements TenantDirectory {
  constructor(private readonly db: Knex) {}

  async tenantOf(kind: ScopedKind, id: string): Promise<string | undefined> {
    const row = await OWNER[kind](this.db, id).first();
    return row ? String(row.tenant_id) : undefined;
  }
}
