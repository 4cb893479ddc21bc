import { ForeignOrUnknownObject, NotYetRecorded, type EventOrigin } from '../../src/app/inbound/event-origin';
import { echoedRefund } from '../../src/app/inbound/refund-lookup';
import { newId } from '../../src/domain/ids';
import type { Payment, Refund } from '../../src/domain/payment';
import type { ProviderRefundState } from '../../src/ports/provider-adapter.port';
import type { Repositories } from '../../src/ports/store.port';

const now = new Date('2030-01-02T03:04:05Z');
const eur = (amountMinor: bigint) => ({ currency: 'EUR', amountMinor });
const payment = { id: newId('pay') } as Payment;
const origin = (mayAwaitOurRecords?: boolean) => ({ provider: 'fake', mayAwaitOurRecords }) as EventOrigin;
const reported = (refundId: string | undefined): ProviderRefundState => ({
  ref: 're_provider_1',
  paymentRef: 'tr_1',
  amount: eur(300n),
  status: 'SUCCEEDED',
  reason: '',
  refundId,
});
const ours = (fields: Partial<Refund> = {}): Refund => ({
  id: newId('ref'),
  paymentId: payment.id,
  amount: eur(300n),
  reason: 'asked for',
  status: 'PENDING',
  createdAt: new Date('2030-01-01T00:00:00Z'),
  updatedAt: new Date('2030-01-01T00:00:00Z'),
  ...fields,
});

/** Refunds as the store holds them (only what echoedRefund uses), with what it wrote. */
function store(...refunds: Refund[]) {
  const byId = new Map(refunds.map((r) => [r.id, r]));
  const updated: Refund[] = [];
  const repos = {
    refunds: {
      get: (id: string) => Promise.resolve(byId.get(id)),
      update: (r: Refund) => Promise.resolve(void updated.push(r)),
    },
  } as unknown as Repositories;
  return { repos, updated };
}

/** The refund a provider reports by the id we gave it, when CreateRefund may not have recorded it yet. */
describe('echoedRefund', () => {
  it('takes our refund of this payment by the echoed id and remembers the provider reference', async () => {
    const refund = ours();
    const { repos, updated } = store(refund);
    const found = await echoedRefund(repos, origin(true), payment, reported(refund.id), now);
    expect(found).toEqual({ ...refund, providerRef: 're_provider_1', updatedAt: now });
    expect(updated).toEqual([found]);
  });

  it('waits (NotYetRecorded) for a refund id of ours no one has recorded yet, while the report may wait', async () => {
    const { repos, updated } = store();
    const id = newId('ref');
    await expect(echoedRefund(repos, origin(true), payment, reported(id), now)).rejects.toBeInstanceOf(NotYetRecorded);
    expect(updated).toEqual([]);
  });

  it('leaves it to be recorded as issued outside once nothing waits (after the grace, a sweep)', async () => {
    const { repos } = store();
    const id = newId('ref');
    expect(await echoedRefund(repos, origin(false), payment, reported(id), now)).toBeUndefined();
    expect(await echoedRefund(repos, origin(undefined), payment, reported(id), now)).toBeUndefined();
  });

  it("ignores another payment's refund named by the echoed id (ForeignOrUnknownObject, not a wait)", async () => {
    const theirs = ours({ paymentId: newId('pay') });
    const { repos, updated } = store(theirs);
    const attempt = echoedRefund(repos, origin(true), payment, reported(theirs.id), now);
    await expect(attempt).rejects.toBeInstanceOf(ForeignOrUnknownObject);
    await expect(attempt).rejects.not.toBeInstanceOf(NotYetRecorded);
    expect(updated).toEqual([]);
  });

  it.each([
    ['no id', undefined],
    ['an id not ours in form', 'ref_dashboard-42'],
    ['an upper-case id', newId('ref').toUpperCase().replace('REF_', 'ref_')],
    ['an id of another kind', newId('pay')],
  ])('looks nothing up for %s', async (_what, refundId) => {
    const repos = { refunds: { get: () => Promise.reject(new Error('looked up')) } } as unknown as Repositories;
    expect(await echoedRefund(repos, origin(true), payment, reported(refundId), now)).toBeUndefined();
  });

  it("does not take our refund that already stands for another of the provider's refunds", async () => {
    const refund = ours({ providerRef: 're_provider_0' });
    const { repos, updated } = store(refund);
    expect(await echoedRefund(repos, origin(true), payment, reported(refund.id), now)).toBeUndefined();
    expect(updated).toEqual([]);
  });
});
