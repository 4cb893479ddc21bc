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

// A secret reference names where the secret lives; raw secrets are refused so they never reach rows, logs or events.
const SECRET_REF = /^(env:[A-Z_][A-Z0-9_]*|file:\/[^\s]+)$/;

/** True when `value` is a reference to a secret ("env:NAME", "file:/path"), not a secret itself. */
export function isSecretReference(value: string): boolean {
  return SECRET_REF.test(value);
}
