import * as grpc from '@grpc/grpc-js';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefrontService } from '../support/fake-storefront';
import { bearer, call, callError, TEST_KEYS } from '../support/test-service';

/**
 * One tenant's callers may hold at most MAX_IN_FLIGHT_PER_TENANT calls at once. Before, a tenant holding calls open
 * (here: three calls its provider is slow to answer) could take every MAX_IN_FLIGHT_RPCS slot, and every other
 * tenant was answered "overloaded". Real gRPC and PostgreSQL; the provider is the in-memory fake, held mid-call.
 */
describe('each tenant has a share of the calls in flight', () => {
  const fake = fakeProvider('fakeshare');
  const world = fakeStorefrontService(fake, 'share-store', { MAX_IN_FLIGHT_RPCS: '4', MAX_IN_FLIGHT_PER_TENANT: '3' });

  it('past its share a tenant is RESOURCE_EXHAUSTED; another tenant is still served; the share frees as calls end', async () => {
    const subs = world.service.clients.subscriptions;
    const customers = world.service.clients.customers;
    const asTenantA = bearer(TEST_KEYS.tenantAService);
    const [first, second] = [await world.store.activeSubscription(), await world.store.activeSubscription()];

    const held = [
      fake.holdNext('cancelSubscription'),
      fake.holdNext('pauseSubscription'),
      fake.holdNext('updateCustomer'),
    ];
    const slow = [
      call(subs, subs.cancelSubscription, { subscriptionId: first.id, atPeriodEnd: false, reason: '' }, asTenantA),
      call(subs, subs.pauseSubscription, { subscriptionId: second.id, resumeTime: undefined }, asTenantA),
      call(
        customers,
        customers.updateCustomer,
        { customerId: world.store.customerId, name: 'Ada L.', address: undefined },
        asTenantA,
      ),
    ];
    await Promise.all(held.map((h) => h.reached));

    const refused = await callError(subs, subs.getSubscription, { subscriptionId: first.id }, asTenantA);
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toContain('MAX_IN_FLIGHT_PER_TENANT');
    // Another tenant takes the one slot left (its storefronts: none, but it is answered).
    const other = await call(
      world.service.clients.storefronts,
      world.service.clients.storefronts.listStorefronts,
      { tenantId: '', pageSize: 10, pageToken: '' },
      bearer(TEST_KEYS.tenantBPlatform),
    );
    expect(other.storefronts).toEqual([]);

    for (const h of held) h.release();
    await Promise.all(slow);
    const { subscription } = await call(subs, subs.getSubscription, { subscriptionId: first.id }, asTenantA);
    expect(subscription!.id).toBe(first.id);
  });
});
