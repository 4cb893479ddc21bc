import { DomainError } from '../../domain/errors';
import type { Storefront } from '../../domain/storefront';
import type { ProviderFeatures } from '../../ports/provider-adapter.port';

/**
 * A webhook named an object this storefront does not have: unknown to us, or another storefront's. It is recorded
 * and acknowledged but never applied (a storefront's webhook secret must not reach another storefront's objects).
 */
export class ForeignOrUnknownObject extends DomainError {
  constructor(kind: string, reference: string) {
    super('NOT_FOUND', `${kind} '${reference}' not found on this storefront`);
    this.name = 'ForeignOrUnknownObject';
  }
}

/** Where a webhook came from. */
export interface EventOrigin {
  provider: string;
  storefront: Storefront;
  correlationId: string;
  /** The provider's features (e.g. native entitlements mean none are derived from the plan). */
  features: ProviderFeatures;
}
