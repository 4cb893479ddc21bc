import type { Knex } from 'knex';
import { alreadyExists } from '../domain/errors';
import type { ProviderBinding, Storefront } from '../domain/storefront';
import type { PageRequest, StorefrontRepository } from '../ports/store.port';
import { asJson, asNumber, asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

export class KnexStorefrontRepository implements StorefrontRepository {
  constructor(
    private readonly db: Knex | Knex.Transaction,
    /**
     * A storefront or its binding was written: the unit of work tells this replica's cache after the commit (the
     * others hear of it from the tables' triggers, migration 016).
     */
    private readonly onChange: (storefrontId: string) => void = () => undefined,
  ) {}

  async insert(s: Storefront): Promise<void> {
    const inserted = await this.db('storefronts')
      .insert({
        id: s.id,
        tenant_id: s.tenantId,
        name: s.name,
        country: s.country,
        default_currency: s.defaultCurrency,
        version: s.version,
        created_at: s.createdAt,
        updated_at: s.updatedAt,
      })
      .onConflict('id')
      .ignore()
      .returning('id');
    if (inserted.length === 0) throw alreadyExists(`storefront_id: storefront '${s.id}' already exists`);
    await this.insertBinding(s.id, s.binding);
    this.onChange(s.id);
  }

  async get(id: string, options?: { forUpdate?: boolean }): Promise<Storefront | undefined> {
    const query = this.withCurrentBinding().where('s.id', id).first();
    const row = await (options?.forUpdate ? query.forUpdate('s') : query);
    return row ? toStorefront(row) : undefined;
  }

  async list(filter: { tenantId?: string }, page: PageRequest): Promise<Storefront[]> {
    const query = this.withCurrentBinding().orderBy('s.id').limit(page.size);
    if (filter.tenantId) query.where('s.tenant_id', filter.tenantId);
    if (page.afterId) query.where('s.id', '>', page.afterId);
    return (await query).map(toStorefront);
  }

  async tenants(): Promise<string[]> {
    const rows: Row[] = await this.db('storefronts').distinct('tenant_id');
    return rows.map((row) => String(row.tenant_id));
  }

  async update(s: Storefront): Promise<void> {
    await this.db('storefronts').where({ id: s.id }).update({
      name: s.name,
      country: s.country,
      default_currency: s.defaultCurrency,
      version: s.version,
      updated_at: s.updatedAt,
    });
    this.onChange(s.id);
  }

  async updateCurrentBinding(
    storefrontId: string,
    config: Record<string, string>,
    secretRefs: Record<string, string>,
  ): Promise<void> {
    await this.db('storefront_bindings')
      .where({ storefront_id: storefrontId })
      .whereNull('valid_until')
      .update({ provider_config: JSON.stringify(config), secret_refs: JSON.stringify(secretRefs) });
    this.onChange(storefrontId);
  }

  async replaceBinding(storefrontId: string, binding: ProviderBinding, at: Date): Promise<void> {
    await this.db('storefront_bindings')
      .where({ storefront_id: storefrontId })
      .whereNull('valid_until')
      .update({ valid_until: at });
    await this.insertBinding(storefrontId, binding);
    this.onChange(storefrontId);
  }

  async listBindings(storefrontId: string): Promise<ProviderBinding[]> {
    const rows = await this.db('storefront_bindings').where({ storefront_id: storefrontId }).orderBy('id');
    return rows.map(toBinding);
  }

  private async insertBinding(storefrontId: string, b: ProviderBinding): Promise<void> {
    await this.db('storefront_bindings').insert({
      storefront_id: storefrontId,
      provider: b.provider,
      provider_config: JSON.stringify(b.config),
      secret_refs: JSON.stringify(b.secretRefs),
      valid_from: b.validFrom,
      actor: b.actor,
      reason: b.reason,
    });
  }

  private withCurrentBinding() {
    return this.db('storefronts as s')
      .join('storefront_bindings as b', function () {
        this.on('b.storefront_id', 's.id').andOnNull('b.valid_until');
      })
      .select(
        's.*',
        'b.provider',
        'b.provider_config',
        'b.secret_refs',
        'b.valid_from',
        'b.valid_until',
        'b.actor',
        'b.reason',
      );
  }
}

function toStorefront(row: Row): Storefront {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    name: row.name as string,
    country: row.country as string,
    defaultCurrency: row.default_currency as string,
    binding: toBinding(row),
    version: asNumber(row.version),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}

function toBinding(row: Row): ProviderBinding {
  return {
    provider: row.provider as string,
    config: asJson(row.provider_config),
    secretRefs: asJson(row.secret_refs),
    validFrom: new Date(row.valid_from as string),
    validUntil: asOptionalDate(row.valid_until),
    actor: row.actor as string,
    reason: row.reason as string,
  };
}
