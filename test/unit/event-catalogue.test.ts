import { EVENT_TYPES, streamOf } from '../../src/domain/event-catalogue';

describe('event catalogue', () => {
  it('routes every event family to the topic ARCHITECTURE names', () => {
    const byStream: Record<string, string[]> = {};
    for (const type of EVENT_TYPES) (byStream[streamOf(type)] ??= []).push(type.split('.')[1]!);
    expect(new Set(byStream.subscriptions)).toEqual(new Set(['subscription', 'invoice', 'discount']));
    expect(new Set(byStream.payments)).toEqual(new Set(['payment', 'refund']));
    expect(new Set(byStream.customers)).toEqual(new Set(['customer', 'entitlement']));
    expect(new Set(byStream.storefronts)).toEqual(new Set(['storefront', 'plan']));
  });
});
