import type { Payment, Refund } from '../../domain/payment';
import type { ProviderRefundState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { EventOrigin, ForeignOrUnknownObject, NotYetRecorded, ourRefundId } from './event-origin';

/**
 * Our refund a provider report names by the refund id we sent (`refundId`, echoed) when no refund of the payment has
 * its reference yet, locked, with the reference remembered. CreateRefund asks the provider before it commits the
 * refund, so the provider's webhook about it may be processed first: then there is no such refund anywhere yet, and it
 * is NotYetRecorded while the report may wait for it (`mayAwaitOurRecords`); afterwards, or where nothing waits,
 * undefined — recorded as issued outside this service, as a refund the provider made alone. Another payment's refund
 * is ForeignOrUnknownObject. Undefined too when no id of ours in form is echoed, or when our refund already stands for
 * another of the provider's refunds (this one is then a refund of its own).
 */
export async function echoedRefund(
  repos: Repositories,
  origin: EventOrigin,
  payment: Payment,
  state: ProviderRefundState,
  now: Date,
): Promise<Refund | undefined> {
  const id = state.refundId;
  if (!ourRefundId(id)) return undefined;
  const named = await repos.refunds.get(id, { forUpdate: true });
  if (!named) {
    if (origin.mayAwaitOurRecords) throw new NotYetRecorded('refund', id);
    return undefined;
  }
  if (named.paymentId !== payment.id) throw new ForeignOrUnknownObject('refund', id);
  if (named.providerRef && named.providerRef !== state.ref) return undefined;
  const remembered: Refund = { ...named, providerRef: state.ref, updatedAt: now };
  await repos.refunds.update(remembered);
  return remembered;
}
