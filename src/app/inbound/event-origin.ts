import { DomainError } from '../../domain/errors';
import type { Storefront } from '../../domain/storefront';
import type { ProviderFeatures } from '../../ports/provider-adapter.port';

/**
 * A webhook named an object this storefront does not have: unknown to us, or another storefront's. It is recorded
 * and acknowledged but never applied (a storefront's webhook secret must not reach another storefront's objects).
 */
export class ForeignOrUnknownObject extends DomainError {
  constructor(kind: string, reference: string) {
    super('NOT_FOUND', `${kind} '${reference}' not found on this storefront`);
    this.name = 'ForeignOrUnknownObject';
  }
}

/**
 * A webhook named one of our order ids that no storefront has recorded yet. The provider is asked before our checkout
 * commits its order, so the provider's first webhooks about it may be processed before the order exists: the inbox
 * retries such a webhook for a while (webhook-intake) instead of ignoring it. Still a ForeignOrUnknownObject, so a
 * path that does not wait for it (a lookup that only peeks, a sweep) treats it as unknown, as before.
 */
export class NotYetRecorded extends ForeignOrUnknownObject {
  constructor(kind: string, id: string) {
    super(kind, id);
    this.message = `${kind} '${id}' is one of our ${kind === 'refund' ? 'refund' : 'order'} ids but not recorded yet`;
    this.name = 'NotYetRecorded';
  }
}

/**
 * Whether `id` is an order id as our checkout makes them (`sub_`/`pay_` and a lower-case ULID, domain/ids): only such
 * an id can name an order we are about to record. Ids merely prefixed so (a renewal's `sub_…-c3`, another system's
 * `sub_…`) are not ours in form.
 */
export function ourOrderId(id: string | undefined, prefix: 'sub' | 'pay'): boolean {
  return id !== undefined && OUR_ID_FORM[prefix].test(id);
}

/**
 * Whether `id` is a refund id as CreateRefund makes them (`ref_` and a lower-case ULID): only such an id, echoed by
 * the provider, can name a refund of ours about to be recorded.
 */
export function ourRefundId(id: string | undefined): id is string {
  return id !== undefined && OUR_ID_FORM.ref.test(id);
}

/** Our ids' form per prefix (a lower-case ULID after it), compiled once: every webhook lookup asks. */
const OUR_ID_FORM = {
  sub: /^sub_[0-9a-hjkmnp-tv-z]{26}$/,
  pay: /^pay_[0-9a-hjkmnp-tv-z]{26}$/,
  ref: /^ref_[0-9a-hjkmnp-tv-z]{26}$/,
};

/** Where a webhook came from. */
export interface EventOrigin {
  provider: string;
  storefront: Storefront;
  correlationId: string;
  /**
   * Ends the provider calls made for the event: a webhook's processing deadline (the inbox transaction, its row
   * locks and a lane wait on them). None: each call is bounded only by its own timeouts and retries.
   */
  signal?: AbortSignal;
  /** The provider's features (e.g. native entitlements mean none are derived from the plan). */
  features: ProviderFeatures;
  /**
   * Whether a record of ours the event names but we have not made yet may still be waited for (NotYetRecorded): set
   * by the webhook inbox while the webhook is within its grace (webhook-intake). Where it is not (after the grace,
   * sweeps, fetched states), what could wait for it goes ahead without it.
   */
  mayAwaitOurRecords?: boolean;
  /**
   * The webhook is the next of its ordering key's sequence (webhook-intake): no later report of that key has been
   * applied, so on a tie with a state an earlier report brought it is not in doubt; it follows that state. (Not with
   * the answer to one of our own calls, which is outside the sequence.)
   */
  inSequence?: boolean;
}
