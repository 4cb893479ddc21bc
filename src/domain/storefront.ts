/** A storefront's binding to one provider, valid from `validFrom` until `validUntil` (open while current). */
export interface ProviderBinding {
  provider: string;
  config: Record<string, string>;
  secretRefs: Record<string, string>;
  validFrom: Date;
  validUntil?: Date;
  actor: string;
  reason: string;
}

/** Where customers buy; bound to one provider at a time. */
export interface Storefront {
  id: string;
  tenantId: string;
  name: string;
  country: string;
  defaultCurrency: string;
  binding: ProviderBinding;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
