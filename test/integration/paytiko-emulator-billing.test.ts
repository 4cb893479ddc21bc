import { eventually } from '../support/eventually';
import { PaytikoBed } from '../support/paytiko-emulator-bed';

const DAY = 86_400;
const WEEK = 7 * DAY;

/** Seconds from the emulator's now until `iso`. */
async function secondsUntil(bed: PaytikoBed, iso: string): Promise<number> {
  return Math.ceil((Date.parse(iso) - Date.parse(await bed.now())) / 1000);
}

/** Decimal text → hundredths, for comparing EUR amounts without floats. */
const cents = (text: string) => BigInt(text.replace('.', ''));

describe('Paytiko emulator billing: renewals, dunning, proration, endings', () => {
  let bed: PaytikoBed;

  beforeEach(async () => {
    bed = await PaytikoBed.start();
  });
  afterEach(async () => {
    await bed.stop();
  });

  it('renews Jan 31 on Feb 28 then Mar 28, and in a leap year on Feb 29 then Mar 29', async () => {
    // Years ahead of the emulator's clock (it starts at the real date, and its clock only moves forward).
    const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const ahead = (after: number, leap: boolean) => {
      let y = after + 1;
      while (isLeap(y) !== leap) y += 1;
      return y;
    };
    const common = ahead(new Date(await bed.now()).getUTCFullYear(), false);
    const leap = ahead(common, true);
    for (const [year, february, march] of [
      [common, `${common}-02-28`, `${common}-03-28`],
      [leap, `${leap}-02-29`, `${leap}-03-29`],
    ] as const) {
      await bed.advance(await secondsUntil(bed, `${year}-01-31T12:00:00Z`));
      const customerKey = await bed.customer();
      const key = await bed.membership(customerKey);
      await bed.pay(customerKey, key);
      expect((await bed.get(key)).currentPeriodEnd).toMatch(new RegExp(`^${february}T12:0`));
      await bed.advance(await secondsUntil(bed, `${february}T13:00:00Z`));
      const renewed = await bed.get(key);
      expect(renewed.currentPeriodStart).toMatch(new RegExp(`^${february}T12:0`));
      expect(renewed.currentPeriodEnd).toMatch(new RegExp(`^${march}T12:0`));
      expect(renewed.invoices[0]).toMatchObject({ type: 'Recurring', status: 'Paid', amount: '19.98', cycle: 2 });
      await bed.call('POST', `/membership/cancel/${key}`);
    }
  });

  it('chargeEmitterQueue [Success, Rejected, Rejected, Success]: Active → PastDue → Active with the webhooks', async () => {
    const customerKey = await bed.customer();
    const queue = ['Success', 'Rejected', 'Rejected', 'Success'].map((transactionStatus) => ({ transactionStatus }));
    const key = await bed.membership(customerKey, {
      chargeEmitterQueue: queue,
      billingCycle: { intervalType: 'Weekly', intervalCount: 1 },
    });
    await bed.pay(customerKey, key);
    await bed.advance(WEEK + 60);
    expect((await bed.get(key)).status).toBe('Active');
    await bed.advance(WEEK);
    let got = await bed.get(key);
    expect(got.status).toBe('PastDue');
    expect(got.invoices[0]).toMatchObject({ type: 'Recurring', status: 'Failed', cycle: 3 });
    expect(got.invoices[0]?.transactions[0]).toMatchObject({
      transactionStatus: 'Rejected',
      declineReasonText: 'Insufficient funds.',
    });
    await bed.advance(DAY);
    expect((await bed.get(key)).status).toBe('PastDue');
    await bed.advance(DAY);
    got = await bed.get(key);
    expect(got.status).toBe('Active');
    expect(got.invoices[0]).toMatchObject({ status: 'Paid', cycle: 3 });
    expect(got.invoices[0]?.transactions.map((t) => t.transactionStatus)).toEqual(['Rejected', 'Rejected', 'Success']);
    expect(bed.events(key)).toEqual([
      'TRANSACTION:Success',
      'SUBSCRIPTION_STATUS_CHANGED:Active',
      'TRANSACTION:Success',
      'TRANSACTION:Rejected',
      'SUBSCRIPTION_STATUS_CHANGED:PastDue',
      'TRANSACTION:Rejected',
      'TRANSACTION:Success',
      'SUBSCRIPTION_STATUS_CHANGED:Active',
    ]);
  });

  it('four failed attempts (a renewal and 3 retries 24 h apart) leave the membership Unpaid with no further cycles', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey, {
      chargeEmitterQueue: [{ transactionStatus: 'rejected', description: 'Do not honor' }],
      billingCycle: { intervalType: 'Weekly' },
    });
    await bed.pay(customerKey, key);
    await bed.control('/charges/fail-next', { count: 3, message: 'Card expired' });
    await bed.advance(WEEK + 60);
    await bed.advance(DAY);
    await bed.advance(DAY);
    expect((await bed.get(key)).status).toBe('PastDue');
    await bed.advance(DAY);
    const got = await bed.get(key);
    expect(got.status).toBe('Unpaid');
    expect(got.invoices[0]?.transactions.map((t) => t.declineReasonText)).toEqual([
      'Do not honor',
      'Card expired',
      'Card expired',
      'Card expired',
    ]);
    await bed.advance(3 * WEEK);
    expect((await bed.get(key)).invoices).toHaveLength(2);
    expect(bed.events(key).slice(-2)).toEqual(['TRANSACTION:Rejected', 'SUBSCRIPTION_STATUS_CHANGED:Unpaid']);
  });

  it('a positive proration is charged first, then the update applies (TRANSACTION, then SUBSCRIPTION_UPDATED)', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey);
    await bed.pay(customerKey, key);
    const answer = await bed.call('PUT', '/membership', {
      membershipKey: key,
      quantity: 3,
      metadata: '{"change":"c2"}',
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ membershipKey: key, currency: 'EUR' });
    const proration = cents(String(answer.body.prorationAmount));
    // 9.99 more per month, asked for a few seconds into the period.
    expect(proration > 990n && proration <= 999n).toBe(true);
    const got = await eventually(
      () => bed.get(key),
      (m) => m.quantity === 3,
    );
    expect(got).toMatchObject({
      totalAmount: '29.97',
      pricePerUnit: 9.99,
      pendingUpdate: null,
      metadata: '{"change":"c2"}',
    });
    expect(got.invoices[0]).toMatchObject({ type: 'Proration', status: 'Paid', amount: answer.body.prorationAmount });
    await bed.emulator.idle();
    expect(bed.events(key).slice(-2)).toEqual(['TRANSACTION:Success', 'SUBSCRIPTION_UPDATED:Active']);
    const updated = bed.receiver.received.at(-1)?.body.Membership as { Updates: unknown; Metadata: string };
    expect(updated).toMatchObject({
      Updates: { Quantity: 3, Metadata: '{"change":"c2"}' },
      Metadata: '{"change":"c2"}',
    });
  });

  it('a failed proration charge drops the update (TRANSACTION Rejected only)', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey);
    await bed.pay(customerKey, key);
    await bed.control('/charges/fail-next', { count: 1 });
    const answer = await bed.call('PUT', '/membership', { membershipKey: key, pricePerUnit: 19.99 });
    expect(answer.status).toBe(202);
    const got = await eventually(
      () => bed.get(key),
      (m) => m.invoices[0]?.status === 'Failed',
    );
    expect(got).toMatchObject({ pricePerUnit: 9.99, totalAmount: '19.98', pendingUpdate: null });
    expect(got.invoices[0]).toMatchObject({ type: 'Proration' });
    await bed.emulator.idle();
    expect(bed.events(key).slice(-1)).toEqual(['TRANSACTION:Rejected']);
  });

  it('a negative proration becomes credits at once, consumed by the next Recurring invoice', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey, { billingCycle: { intervalType: 'Daily', intervalCount: 10 } });
    await bed.pay(customerKey, key);
    await bed.advance(5 * DAY);
    const answer = await bed.call('PUT', '/membership', { membershipKey: key, quantity: 1 });
    expect(answer.status).toBe(202);
    const credit = -cents(String(answer.body.prorationAmount));
    // 9.99 less per 10 days, with about half the period left.
    expect(credit > 490n && credit <= 500n).toBe(true);
    const updated = await bed.get(key);
    expect(updated).toMatchObject({ quantity: 1, totalAmount: '9.99', pendingUpdate: null });
    expect(cents(updated.credits)).toBe(credit);
    await bed.emulator.idle();
    expect(bed.events(key).slice(-1)).toEqual(['SUBSCRIPTION_UPDATED:Active']);
    await bed.advance(5 * DAY + 60);
    const renewed = await bed.get(key);
    expect(renewed.invoices[0]).toMatchObject({ type: 'Recurring', status: 'Paid' });
    expect(cents(renewed.invoices[0]?.creditApplied ?? '')).toBe(credit);
    expect(cents(renewed.invoices[0]?.amount ?? '')).toBe(999n - credit);
    expect(renewed.credits).toBe('0.00');
  });

  it('cancel voids an Open invoice (an unpaid Initial one)', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey);
    await bed.pay(customerKey, key, 'decline');
    await bed.call('POST', `/membership/cancel/${key}`);
    const got = await bed.get(key);
    expect(got.status).toBe('Canceled');
    expect(got.invoices.map((i) => i.status)).toEqual(['Void']);
  });

  it('endDate: no cycle starts at or after it, and the membership is Completed then', async () => {
    const customerKey = await bed.customer();
    const endDate = new Date(Date.parse(await bed.now()) + 2 * DAY * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const key = await bed.membership(customerKey, { endDate, billingCycle: { intervalType: 'Daily' } });
    await bed.pay(customerKey, key);
    await bed.advance(3 * DAY);
    const got = await bed.get(key);
    expect(got.status).toBe('Completed');
    expect(got.endDate).toBe(endDate);
    expect(got.invoices.map((i) => i.type)).toEqual(['Recurring', 'Initial']);
    expect(bed.events(key).slice(-1)).toEqual(['SUBSCRIPTION_STATUS_CHANGED:Completed']);
  });

  it('an Incomplete membership not paid within 24 h expires', async () => {
    const customerKey = await bed.customer();
    const key = await bed.membership(customerKey);
    await bed.advance(DAY - 60);
    expect((await bed.get(key)).status).toBe('Incomplete');
    await bed.advance(120);
    expect((await bed.get(key)).status).toBe('Expired');
    expect(bed.events(key)).toEqual(['SUBSCRIPTION_STATUS_CHANGED:Expired']);
  });
});
