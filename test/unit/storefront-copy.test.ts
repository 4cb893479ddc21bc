import type { Storefront } from '../../src/domain/storefront';
import { copyStorefront } from '../../src/store/notified-cache';

const storefront: Storefront = {
  id: 'sf_1',
  tenantId: 'tenant-a',
  name: 'Demo store',
  country: 'DE',
  defaultCurrency: 'EUR',
  version: 3,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-02-01T00:00:00Z'),
  binding: {
    provider: 'subotiz',
    config: { accessNo: 'acc_1', subMerchantId: 'm-1' },
    secretRefs: { apiKey: 'env:SUBOTIZ_API_KEY' },
    validFrom: new Date('2026-01-01T00:00:00Z'),
    actor: 'admin',
    reason: 'setup',
  },
};

/** Every path at which `a` and `b` hold the very same object. */
function sharedObjects(a: unknown, b: unknown, at = '$'): string[] {
  if (typeof a !== 'object' || a === null) return [];
  if (a === b) return [at];
  return Object.keys(a).flatMap((key) =>
    sharedObjects((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`),
  );
}

describe("the storefront cache's copies", () => {
  it.each([
    ['without an end to its binding', storefront],
    ['with one', { ...storefront, binding: { ...storefront.binding, validUntil: new Date('2026-03-01T00:00:00Z') } }],
  ])('equal the storefront %s, and share no record or date with it', (_, original) => {
    const copy = copyStorefront(original);
    expect(copy).toEqual(original);
    expect(sharedObjects(original, copy)).toEqual([]);
  });
});
