/** Postal address. */
export interface Address {
  line1: string;
  line2: string;
  city: string;
  region: string;
  postalCode: string;
  country: string;
}

/** A customer of one storefront. */
export interface Customer {
  id: string;
  storefrontId: string;
  externalRef: string;
  email: string;
  name: string;
  phone: string;
  country: string;
  address?: Address;
  providerRefs: Record<string, string>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Emails compare case-insensitively; this is the form we index and match on. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
