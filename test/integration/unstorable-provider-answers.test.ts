import * as grpc from '@grpc/grpc-js';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import type { MutationOutcome, ProviderCheckout } from '../../src/ports/provider-adapter.port';
import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { stateJson } from '../support/fake-provider-wire';
import { fakeStorefrontService } from '../support/fake-storefront';
import { subscriptionCheckout } from '../support/fixtures';
import { FAST_WEBHOOKS } from '../support/subotiz-world';
import { withClient } from '../support/test-database';
import { call, callError, eventTypesOf } from '../support/test-service';

/**
 * A provider (or an adapter's mapping) answering what the core cannot store or hand on: an Invalid Date, a
 * `javascript:` link, a NUL in a reference. The caller gets UNAVAILABLE naming the field and the rule, a webhook
 * becomes a dead letter saying the same, and nothing of the answer is written. Real gRPC, PostgreSQL and HTTP
 * webhooks; the provider is the in-memory fake, whose next answer each test corrupts.
 */
describe('answers that cannot be stored', () => {
  const fake = fakeProvider('fakebad');
  const world = fakeStorefrontService(fake, 'fake-bad', FAST_WEBHOOKS);

  const subs = () => world.service.clients.subscriptions;
  const query = <T>(sql: string, params: unknown[]) =>
    withClient(world.db.url, async (c) => (await c.query(sql, params)).rows as T[]);

  it('a checkout link that is not http(s) is refused as UNAVAILABLE naming the field; the customer never gets it', async () => {
    fake.corruptNextAnswer('createCheckout', (answer: ProviderCheckout) => ({
      ...answer,
      nextAction: { redirectUrl: 'javascript:alert(document.cookie)' },
    }));
    const request = subscriptionCheckout(world.store.storefrontId, world.store.customerId, world.store.basicPlanId);
    const error = await callError(subs(), subs().createCheckoutSession, request);
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toContain('checkout.nextAction.redirectUrl must be an http(s) URL');
    expect(error.details).not.toContain('javascript');

    // Asked again, the provider answers its real link (its checkout is keyed on our order id, as a real one's is).
    const { checkoutSession } = await call(subs(), subs().createCheckoutSession, request);
    expect(checkoutSession!.url).toMatch(/^https:\/\/pay\.fake\.test\//);
  });

  it('a cancel whose answered state has an Invalid Date changes nothing here and emits nothing', async () => {
    const before = await world.store.activeSubscription();
    const eventsBefore = await eventTypesOf(world.service, before.id);
    fake.corruptNextAnswer('cancelSubscription', (answer: MutationOutcome) =>
      answer.kind === 'applied' ? { ...answer, state: { ...answer.state, canceledAt: new Date(Number.NaN) } } : answer,
    );
    const error = await callError(subs(), subs().cancelSubscription, {
      subscriptionId: before.id,
      atPeriodEnd: false,
      reason: '',
    });
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toContain('outcome.state.canceledAt must be a valid time');
    const after = await world.store.subscription(before.id);
    expect(after.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    expect(after.version).toBe(before.version);
    expect(await eventTypesOf(world.service, before.id)).toEqual(eventsBefore);
  });

  /**
   * Cancels an active subscription by a signed webhook whose state `corrupt` spoils; answers the dead letter's error
   * and the subscription before and after.
   */
  const cancelByWebhook = async (id: string, corrupt: (state: Record<string, unknown>) => Record<string, unknown>) => {
    const before = await world.store.activeSubscription();
    const state = stateJson({ ...fake.subscription(before.providerRef), status: 'CANCELED' });
    const status = await fake.send(world.store.storefrontId, {
      id,
      type: 'subscription.updated',
      data: { hint: 'canceled', subscription: corrupt(state) },
    });
    expect(status).toBe(200);
    const [letter] = await eventually(
      () => query<{ error: string }>('select error from dead_letters where provider_event_id = $1', [id]),
      (rows) => rows.length === 1,
    );
    return { error: letter!.error, before, after: await world.store.subscription(before.id) };
  };

  it('a signed webhook with a NUL in a reference becomes a dead letter naming the field; nothing of it applies', async () => {
    const { error, before, after } = await cancelByWebhook('fevt_nul_plan', (state) => ({
      ...state,
      plan_ref: 'price_\u0000basic',
    }));
    expect(error).toContain('events[0].subscription.planRef: contains a NUL character');
    expect(after.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    expect(after.version).toBe(before.version);
  });

  it('a signed webhook dated to no valid time is not ordered as if it were any time: a dead letter, nothing applied', async () => {
    const { error, after } = await cancelByWebhook('fevt_bad_time', (state) => ({
      ...state,
      updated_at: 'yesterday-ish',
    }));
    expect(error).toContain('events[0].subscription.observedAt: must be a valid time');
    expect(after.status).toBe(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
  });
});
