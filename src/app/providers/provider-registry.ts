import { invalidArgument } from '../../domain/errors';
import type { ProviderAdapter, ProviderAdapterFactory } from '../../ports/provider-adapter.port';

/** The adapters this service can route to. The only place the core learns provider ids. */
export class ProviderRegistry {
  private readonly adapters = new Map<string, ProviderAdapter>();

  constructor(factories: readonly ProviderAdapterFactory[]) {
    for (const factory of factories) {
      const adapter = factory();
      // A loader that accepted an adapter without an id would route calls nowhere.
      if (!adapter.id || !/^[a-z][a-z0-9-]*$/.test(adapter.id)) {
        throw new Error(`provider adapter has no valid id: '${adapter.id}'`);
      }
      if (this.adapters.has(adapter.id)) throw new Error(`provider adapter '${adapter.id}' registered twice`);
      this.adapters.set(adapter.id, adapter);
    }
  }

  ids(): string[] {
    return [...this.adapters.keys()];
  }

  find(id: string): ProviderAdapter | undefined {
    return this.adapters.get(id);
  }

  /** The adapter for `id`, or INVALID_ARGUMENT naming `field` and the known providers. */
  require(id: string, field: string): ProviderAdapter {
    const adapter = this.adapters.get(id);
    if (!adapter) {
      const rule = id ? `unknown provider '${id}'; one of ${this.ids().join(', ')}` : 'is required';
      throw invalidArgument([{ field, rule }]);
    }
    return adapter;
  }
}
