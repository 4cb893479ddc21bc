import type { Subscription } from '../../domain/subscription';
import type {
  ProviderPaymentState,
  ProviderRefundState,
  ProviderSubscriptionState,
} from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { handleOf } from '../engine/subscription-handle';
import type { ProviderConnection } from '../providers/provider-gateway';

/**
 * Where an applier that finds a subscription's order in doubt gets the provider's current state of it. Webhooks and
 * sweeps ask the provider before they lock anything (AskedFirst), so no row lock is held across a provider call.
 */
export interface SubscriptionAnswers {
  /** The provider's state of the subscription (undefined: the provider has none yet). */
  stateOf(subscription: Subscription): Promise<ProviderSubscriptionState | undefined>;
  /** Why the provider did not answer about the subscription when it was asked and could go unanswered. */
  unansweredWhy?(subscription: Subscription): string | undefined;
  /**
   * Whether the provider was asked while the subscription was as it is now: no change of ours (the answer to one of
   * our own calls, say) was committed between the question and the lock, so the answer is not older than it.
   */
  askedOfThisVersion?(subscription: Subscription): boolean;
}

/**
 * Order is in doubt about a subscription no one asked the provider about before locking it: it changed between the
 * look-up and the lock. Nothing is applied; the webhook (or sweep) runs again and asks first this time.
 */
export class StateInDoubt extends Error {
  constructor(subscriptionId: string) {
    super(`subscription '${subscriptionId}' changed while the provider was asked about it; asking again`);
    this.name = 'StateInDoubt';
  }
}

/** What the provider said before any row was locked: subscriptions by our id, notified payments and refunds by ref. */
export class AskedFirst implements SubscriptionAnswers {
  private readonly subscriptions = new Map<string, ProviderSubscriptionState | undefined>();
  readonly payments = new Map<string, ProviderPaymentState>();
  readonly refunds = new Map<string, ProviderRefundState>();
  /** After a gap: the subscriptions to bring to the provider's state once the events are applied (our ids). */
  readonly catchUp = new Set<string>();
  /** What asking did not get and the webhook does without (a catch-up fetch the provider failed), for its note. */
  readonly notes: string[] = [];
  /** Subscriptions a report of which was in doubt and the provider did not answer about, with why. */
  private readonly unanswered = new Map<string, string>();
  /** The version of each subscription as it was read when the provider was asked about it. */
  private readonly askedAtVersion = new Map<string, number>();

  /** Answers that hold `state` for the subscription `id` (a sweep's fetch), or nothing at all. */
  static of(id?: string, state?: ProviderSubscriptionState): AskedFirst {
    const asked = new AskedFirst();
    if (id) asked.subscriptions.set(id, state);
    return asked;
  }

  has(subscriptionId: string): boolean {
    return this.subscriptions.has(subscriptionId);
  }

  /** `version`: the subscription's, as read before asking (for `askedOfThisVersion`). */
  record(subscriptionId: string, state: ProviderSubscriptionState | undefined, version?: number): void {
    this.subscriptions.set(subscriptionId, state);
    if (version !== undefined) this.askedAtVersion.set(subscriptionId, version);
  }

  recordUnanswered(subscriptionId: string, why: string): void {
    this.unanswered.set(subscriptionId, why);
  }

  async stateOf(subscription: Subscription): Promise<ProviderSubscriptionState | undefined> {
    if (!this.subscriptions.has(subscription.id)) throw new StateInDoubt(subscription.id);
    return this.subscriptions.get(subscription.id);
  }

  unansweredWhy(subscription: Subscription): string | undefined {
    return this.subscriptions.has(subscription.id) ? undefined : this.unanswered.get(subscription.id);
  }

  askedOfThisVersion(subscription: Subscription): boolean {
    return this.askedAtVersion.get(subscription.id) === subscription.version;
  }
}

/** `answers`, except that the subscription being applied from a fetch is answered with that fetch. */
export function alongWith(
  answers: SubscriptionAnswers,
  subscriptionId: string,
  state: ProviderSubscriptionState,
): SubscriptionAnswers {
  return {
    stateOf: async (s) => (s.id === subscriptionId ? state : answers.stateOf(s)),
    unansweredWhy: (s) => (s.id === subscriptionId ? undefined : answers.unansweredWhy?.(s)),
  };
}

/**
 * Asks the provider now, under the caller's lock: only for a caller whose transaction calls the provider anyway (a
 * merchant renewal charges under the subscription's lock, so it is charged once).
 */
export function askingNow(repos: Repositories, connection: ProviderConnection): SubscriptionAnswers {
  return {
    stateOf: async (s) => connection.operation('getSubscription')(connection.ctx, await handleOf(repos, s)),
  };
}
