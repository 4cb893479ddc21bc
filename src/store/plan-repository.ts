import type { Knex } from 'knex';
import type { IntervalUnit, Plan, PlanStatus } from '../domain/plan';
import type { PageRequest, PlanRepository } from '../ports/store.port';
import { asBigInt, asJson, asNumber, asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

export class KnexPlanRepository implements PlanRepository {
  /**
   * Plans this transaction has read or written, by id. A webhook's transaction asks for the same plan from several
   * steps (the payment, the subscription's change, its entitlements): one statement instead of three. Only within a
   * transaction: the repository of `uow.reads` lives as long as the process and must see other writers' changes.
   */
  private readonly known?: Map<string, Plan>;

  constructor(
    private readonly db: Knex | Knex.Transaction,
    options: { withinTransaction?: boolean } = {},
  ) {
    if (options.withinTransaction) this.known = new Map();
  }

  async insert(plan: Plan): Promise<void> {
    await this.db('plans').insert({
      id: plan.id,
      storefront_id: plan.storefrontId,
      ...columns(plan),
      created_at: plan.createdAt,
    });
    this.remember(plan);
  }

  async get(id: string, options?: { forUpdate?: boolean }): Promise<Plan | undefined> {
    const known = options?.forUpdate ? undefined : this.known?.get(id);
    if (known) return structuredClone(known);
    const query = this.db('plans').where({ id }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    const plan = row ? toPlan(row) : undefined;
    if (plan) this.remember(plan);
    return plan;
  }

  async list(filter: { storefrontId: string; includeArchived: boolean }, page: PageRequest): Promise<Plan[]> {
    const query = this.db('plans').where('storefront_id', filter.storefrontId).orderBy('id').limit(page.size);
    if (!filter.includeArchived) query.where('status', 'ACTIVE');
    if (page.afterId) query.where('id', '>', page.afterId);
    return (await query).map(toPlan);
  }

  async findByProviderRef(storefrontId: string, provider: string, ref: string): Promise<Plan | undefined> {
    const row = await this.db('plans')
      .where('storefront_id', storefrontId)
      .whereRaw('provider_refs ->> ? = ?', [provider, ref])
      .orderBy('id')
      .first();
    return row ? toPlan(row) : undefined;
  }

  async update(plan: Plan): Promise<void> {
    await this.db('plans').where({ id: plan.id }).update(columns(plan));
    this.remember(plan);
  }

  /** A copy, so what the caller changes afterwards is not what this transaction remembers. */
  private remember(plan: Plan): void {
    this.known?.set(plan.id, structuredClone(plan));
  }
}

function columns(plan: Plan) {
  return {
    name: plan.name,
    currency: plan.price.currency,
    amount_minor: plan.price.amountMinor.toString(),
    interval_unit: plan.interval.unit,
    interval_count: plan.interval.count,
    trial_days: plan.trialDays,
    feature_keys: JSON.stringify(plan.featureKeys),
    provider_refs: JSON.stringify(plan.providerRefs),
    status: plan.status,
    archived_at: plan.archivedAt ?? null,
  };
}

function toPlan(row: Row): Plan {
  return {
    id: row.id as string,
    storefrontId: row.storefront_id as string,
    name: row.name as string,
    price: { currency: row.currency as string, amountMinor: asBigInt(row.amount_minor) },
    interval: { unit: row.interval_unit as IntervalUnit, count: asNumber(row.interval_count) },
    trialDays: asNumber(row.trial_days),
    featureKeys: asJson(row.feature_keys),
    providerRefs: asJson(row.provider_refs),
    status: row.status as PlanStatus,
    createdAt: new Date(row.created_at as string),
    archivedAt: asOptionalDate(row.archived_at),
  };
}
