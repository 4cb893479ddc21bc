import { urlViolations } from '../../domain/binding-rules';
import type { Violation } from '../../domain/errors';
import type { ProviderUrlPolicy } from '../../domain/provider-url';
import type { ProviderModule } from '../../ports/provider-adapter.port';
import type { SecretResolver } from '../../ports/secret-resolver.port';

/**
 * Where a binding may send our requests and read its secrets from: provider URLs on the provider's documented (or
 * allowlisted) hosts, secret references inside the storefront tenant's own scope. Asked when a binding is written
 * and again before each provider call, so rows written under older rules cannot reach elsewhere either.
 */
export class BindingGuard {
  constructor(
    private readonly secrets: SecretResolver,
    private readonly urls: ProviderUrlPolicy,
  ) {}

  /**
   * Every broken rule, naming `provider_config.<key>` or `secret_refs.<name>`; empty when the binding may be used.
   * Without a tenant (its storefront does not exist) only the URLs are checked. `knownTenants`: see KnownTenants.
   */
  violations(
    module: ProviderModule | undefined,
    tenantId: string | undefined,
    config: Record<string, string>,
    secretRefs: Record<string, string>,
    knownTenants: readonly string[],
  ): Violation[] {
    const violations = module ? urlViolations(module.binding, config, this.urls) : [];
    if (tenantId === undefined) return violations;
    for (const [name, reference] of Object.entries(secretRefs)) {
      const rule = this.secrets.violation(tenantId, reference, knownTenants);
      if (rule) violations.push({ field: `secret_refs.${name}`, rule });
    }
    return violations;
  }
}
