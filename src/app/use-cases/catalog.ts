import { notFound } from '../../domain/errors';
import { newId } from '../../domain/ids';
import { MoneyInput, resolveMoney } from '../../domain/money';
import { IntervalUnit, MAX_INTERVAL_COUNT, Plan } from '../../domain/plan';
import type { Storefront } from '../../domain/storefront';
import { Validator } from '../../domain/validation';
import type { Clock } from '../../ports/clock.port';
import type { Repositories, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import { pageOf, readPage } from './pagination';
import type { ProviderRegistry } from '../providers/provider-registry';
import { hasTrials, trialsUnsupported } from '../providers/provider-capabilities';
import { recordChange } from '../engine/record-change';

export interface CreatePlanInput {
  storefrontId: string;
  name: string;
  price?: MoneyInput;
  interval?: { unit?: IntervalUnit; count: number };
  trialDays: number;
  featureKeys: string[];
  providerRefs: Record<string, string>;
}

const FEATURE_KEY = /^[a-z0-9][a-z0-9._:-]{0,99}$/;
const MAX_TRIAL_DAYS = 730;

/** Plans a storefront sells, with their references at each provider. */
export class CatalogUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly registry: ProviderRegistry,
    private readonly clock: Clock,
  ) {}

  async create(input: CreatePlanInput, ctx: CallContext): Promise<Plan> {
    const v = new Validator().required('storefront_id', input.storefrontId);
    v.required('name', input.name).maxLength('name', input.name, 200);
    if (!input.interval?.unit) v.add('interval.unit', 'is required');
    else if (input.interval.count < 1 || input.interval.count > MAX_INTERVAL_COUNT[input.interval.unit]) {
      v.add('interval.count', `must be between 1 and ${MAX_INTERVAL_COUNT[input.interval.unit]}`);
    }
    if (input.trialDays < 0 || input.trialDays > MAX_TRIAL_DAYS) {
      v.add('trial_days', `must be between 0 and ${MAX_TRIAL_DAYS}`);
    }
    input.featureKeys.forEach((key, i) => {
      if (!FEATURE_KEY.test(key)) v.add(`feature_keys[${i}]`, 'must be lowercase letters, digits, . _ : -');
    });
    if (new Set(input.featureKeys).size !== input.featureKeys.length) v.add('feature_keys', 'must not repeat');
    this.validateRefs(v, input.providerRefs);
    v.check();
    const price = resolveMoney(input.price, 'price');
    if (price.amountMinor < 0n) new Validator().add('price.amount_minor', 'must not be negative').check();

    const plan: Plan = {
      id: newId('plan'),
      storefrontId: input.storefrontId,
      name: input.name.trim(),
      price,
      interval: { unit: input.interval!.unit!, count: input.interval!.count },
      trialDays: input.trialDays,
      featureKeys: input.featureKeys,
      providerRefs: { ...input.providerRefs },
      status: 'ACTIVE',
      createdAt: this.clock.now(),
    };
    return this.uow.transaction(async (repos) => {
      const storefront = await repos.storefronts.get(plan.storefrontId);
      if (!storefront) throw notFound('storefront', plan.storefrontId, 'storefront_id');
      const provider = storefront.binding.provider;
      const features = this.registry.find(provider)?.features;
      if (plan.trialDays > 0 && features && !hasTrials(features)) {
        throw trialsUnsupported([plan], provider, storefront.id);
      }
      await repos.plans.insert(plan);
      await this.recordChange(repos, storefront, plan, 'billing.plan.created', 'CreatePlan', ctx);
      return plan;
    }, ctx);
  }

  async get(planId: string): Promise<Plan> {
    return this.load(this.uow.reads, planId);
  }

  async list(storefrontId: string, includeArchived: boolean, pageSize: number, pageToken: string) {
    new Validator().required('storefront_id', storefrontId).check();
    const page = readPage(pageSize, pageToken);
    const plans = await this.uow.reads.plans.list(
      { storefrontId, includeArchived },
      { size: page.size + 1, afterId: page.after },
    );
    return pageOf(plans, page, (p) => p.id);
  }

  /** Stops new subscriptions to the plan. Archiving an archived plan changes nothing. */
  async archive(planId: string, ctx: CallContext): Promise<Plan> {
    return this.uow.transaction(async (repos) => {
      const plan = await this.load(repos, planId, true);
      if (plan.status === 'ARCHIVED') return plan;
      const archived: Plan = { ...plan, status: 'ARCHIVED', archivedAt: this.clock.now() };
      await repos.plans.update(archived);
      // The plan's foreign key guarantees its storefront exists.
      const storefront = (await repos.storefronts.get(plan.storefrontId))!;
      await this.recordChange(repos, storefront, archived, 'billing.plan.archived', 'ArchivePlan', ctx);
      return archived;
    }, ctx);
  }

  /** Sets or (with an empty reference) removes the plan's reference at one provider. */
  async setProviderReference(planId: string, provider: string, reference: string, ctx: CallContext): Promise<Plan> {
    this.registry.require(provider, 'provider');
    new Validator().maxLength('reference', reference, 200).check();
    return this.uow.transaction(async (repos) => {
      const plan = await this.load(repos, planId, true);
      const providerRefs = { ...plan.providerRefs };
      if (reference) providerRefs[provider] = reference;
      else delete providerRefs[provider];
      const updated: Plan = { ...plan, providerRefs };
      await repos.plans.update(updated);
      await repos.audit.record({
        ...ctx,
        action: 'SetPlanProviderReference',
        resourceType: 'plan',
        resourceId: plan.id,
        storefrontId: plan.storefrontId,
        details: { provider, reference },
      });
      return updated;
    }, ctx);
  }

  private validateRefs(v: Validator, refs: Record<string, string>) {
    for (const [provider, ref] of Object.entries(refs)) {
      if (!this.registry.find(provider)) v.add(`provider_refs.${provider}`, 'is not a known provider');
      else if (!ref.trim()) v.add(`provider_refs.${provider}`, 'must not be empty');
    }
  }

  private async load(repos: Repositories, id: string, forUpdate = false): Promise<Plan> {
    const plan = id ? await repos.plans.get(id, { forUpdate }) : undefined;
    if (!plan) throw notFound('plan', id, 'plan_id');
    return plan;
  }

  /** The plan's event (keyed by its storefront, whose tenant and provider it names) and audit row. */
  private async recordChange(
    repos: Repositories,
    storefront: Storefront,
    plan: Plan,
    type: 'billing.plan.created' | 'billing.plan.archived',
    action: string,
    ctx: CallContext,
  ): Promise<void> {
    await recordChange(repos, ctx, {
      events: [
        {
          type,
          key: storefront.id,
          aggregateId: plan.id,
          storefrontId: storefront.id,
          tenantId: storefront.tenantId,
          provider: storefront.binding.provider,
          data: { kind: 'plan', plan },
        },
      ],
      audit: {
        action,
        resourceType: 'plan',
        resourceId: plan.id,
        storefrontId: storefront.id,
      },
    });
  }
}
