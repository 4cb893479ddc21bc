import { CheckoutSession, isFinalCheckout } from '../../domain/checkout-session';
import { notFound } from '../../domain/errors';
import type { Payment } from '../../domain/payment';
import type { Subscription } from '../../domain/subscription';
import type { Clock } from '../../ports/clock.port';
import type { ProviderCheckoutState } from '../../ports/provider-adapter.port';
import type { Repositories, StorefrontReads, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import type { ProviderGateway } from '../providers/provider-gateway';

/** A checkout session with what it sells, as it stands now. */
export interface CheckoutSessionResult {
  session: CheckoutSession;
  subscription?: Subscription;
  payment?: Payment;
}

/** What we learnt about a session: from its subscription or payment, or from the provider. */
type Observation = Pick<CheckoutSession, 'status' | 'nextAction' | 'checkAt' | 'failure'>;

/**
 * Follows checkout sessions. What the session sells decides first (a subscription that left INCOMPLETE means the
 * checkout completed, whoever told us); otherwise, while the session is not final, the provider is asked (outside
 * any transaction, no sooner than its Retry-After), and what changed is stored.
 */
export class CheckoutSessionUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
    private readonly storefronts: StorefrontReads = uow.reads.storefronts,
  ) {}

  async get(id: string, ctx: CallContext): Promise<CheckoutSessionResult> {
    const reads = this.uow.reads;
    const stored = id ? await reads.checkoutSessions.get(id) : undefined;
    if (!stored) throw notFound('checkout session', id, 'checkout_session_id');
    const sells = await sellsOf(reads, stored);
    if (isFinalCheckout(stored.status)) return { session: stored, ...sells };
    const observed = derivedFrom(sells) ?? (await this.askProvider(stored, ctx));
    const session = observed ? await this.store(stored.id, observed) : stored;
    return { session, ...sells };
  }

  /** The provider's view, when it can be asked and it is time to ask; undefined otherwise. */
  private async askProvider(session: CheckoutSession, ctx: CallContext): Promise<Observation | undefined> {
    if (session.checkAt && session.checkAt.getTime() > this.clock.now().getTime()) return undefined;
    const reads = this.uow.reads;
    const storefront = (await this.storefronts.get(session.storefrontId))!;
    const connection = await this.gateway.connect(reads, storefront, session.provider, ctx);
    const getCheckout = connection.optional('getCheckout');
    if (!getCheckout) return undefined;
    return observationOf(await getCheckout(connection.ctx, session.providerRef));
  }

  /** Writes what changed, unless another call made the session final meanwhile (final never changes). */
  private async store(id: string, observed: Observation): Promise<CheckoutSession> {
    return this.uow.transaction(async (repos) => {
      const current = (await repos.checkoutSessions.get(id, { forUpdate: true }))!;
      if (isFinalCheckout(current.status)) return current;
      const final = isFinalCheckout(observed.status);
      const next: CheckoutSession = {
        ...current,
        status: observed.status,
        // A provider that does not repeat the next action has not taken it back; a final session has none.
        nextAction: final ? undefined : (observed.nextAction ?? current.nextAction),
        checkAt: final ? undefined : observed.checkAt,
        failure: observed.failure ?? current.failure,
      };
      if (sameState(current, next)) return current;
      const changed = { ...next, updatedAt: this.clock.now() };
      await repos.checkoutSessions.update(changed);
      return changed;
    });
  }
}

async function sellsOf(
  repos: Repositories,
  session: CheckoutSession,
): Promise<{ subscription?: Subscription; payment?: Payment }> {
  if (session.subscriptionId) return { subscription: await repos.subscriptions.get(session.subscriptionId) };
  return { payment: session.paymentId ? await repos.payments.get(session.paymentId) : undefined };
}

/**
 * What the subscription's or payment's own state says of its checkout: a subscription that left INCOMPLETE was
 * paid for, INCOMPLETE_EXPIRED was abandoned; a payment SUCCEEDED, CLOSED (abandoned) or FAILED. Undefined while it
 * still waits for its checkout.
 */
export function derivedFrom(sells: { subscription?: Subscription; payment?: Payment }): Observation | undefined {
  const { subscription, payment } = sells;
  if (subscription) {
    if (subscription.status === 'INCOMPLETE') return undefined;
    return { status: subscription.status === 'INCOMPLETE_EXPIRED' ? 'EXPIRED' : 'COMPLETE' };
  }
  switch (payment?.status) {
    case 'SUCCEEDED':
      return { status: 'COMPLETE' };
    case 'CLOSED':
      return { status: 'EXPIRED' };
    case 'FAILED':
      return { status: 'FAILED', failure: payment.failure };
    default:
      return undefined;
  }
}

function observationOf(state: ProviderCheckoutState): Observation {
  return { status: state.status, nextAction: state.nextAction, checkAt: state.checkAt, failure: state.failure };
}

function sameState(a: CheckoutSession, b: CheckoutSession): boolean {
  return (
    a.status === b.status &&
    JSON.stringify(a.nextAction ?? null) === JSON.stringify(b.nextAction ?? null) &&
    a.checkAt?.getTime() === b.checkAt?.getTime() &&
    a.failure?.code === b.failure?.code &&
    a.failure?.message === b.failure?.message
  );
}
