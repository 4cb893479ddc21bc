import { failedPrecondition, notFound } from '../../domain/errors';
import { sharedEnvPrefix } from '../../domain/secret-reference';
import type { ProviderBinding, Storefront } from '../../domain/storefront';
import { Validator } from '../../domain/validation';
import type { Clock } from '../../ports/clock.port';
import type { ProviderCapability } from '../../ports/provider-adapter.port';
import type { Repositories, UnitOfWork } from '../../ports/store.port';
import type { BindingGuard } from '../providers/binding-guard';
import type { CallContext } from '../call-context';
import type { KnownTenants } from '../providers/known-tenants';
import { Page, pageOf, readPage } from './pagination';
import { capabilitiesOf, hasTrials } from '../providers/provider-capabilities';
import type { Plan } from '../../domain/plan';
import type { ProviderRegistry } from '../providers/provider-registry';
import { recordChange } from '../engine/record-change';

export interface CreateStorefrontInput {
  storefrontId: string;
  tenantId: string;
  name: string;
  country: string;
  defaultCurrency: string;
  provider: string;
  providerConfig: Record<string, string>;
  secretRefs: Record<string, string>;
}

export interface UpdateStorefrontInput {
  storefrontId: string;
  name?: string;
  country?: string;
  defaultCurrency?: string;
  providerConfig?: Record<string, string>;
  secretRefs?: Record<string, string>;
  expectedVersion: number;
}

export interface SwitchProviderInput {
  storefrontId: string;
  provider: string;
  providerConfig: Record<string, string>;
  secretRefs: Record<string, string>;
  reason: string;
}

/** A storefront with what its bound provider can do. */
export interface StorefrontView {
  storefront: Storefront;
  capabilities: readonly ProviderCapability[];
}

/** Storefronts and their provider bindings: create, read, update, switch provider, binding history. */
export class StorefrontUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly registry: ProviderRegistry,
    private readonly clock: Clock,
    private readonly guard: BindingGuard,
    private readonly tenants: KnownTenants,
  ) {}

  async create(input: CreateStorefrontInput, ctx: CallContext): Promise<StorefrontView> {
    const v = new Validator()
      .slug('storefront_id', input.storefrontId)
      .required('tenant_id', input.tenantId)
      .maxLength('tenant_id', input.tenantId, 64)
      .required('name', input.name)
      .maxLength('name', input.name, 200)
      .country('country', input.country, true)
      .currency('default_currency', input.defaultCurrency);
    // First every rule that needs no database (a bad request costs no query), then those that need every tenant.
    this.validateBinding(v, input.provider, input.tenantId, input.providerConfig, input.secretRefs, []);
    v.check();
    const known = await this.tenants.fresh(this.uow.reads);
    const tv = new Validator();
    const shared = sharedEnvPrefix(input.tenantId, known);
    if (shared) {
      // The other tenant is not named: a caller learns only that its id is unusable, not whose it clashes with.
      tv.add(
        'tenant_id',
        `has the env prefix ${shared} of another tenant (ids differing only in non-alphanumerics clash)`,
      );
    }
    this.validateBinding(tv, input.provider, input.tenantId, input.providerConfig, input.secretRefs, known);
    tv.check();

    const now = this.clock.now();
    const storefront: Storefront = {
      id: input.storefrontId,
      tenantId: input.tenantId,
      name: input.name.trim(),
      country: input.country,
      defaultCurrency: input.defaultCurrency,
      binding: this.binding(input.provider, input.providerConfig, input.secretRefs, now, ctx, 'created'),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const created = await this.uow.transaction(async (repos) => {
      await repos.storefronts.insert(storefront);
      await this.recordChange(repos, storefront, 'billing.storefront.created', 'CreateStorefront', ctx);
      return this.view(storefront);
    }, ctx);
    // A new tenant's prefix counts for this instance's next provider call at once (others within seconds).
    this.tenants.forget();
    return created;
  }

  async get(storefrontId: string): Promise<StorefrontView> {
    return this.view(await this.load(this.uow.reads, storefrontId));
  }

  async list(
    filter: { tenantId: string },
    pageSize: number,
    pageToken: string,
  ): Promise<{ items: StorefrontView[]; nextPageToken: string }> {
    const page: Page = readPage(pageSize, pageToken);
    const rows = await this.uow.reads.storefronts.list(
      { tenantId: filter.tenantId || undefined },
      { size: page.size + 1, afterId: page.after },
    );
    const result = pageOf(rows, page, (s) => s.id);
    return { items: result.items.map((s) => this.view(s)), nextPageToken: result.nextPageToken };
  }

  async update(input: UpdateStorefrontInput, ctx: CallContext): Promise<StorefrontView> {
    const v = new Validator();
    if (input.name !== undefined) v.required('name', input.name).maxLength('name', input.name, 200);
    if (input.country !== undefined) v.country('country', input.country, true);
    if (input.defaultCurrency !== undefined) v.currency('default_currency', input.defaultCurrency);
    v.check();

    return this.uow.transaction(async (repos) => {
      const current = await this.load(repos, input.storefrontId, true);
      if (input.expectedVersion && input.expectedVersion !== current.version) {
        throw failedPrecondition(
          `storefront '${current.id}' is at version ${current.version}, not expected_version ${input.expectedVersion}`,
        );
      }
      const config = input.providerConfig ?? current.binding.config;
      const secretRefs = input.secretRefs ?? current.binding.secretRefs;
      const bv = new Validator();
      const known = await this.tenants.fresh(repos);
      this.validateBinding(bv, current.binding.provider, current.tenantId, config, secretRefs, known);
      bv.check();
      const next: Storefront = {
        ...current,
        name: input.name?.trim() ?? current.name,
        country: input.country ?? current.country,
        defaultCurrency: input.defaultCurrency ?? current.defaultCurrency,
        binding: { ...current.binding, config, secretRefs },
        version: current.version + 1,
        updatedAt: this.clock.now(),
      };
      await repos.storefronts.update(next);
      await repos.storefronts.updateCurrentBinding(next.id, config, secretRefs);
      await this.recordChange(repos, next, 'billing.storefront.updated', 'UpdateStorefront', ctx);
      return this.view(next);
    }, ctx);
  }

  /** Binds the storefront to another provider; subscriptions already created stay pinned to theirs. */
  async switchProvider(input: SwitchProviderInput, ctx: CallContext): Promise<StorefrontView> {
    const v = new Validator().required('reason', input.reason).maxLength('reason', input.reason, 500);
    // Secret references are the storefront tenant's (a tenant never changes); an unknown storefront is NOT_FOUND below.
    const tenantId = (await this.uow.reads.storefronts.get(input.storefrontId))?.tenantId;
    const known = await this.tenants.fresh(this.uow.reads);
    const adapter = this.validateBinding(v, input.provider, tenantId, input.providerConfig, input.secretRefs, known);
    v.check();

    return this.uow.transaction(async (repos) => {
      const current = await this.load(repos, input.storefrontId, true);
      if (current.binding.provider === input.provider) {
        throw failedPrecondition(
          `storefront '${current.id}' is already bound to ${input.provider}; use UpdateStorefront to change its config`,
        );
      }
      const pricing = adapter?.features.pricing;
      if (pricing?.by === 'reference') {
        const missing = await this.plansWithoutReference(repos, current.id, input.provider);
        if (missing.length > 0) {
          throw failedPrecondition(
            `storefront '${current.id}' cannot switch to ${input.provider}: active plans without a ` +
              `${input.provider} ${pricing.referenceName}: ${missing.join(', ')} (set one with SetPlanProviderReference)`,
          );
        }
      }
      if (adapter && !hasTrials(adapter.features)) {
        const withTrials = (await this.activePlans(repos, current.id)).filter((plan) => plan.trialDays > 0);
        if (withTrials.length > 0) {
          throw failedPrecondition(
            `storefront '${current.id}' cannot switch to ${input.provider}: it has no free trials, and active plans ` +
              `have one: ${withTrials.map((p) => `${p.id} (${p.trialDays} days)`).join(', ')} ` +
              `(archive them, or sell them without a trial as new plans)`,
          );
        }
      }
      const now = this.clock.now();
      const binding = this.binding(input.provider, input.providerConfig, input.secretRefs, now, ctx, input.reason);
      const next: Storefront = { ...current, binding, version: current.version + 1, updatedAt: now };
      await repos.storefronts.update(next);
      await repos.storefronts.replaceBinding(current.id, binding, now);
      await this.recordChange(repos, next, 'billing.storefront.provider_switched', 'SwitchProvider', ctx, {
        from: current.binding.provider,
        to: input.provider,
        reason: input.reason,
      });
      return this.view(next);
    }, ctx);
  }

  async listBindings(storefrontId: string): Promise<ProviderBinding[]> {
    await this.load(this.uow.reads, storefrontId);
    return this.uow.reads.storefronts.listBindings(storefrontId);
  }

  private async plansWithoutReference(repos: Repositories, storefrontId: string, provider: string): Promise<string[]> {
    return (await this.activePlans(repos, storefrontId)).filter((p) => !p.providerRefs[provider]).map((p) => p.id);
  }

  /** Every plan the storefront still sells (not archived), page by page. */
  private async activePlans(repos: Repositories, storefrontId: string): Promise<Plan[]> {
    const all: Plan[] = [];
    let afterId: string | undefined;
    for (;;) {
      const plans = await repos.plans.list({ storefrontId, includeArchived: false }, { size: 500, afterId });
      all.push(...plans);
      if (plans.length < 500) return all;
      afterId = plans[plans.length - 1]!.id;
    }
  }

  /** The provider's own rules, then where the binding may reach: URLs on its hosts, secrets of `tenantId` only. */
  private validateBinding(
    v: Validator,
    provider: string,
    tenantId: string | undefined,
    config: Record<string, string>,
    secretRefs: Record<string, string>,
    knownTenants: readonly string[],
  ) {
    const adapter = provider ? this.registry.find(provider) : undefined;
    if (!provider) v.add('provider', 'is required');
    else if (!adapter) v.add('provider', `unknown provider '${provider}'; one of ${this.registry.ids().join(', ')}`);
    for (const violation of adapter?.module.validateBinding?.(config, secretRefs) ?? []) {
      v.add(violation.field, violation.rule);
    }
    // Never echo a reference or URL: either may be a secret pasted by mistake.
    for (const violation of this.guard.violations(adapter?.module, tenantId, config, secretRefs, knownTenants)) {
      v.add(violation.field, violation.rule);
    }
    return adapter;
  }

  private binding(
    provider: string,
    config: Record<string, string>,
    secretRefs: Record<string, string>,
    at: Date,
    ctx: CallContext,
    reason: string,
  ): ProviderBinding {
    return { provider, config: { ...config }, secretRefs: { ...secretRefs }, validFrom: at, actor: ctx.actor, reason };
  }

  private async load(repos: Repositories, id: string, forUpdate = false): Promise<Storefront> {
    const storefront = id ? await repos.storefronts.get(id, { forUpdate }) : undefined;
    if (!storefront) throw notFound('storefront', id, 'storefront_id');
    return storefront;
  }

  private async recordChange(
    repos: Repositories,
    storefront: Storefront,
    type: 'billing.storefront.created' | 'billing.storefront.updated' | 'billing.storefront.provider_switched',
    action: string,
    ctx: CallContext,
    details?: Record<string, unknown>,
  ): Promise<void> {
    await recordChange(repos, ctx, {
      events: [
        {
          type,
          key: storefront.id,
          aggregateId: storefront.id,
          storefrontId: storefront.id,
          tenantId: storefront.tenantId,
          provider: storefront.binding.provider,
          data: { kind: 'storefront', storefront },
        },
      ],
      audit: {
        action,
        resourceType: 'storefront',
        resourceId: storefront.id,
        storefrontId: storefront.id,
        details: { provider: storefront.binding.provider, version: storefront.version, ...details },
      },
    });
  }

  private view(storefront: Storefront): StorefrontView {
    return { storefront, capabilities: capabilitiesOfProvider(this.registry, storefront.binding.provider) };
  }
}

function capabilitiesOfProvider(registry: ProviderRegistry, provider: string): ProviderCapability[] {
  const adapter = registry.find(provider);
  return adapter ? capabilitiesOf(adapter) : [];
}
