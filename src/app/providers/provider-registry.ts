import { invalidArgument } from '../../domain/errors';
import type {
  ProviderDeps,
  ProviderFeatures,
  ProviderModule,
  ProviderOperations,
  ProviderPreflight,
  ProviderWebhooks,
} from '../../ports/provider-adapter.port';

/** A provider module with its adapter built: what the core routes to. */
export interface LoadedProvider {
  readonly id: string;
  readonly module: ProviderModule;
  readonly features: ProviderFeatures;
  /** Empty while the module has no adapter yet: every call then answers UNIMPLEMENTED. */
  readonly operations: Partial<ProviderOperations>;
  /** The provider's own rules, checked before anything is written or sent (none: nothing to check). */
  readonly preflight: ProviderPreflight;
  readonly webhooks?: ProviderWebhooks;
}

/** The providers this service can route to. The only place the core learns provider ids. */
export class ProviderRegistry {
  private readonly providers = new Map<string, LoadedProvider>();

  /** `deps` builds each module's dependencies (a logger named for it, the shared transport and clock). */
  constructor(modules: readonly ProviderModule[], deps: (providerId: string) => ProviderDeps) {
    for (const module of modules) {
      // A loader that accepted a module without an id would route calls nowhere.
      if (!module.id || !/^[a-z][a-z0-9-]*$/.test(module.id)) {
        throw new Error(`provider module has no valid id: '${module.id}'`);
      }
      if (this.providers.has(module.id)) throw new Error(`provider module '${module.id}' registered twice`);
      const adapter = module.create?.(deps(module.id));
      this.providers.set(module.id, {
        id: module.id,
        module,
        features: module.features,
        operations: adapter?.operations ?? {},
        preflight: adapter?.preflight ?? {},
        webhooks: adapter?.webhooks,
      });
    }
  }

  ids(): string[] {
    return [...this.providers.keys()];
  }

  find(id: string): LoadedProvider | undefined {
    return this.providers.get(id);
  }

  /** The provider for `id`, or INVALID_ARGUMENT naming `field` and the known providers. */
  require(id: string, field: string): LoadedProvider {
    const provider = this.providers.get(id);
    if (!provider) {
      const rule = id ? `unknown provider '${id}'; one of ${this.ids().join(', ')}` : 'is required';
      throw invalidArgument([{ field, rule }]);
    }
    return provider;
  }
}
