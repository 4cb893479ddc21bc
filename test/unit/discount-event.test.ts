import { drafts } from '../../src/app/engine/event-drafts';
import { toEventData } from '../../src/contract/event-mapping';
import type { Discount } from '../../src/domain/discount';
import { streamOf } from '../../src/domain/event-catalogue';
import type { Storefront } from '../../src/domain/storefront';
import { BillingEvent } from '../../src/gen/billing/v1/event';

const storefront: Storefront = {
  id: 'eu-web',
  tenantId: 'tenant-a',
  name: 'EU web',
  country: 'DE',
  defaultCurrency: 'EUR',
  binding: { provider: 'azotte', config: {}, secretRefs: {}, validFrom: new Date(0), actor: 'test', reason: '' },
  version: 1,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

const base: Discount = {
  code: 'SPRING',
  description: '3 months at 20 % off',
  subscriptionId: 'sub_01jdiscount',
  customerId: 'cus_01jdiscount',
};

/** Encodes a draft's payload as the outbox does and reads it back as a consumer would. */
function roundTrip(discount: Discount) {
  const draft = drafts.discount(storefront, 'azotte', discount, 'az-evt-7');
  const decoded = BillingEvent.decode(
    BillingEvent.encode({
      ...BillingEvent.fromPartial({ type: draft.type, aggregateId: draft.aggregateId }),
      ...toEventData(draft.data),
    }).finish(),
  );
  return { draft, decoded };
}

describe('billing.discount.applied', () => {
  it('is keyed by its subscription and published on the subscriptions topic, in that subscription’s order', () => {
    const { draft } = roundTrip({ ...base, percentOffBasisPoints: 2000, cycles: 3 });
    expect(draft).toMatchObject({
      type: 'billing.discount.applied',
      key: 'sub_01jdiscount',
      aggregateId: 'sub_01jdiscount',
      provider: 'azotte',
      storefrontId: 'eu-web',
      tenantId: 'tenant-a',
      providerEventId: 'az-evt-7',
    });
    expect(streamOf(draft.type)).toBe('subscriptions');
  });

  it('carries a share off in basis points, with its cycles, and no amount', () => {
    const { decoded } = roundTrip({ ...base, percentOffBasisPoints: 2000, cycles: 3 });
    expect(decoded.subscription).toBeUndefined();
    expect(decoded.discount).toEqual({
      code: 'SPRING',
      description: '3 months at 20 % off',
      amountOff: undefined,
      percentOffBasisPoints: 2000,
      cycles: 3,
      subscriptionId: 'sub_01jdiscount',
      customerId: 'cus_01jdiscount',
    });
  });

  it('carries a fixed amount off as Money in minor units (KWD has three decimals), never a float', () => {
    const { decoded } = roundTrip({ ...base, amountOff: { currency: 'KWD', amountMinor: 1500n } });
    expect(decoded.discount!.amountOff).toEqual({ currencyCode: 'KWD', amountMinor: 1500n, amountDecimal: '1.500' });
    expect(decoded.discount!.percentOffBasisPoints).toBe(0);
    expect(decoded.discount!.cycles).toBe(0);
  });
});
