import type { ProviderModule } from '../../src/ports/provider-adapter.port';
import { azotteWorld, TEST_CARDS } from './azotte-world';
import { fakeProvider } from './fake-provider';
import { fakeStorefront } from './fake-storefront';
import { paytikoWorld } from './paytiko-world';
import { subotizWorld } from './subotiz-world';
import { call, TestService } from './test-service';

/**
 * One provider as the contract suite drives it: its emulator (or fake) started and bound to a storefront with a
 * plan and a customer, and the controls every provider's test double offers. A provider joins the suite by adding
 * a world to WORLDS; the lifecycle tests are the same for all.
 */
export interface ProviderWorld {
  readonly provider: string;
  readonly storefrontId: string;
  /** A monthly plan that grants `featureKey`. */
  readonly planId: string;
  readonly featureKey: string;
  readonly customerId: string;
  /** Opens a subscription checkout of the plan for the customer; our subscription id. */
  checkout(): Promise<string>;
  /** The customer pays (hosted page, or the server-to-server charge goes through). */
  completeCheckout(subscriptionId: string): Promise<void>;
  /** The customer's payment is declined. */
  declineCheckout(subscriptionId: string): Promise<void>;
  /** Moves the provider's clock on (renewals, dunning retries, period ends happen on the way). */
  advanceClock(seconds: number): Promise<void>;
  /** Moves the provider's clock to a minute past `date`. */
  advancePast(date: Date): Promise<void>;
  /** The provider declines its next `count` charges. */
  failNextCharges(count: number): Promise<void>;
  /** The provider's next `count` webhooks are lost on the way. */
  dropNextWebhooks(count: number): Promise<void>;
  /**
   * The provider's entitlements arrive only by its webhooks and it has no entitlement read, so a fetch (the
   * reconciler) cannot bring back grants whose webhooks were lost: only the provider's redelivery can.
   */
  readonly entitlementsOnlyByWebhook?: boolean;
  stop(): Promise<void>;
}

/** How to build one world. `providers` are modules the service must load besides the shipped ones. */
export interface WorldFactory {
  name: string;
  providers?: readonly ProviderModule[];
  start(service: TestService, storefrontId: string): Promise<ProviderWorld>;
}

const MINUTE = 60;

/** Subotiz: a thin adapter over subotiz-world's emulator helpers (its controls live under `/__emulator`). */
const subotiz: WorldFactory = {
  name: 'subotiz',
  async start(service, storefrontId) {
    const world = await subotizWorld(service, { storefrontId });
    const subs = service.clients.subscriptions;
    // The emulator's controls name its session; CreateCheckoutSession answered with it.
    const sessions = new Map<string, string>();
    const session = (subscriptionId: string) => sessions.get(subscriptionId)!;
    const advanceClock = async (seconds: number) => {
      await world.control('/clock/advance', { seconds });
    };
    return {
      provider: 'subotiz',
      storefrontId,
      planId: world.planId,
      featureKey: 'pro',
      customerId: world.customerId,
      async checkout() {
        const answer = await call(subs, subs.createCheckoutSession, world.checkoutRequest());
        sessions.set(answer.subscription!.id, answer.checkoutSession!.providerRef);
        return answer.subscription!.id;
      },
      async completeCheckout(subscriptionId) {
        await world.control(`/sessions/${session(subscriptionId)}/complete`, {});
      },
      async declineCheckout(subscriptionId) {
        await world.control(`/sessions/${session(subscriptionId)}/decline`, {});
      },
      advanceClock,
      async advancePast(date) {
        const { now } = await world.control<{ now: string }>('/clock');
        await advanceClock(Math.ceil((date.getTime() - new Date(now).getTime()) / 1000) + MINUTE);
      },
      async failNextCharges(count) {
        await world.control('/charges/fail-next', { count });
      },
      async dropNextWebhooks(count) {
        await world.control('/webhooks/faults', { mode: 'drop', count });
      },
      stop: () => world.close(),
    };
  },
};

/** Paytiko: paytiko-world's emulator (on a port of its own) and its controls; checkouts are paid on the hosted page. */
const paytiko: WorldFactory = {
  name: 'paytiko',
  async start(service, storefrontId) {
    const world = await paytikoWorld(service, { storefrontId });
    return {
      provider: 'paytiko',
      storefrontId,
      planId: world.planId,
      featureKey: 'basic',
      customerId: world.customerId,
      checkout: async () => (await world.checkout()).subscription!.id,
      completeCheckout: (id) => world.pay(id),
      declineCheckout: (id) => world.pay(id, 'decline'),
      advanceClock: (seconds) => world.advanceClock(seconds),
      advancePast: (date) => world.advancePast(date),
      failNextCharges: (count) => world.failNextCharges(count),
      dropNextWebhooks: (count) => world.dropNextWebhooks(count),
      stop: () => world.close(),
    };
  },
};

/**
 * Azotte: azotte-world's emulator (on a port of its own); checkouts are server-to-server with the stored 3-D Secure
 * test card, so the customer pays by passing the 3-D Secure step (and is declined by failing it).
 */
const azotte: WorldFactory = {
  name: 'azotte',
  async start(service, storefrontId) {
    // A second of processing: decided on the first poll, after CreateCheckoutSession has answered (see azotte-world).
    const world = await azotteWorld(service, { storefrontId, processingDelaySeconds: 1 });
    return {
      provider: 'azotte',
      storefrontId,
      planId: world.planId,
      featureKey: 'basic',
      customerId: world.customerId,
      checkout: async () => (await world.checkout({ paymentMethodRef: TEST_CARDS.visa3ds })).subscription!.id,
      completeCheckout: async (id) => {
        await world.pass3ds(id);
      },
      declineCheckout: async (id) => {
        await world.fail3ds(id);
      },
      advanceClock: (seconds) => world.advanceClock(seconds),
      advancePast: (date) => world.advancePast(date),
      failNextCharges: (count) => world.failNextCharges(count),
      dropNextWebhooks: (count) => world.dropNextWebhooks(count),
      // Azotte has no entitlement read (README 38): grants come only by webhook, lost ones by its redelivery.
      entitlementsOnlyByWebhook: true,
      stop: () => world.close(),
    };
  },
};

/** The in-memory fake (default features): proves the suite asks nothing of a provider beyond the port. */
function fake(): WorldFactory {
  const provider = fakeProvider('fakeworld');
  return {
    name: 'fake',
    providers: [provider.module],
    async start(service, storefrontId) {
      const store = await fakeStorefront(service, provider, storefrontId);
      return {
        provider: provider.id,
        storefrontId,
        planId: store.proPlanId,
        featureKey: 'pro',
        customerId: store.customerId,
        checkout: () => store.checkout(store.proPlanId),
        completeCheckout: async (id) => {
          await provider.completeCheckout(store.sessionRefOf(id));
        },
        declineCheckout: async (id) => provider.declineCheckout(store.sessionRefOf(id)),
        advanceClock: (seconds) => provider.advanceClock(seconds),
        advancePast: (date) =>
          provider.advanceClock(Math.ceil((date.getTime() - provider.now().getTime()) / 1000) + MINUTE),
        failNextCharges: async (count) => provider.failNextCharges(count),
        dropNextWebhooks: async (count) => provider.dropNextWebhooks(count),
        stop: async () => store.close(),
      };
    },
  };
}

/** Every provider world the contract suite runs. */
export const WORLDS: readonly WorldFactory[] = [subotiz, paytiko, azotte, fake()];
