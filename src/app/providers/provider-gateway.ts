import { randomUUID } from 'node:crypto';
import { DomainError, failedPrecondition, unavailable } from '../../domain/errors';
import type { ProviderBinding, Storefront } from '../../domain/storefront';
import type {
  ProviderCallContext,
  ProviderFeatures,
  ProviderOperations,
  ProviderPreflight,
  WebhookSecrets,
} from '../../ports/provider-adapter.port';
import { OPERATION_RPC } from '../../ports/provider-adapter.port';
import { SecretReferenceError, SecretResolver } from '../../ports/secret-resolver.port';
import type { Repositories } from '../../ports/store.port';
import { checkedOperation } from './answer-check';
import type { BindingGuard } from './binding-guard';
import type { CallContext } from '../call-context';
import type { KnownTenants } from './known-tenants';
import { notSupported } from './provider-capabilities';
import type { LoadedProvider, ProviderRegistry } from './provider-registry';

/** One provider, reached through the storefront binding that applies to it. */
export interface ProviderConnection {
  provider: LoadedProvider;
  ctx: ProviderCallContext;
  /** The provider's own rules, checked before anything is written or sent (see ProviderPreflight). */
  preflight: ProviderPreflight;
  /** The operation, or UNIMPLEMENTED naming storefront, provider and operation when the provider lacks it. */
  operation<K extends keyof ProviderOperations>(name: K): NonNullable<ProviderOperations[K]>;
  /** The operation, or undefined when the provider lacks it (for steps that are skipped then, not refused). */
  optional<K extends keyof ProviderOperations>(name: K): ProviderOperations[K] | undefined;
}

/**
 * Routes calls to providers. A subscription's calls go to the provider it is pinned to, through that provider's
 * binding on the storefront: the current one, or the latest past one after a switch, so a switch never strands
 * an existing subscription.
 */
export class ProviderGateway {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly secrets: SecretResolver,
    private readonly guard: BindingGuard,
    private readonly tenants: KnownTenants,
    /** How providers reach our webhook ingress (`PUBLIC_BASE_URL`), without a trailing slash. */
    private readonly publicBaseUrl: string,
  ) {}

  /** `storefront` is the subscription's (or caller's) storefront, already loaded by the use case. */
  async connect(
    repos: Repositories,
    storefront: Storefront,
    provider: string,
    call: Pick<CallContext, 'signal' | 'idempotencyKey'>,
  ): Promise<ProviderConnection> {
    const storefrontId = storefront.id;
    const loaded = this.registry.find(provider);
    if (!loaded) throw unavailable(`provider '${provider}' is not available in this build`);
    const binding = await this.bindingFor(repos, storefront, provider);
    // Read per call: a tenant created since the binding was written may now own part of its env names.
    const known = await this.tenants.list(repos);
    this.assertUsable(storefront, loaded, binding, known);
    const ctx: ProviderCallContext = {
      storefrontId,
      config: binding.config,
      secrets: await this.resolveSecrets(storefront, binding, known),
      signal: call.signal,
      // Without a caller key, one logical call still keeps one key across the adapter's own retries.
      idempotencyKey: call.idempotencyKey ?? randomUUID(),
      webhookUrl: this.webhookUrl(provider, storefrontId),
    };
    // Every answer is checked storable before the use case sees it (answer-check.ts).
    const optional = <K extends keyof ProviderOperations>(name: K): ProviderOperations[K] | undefined => {
      const op = loaded.operations[name]?.bind(loaded.operations) as ProviderOperations[K] | undefined;
      return op && checkedOperation(name, op, provider, storefrontId);
    };
    return {
      provider: loaded,
      ctx,
      preflight: loaded.preflight,
      optional,
      operation: (name) => {
        const op = optional(name);
        if (!op) throw notSupported(OPERATION_RPC[name], provider, storefrontId);
        return op;
      },
    };
  }

  /**
   * UNIMPLEMENTED, exactly as `connection.operation` answers it, when `provider` lacks the operation: for an RPC that
   * answers from our records, but only where the provider has the operation (its capability list says so), without
   * resolving the binding's secrets or asking the provider anything.
   */
  requireOperation(provider: string, name: keyof ProviderOperations, storefrontId: string): void {
    const loaded = this.registry.find(provider);
    if (!loaded) throw unavailable(`provider '${provider}' is not available in this build`);
    if (!loaded.operations[name]) throw notSupported(OPERATION_RPC[name], provider, storefrontId);
  }

  /** Where `provider` sends this storefront's webhooks. */
  webhookUrl(provider: string, storefrontId: string): string {
    return `${this.publicBaseUrl}/webhooks/${provider}/${storefrontId}`;
  }

  /** The features of `provider`, or undefined when this build does not have it. */
  features(provider: string): ProviderFeatures | undefined {
    return this.registry.find(provider)?.features;
  }

  /** True when `provider` sells plans by its own reference (a price id), false when prices travel inline. */
  needsPlanReference(provider: string): boolean {
    return this.registry.find(provider)?.features.pricing.by === 'reference';
  }

  /**
   * The webhook secrets of the storefront's binding to `provider` (webhookBinding's answer), or undefined when it has
   * none.
   */
  async webhookSecrets(
    repos: Repositories,
    storefront: Storefront,
    provider: LoadedProvider,
    binding: ProviderBinding | undefined,
  ): Promise<WebhookSecrets | undefined> {
    const names = provider.module.webhookSecretNames;
    if (!binding || !names) return undefined;
    try {
      const known = await this.tenants.list(repos);
      const current = await this.resolveRef(storefront, binding.secretRefs[names.current], known);
      if (!current) return undefined;
      return { current, previous: await this.resolveRef(storefront, binding.secretRefs[names.previous], known) };
    } catch (error) {
      // A reference outside the tenant's scope verifies nothing: the webhook is refused as unsigned.
      if (error instanceof SecretReferenceError) return undefined;
      throw error;
    }
  }

  /** The storefront's binding to `provider` a webhook is checked against, or undefined when it never had one. */
  async webhookBinding(
    repos: Repositories,
    storefront: Storefront,
    provider: LoadedProvider,
  ): Promise<ProviderBinding | undefined> {
    return this.bindingFor(repos, storefront, provider.id).catch((error: unknown) => {
      if (error instanceof DomainError) return undefined;
      throw error;
    });
  }

  /** Re-checks a stored binding before use: rows written before today's rules must not reach elsewhere either. */
  private assertUsable(
    storefront: Storefront,
    provider: LoadedProvider,
    binding: ProviderBinding,
    known: readonly string[],
  ): void {
    const violations = this.guard.violations(
      provider.module,
      storefront.tenantId,
      binding.config,
      binding.secretRefs,
      known,
    );
    if (violations.length === 0) return;
    const broken = violations.map((v) => `${v.field} ${v.rule}`).join('; ');
    throw new DomainError(
      'FAILED_PRECONDITION',
      `storefront '${storefront.id}': its ${binding.provider} binding cannot be used until fixed with UpdateStorefront: ${broken}`,
      violations,
    );
  }

  private async bindingFor(repos: Repositories, storefront: Storefront, provider: string): Promise<ProviderBinding> {
    if (storefront.binding.provider === provider) return storefront.binding;
    const past = (await repos.storefronts.listBindings(storefront.id))
      .filter((b) => b.provider === provider)
      .sort((a, b) => b.validFrom.getTime() - a.validFrom.getTime())[0];
    if (!past) {
      throw new DomainError('FAILED_PRECONDITION', `storefront '${storefront.id}' was never bound to '${provider}'`);
    }
    return past;
  }

  private async resolveSecrets(
    storefront: Storefront,
    binding: ProviderBinding,
    known: readonly string[],
  ): Promise<Record<string, string>> {
    const secrets: Record<string, string> = {};
    for (const [name, reference] of Object.entries(binding.secretRefs)) {
      const value = await this.resolveRef(storefront, reference, known).catch((error: unknown) => {
        if (!(error instanceof SecretReferenceError)) throw error;
        throw new DomainError(
          'FAILED_PRECONDITION',
          `storefront '${storefront.id}': secret_refs.${name} ${error.rule}`,
          [{ field: `secret_refs.${name}`, rule: error.rule }],
        );
      });
      if (value === undefined) {
        // Names the reference (where to look), never a value. Not retryable as is: someone must set the secret.
        throw failedPrecondition(`storefront '${storefront.id}': secret '${name}' (${reference}) is not set`);
      }
      secrets[name] = value;
    }
    return secrets;
  }

  private resolveRef(
    storefront: Storefront,
    reference: string | undefined,
    known: readonly string[],
  ): Promise<string | undefined> {
    return reference ? this.secrets.resolve(storefront.tenantId, reference, known) : Promise.resolve(undefined);
  }
}
