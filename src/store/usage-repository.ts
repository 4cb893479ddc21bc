import type { Knex } from 'knex';
import type { UsageRecord } from '../domain/usage';
import type { UsageRepository } from '../ports/store.port';
import { asBigInt } from './row-values';

type Row = Record<string, unknown>;

export class KnexUsageRepository implements UsageRepository {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async insert(record: UsageRecord, idempotencyKey: string): Promise<UsageRecord> {
    const inserted = await this.db('usage_records')
      .insert({
        id: record.id,
        subscription_id: record.subscriptionId,
        quantity: record.quantity.toString(),
        occurred_at: record.occurredAt,
        provider_ref: record.providerRef ?? null,
        idempotency_key: idempotencyKey,
        created_at: record.createdAt,
      })
      .onConflict(['subscription_id', 'idempotency_key'])
      .ignore()
      .returning('id');
    if (inserted.length > 0) return record;
    const first = await this.db('usage_records')
      .where({ subscription_id: record.subscriptionId, idempotency_key: idempotencyKey })
      .first();
    return toUsage(first);
  }

  async list(subscriptionId: string, period: { start?: Date; end?: Date }): Promise<UsageRecord[]> {
    const query = this.db('usage_records').where('subscription_id', subscriptionId).orderBy(['occurred_at', 'id']);
    if (period.start) query.where('occurred_at', '>=', period.start);
    if (period.end) query.where('occurred_at', '<', period.end);
    return (await query).map(toUsage);
  }
}

function toUsage(row: Row): UsageRecord {
  return {
    id: row.id as string,
    subscriptionId: row.subscription_id as string,
    quantity: asBigInt(row.quantity),
    occurredAt: new Date(row.occurred_at as string),
    providerRef: (row.provider_ref as string | null) ?? undefined,
    createdAt: new Date(row.created_at as string),
  };
}
