import type { Knex } from 'knex';
import type { Entitlement } from '../domain/entitlement';
import type { EntitlementRepository } from '../ports/store.port';
import { asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

export class KnexEntitlementRepository implements EntitlementRepository {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async insert(e: Entitlement): Promise<void> {
    await this.insertAll([e]);
  }

  async insertAll(entitlements: readonly Entitlement[]): Promise<void> {
    if (entitlements.length === 0) return;
    await this.db('entitlements').insert(
      entitlements.map((e) => ({
        id: e.id,
        customer_id: e.customerId,
        feature_key: e.featureKey,
        subscription_id: e.subscriptionId ?? null,
        active_from: e.activeFrom,
        active_until: e.activeUntil ?? null,
        provider_native: e.providerNative,
      })),
    );
  }

  async setActiveUntil(ids: readonly string[], activeUntil: Date | undefined): Promise<void> {
    if (ids.length === 0) return;
    await this.db('entitlements')
      .whereIn('id', [...ids])
      .update({ active_until: activeUntil ?? null });
  }

  async openOfSubscription(subscriptionId: string, at: Date): Promise<Entitlement[]> {
    const rows = await this.db('entitlements')
      .where('subscription_id', subscriptionId)
      .andWhere((q) => q.whereNull('active_until').orWhere('active_until', '>', at))
      .orderBy('id');
    return rows.map(toEntitlement);
  }

  async listOfCustomer(customerId: string, options: { featureKey?: string; activeAt?: Date }): Promise<Entitlement[]> {
    const query = this.db('entitlements').where('customer_id', customerId).orderBy('id');
    if (options.featureKey) query.where('feature_key', options.featureKey);
    if (options.activeAt) {
      const at = options.activeAt;
      query
        .where('active_from', '<=', at)
        .andWhere((q) => q.whereNull('active_until').orWhere('active_until', '>', at));
    }
    return (await query).map(toEntitlement);
  }

  async update(e: Entitlement): Promise<void> {
    await this.db('entitlements')
      .where({ id: e.id })
      .update({ active_until: e.activeUntil ?? null });
  }
}

function toEntitlement(row: Row): Entitlement {
  return {
    id: row.id as string,
    customerId: row.customer_id as string,
    featureKey: row.feature_key as string,
    subscriptionId: (row.subscription_id as string | null) ?? undefined,
    activeFrom: new Date(row.active_from as string),
    activeUntil: asOptionalDate(row.active_until),
    providerNative: Boolean(row.provider_native),
  };
}
