import { problemToError, toCheckoutState, toSubscriptionState } from '../../adapters/paytiko/mapping';

/** A membership as GET /membership/{key} answers it (house assumptions: Memberships). */
function membership(over: Record<string, unknown> = {}) {
  return {
    membershipKey: 'mmbrshp_0123456789abcdef01234567',
    id: 123,
    customerKey: 'cstmr_0123456789abcdef01234567',
    orderId: 'sub_1',
    status: 'PastDue',
    name: 'Basic monthly',
    description: 'Basic monthly',
    currency: 'EUR',
    totalAmount: '19.98',
    pricePerUnit: 9.99,
    quantity: 2,
    intervalType: 'Monthly',
    intervalCount: 1,
    startDate: '2025-01-31T10:00:00Z',
    currentPeriodStart: '2025-02-28T10:00:00Z',
    currentPeriodEnd: '2025-03-28T10:00:00Z',
    endDate: null,
    canceledAt: null,
    metadata: JSON.stringify({ subscription_id: 'sub_1', plan_id: 'plan_basic', change: 'chg_1' }),
    credits: '0.00',
    pendingUpdate: null,
    createdAt: '2025-01-31T09:59:00Z',
    updatedAt: '2025-02-28T10:00:05',
    invoices: [
      {
        invoiceKey: 'inv_2',
        type: 'Recurring',
        status: 'Failed',
        amount: '19.98',
        creditApplied: '0.00',
        currency: 'EUR',
        periodStart: '2025-02-28T10:00:00Z',
        periodEnd: '2025-03-28T10:00:00Z',
        issuedAt: '2025-02-28T10:00:00Z',
        cycle: 2,
        transactions: [
          {
            transactionId: 1002,
            transactionType: 'PayIn',
            transactionStatus: 'Rejected',
            amount: '19.98',
            currency: 'EUR',
            declineReasonText: 'Insufficient funds',
            issuedAt: '2025-02-28T10:00:01Z',
          },
        ],
      },
      {
        invoiceKey: 'inv_1',
        type: 'Initial',
        status: 'Paid',
        amount: '19.98',
        creditApplied: '0.00',
        currency: 'EUR',
        periodStart: '2025-01-31T10:00:00Z',
        periodEnd: '2025-02-28T10:00:00Z',
        issuedAt: '2025-01-31T10:00:00Z',
        cycle: 1,
        transactions: [
          {
            transactionId: 1001,
            transactionType: 'PayIn',
            transactionStatus: 'Success',
            amount: '19.98',
            currency: 'EUR',
            declineReasonText: null,
            issuedAt: '2025-01-31T10:00:00Z',
          },
          {
            transactionId: 1003,
            transactionType: 'Refund',
            transactionStatus: 'Success',
            amount: '1.00',
            currency: 'EUR',
            declineReasonText: null,
            issuedAt: '2025-02-01T10:00:00Z',
          },
        ],
      },
    ],
    ...over,
  };
}

const EUR = (amountMinor: bigint) => ({ currency: 'EUR', amountMinor });

describe('Paytiko membership mapping', () => {
  it('maps a membership with its invoices and PayIn transactions into our vocabulary', () => {
    const state = toSubscriptionState(membership());
    expect(state).toEqual({
      ref: 'mmbrshp_0123456789abcdef01234567',
      orderId: 'sub_1',
      customerRef: 'cstmr_0123456789abcdef01234567',
      planRef: 'plan_basic',
      status: 'PAST_DUE',
      // In dunning: the last paid period (Paytiko already shows the unpaid one, 2025-02-28 to 03-28).
      currentPeriodStart: new Date('2025-01-31T10:00:00Z'),
      currentPeriodEnd: new Date('2025-02-28T10:00:00Z'),
      quantity: 2,
      canceledAt: undefined,
      endedAt: undefined,
      cycleIndex: 2,
      // No offset means UTC.
      observedAt: new Date('2025-02-28T10:00:05Z'),
      invoices: [
        {
          ref: 'inv_2',
          subscriptionRef: 'mmbrshp_0123456789abcdef01234567',
          orderId: 'sub_1',
          customerRef: 'cstmr_0123456789abcdef01234567',
          paymentRef: undefined,
          amount: EUR(1998n),
          type: 'RENEWAL',
          status: 'FAILED',
          cycleIndex: 2,
          periodStart: new Date('2025-02-28T10:00:00Z'),
          periodEnd: new Date('2025-03-28T10:00:00Z'),
        },
        expect.objectContaining({ ref: 'inv_1', type: 'INITIAL', status: 'PAID', paymentRef: '1001', cycleIndex: 1 }),
      ],
      payments: [
        {
          ref: '1002',
          orderId: 'sub_1',
          customerRef: 'cstmr_0123456789abcdef01234567',
          subscriptionRef: 'mmbrshp_0123456789abcdef01234567',
          invoiceRef: 'inv_2',
          kind: 'recurring',
          amount: EUR(1998n),
          status: 'FAILED',
          refundState: 'NONE',
          refundedAmount: EUR(0n),
          failure: { code: 'Rejected', message: 'Insufficient funds' },
          paidAt: undefined,
        },
        expect.objectContaining({
          ref: '1001',
          kind: 'initial',
          status: 'SUCCEEDED',
          invoiceRef: 'inv_1',
          paidAt: new Date('2025-01-31T10:00:00Z'),
        }),
      ],
    });
  });

  it('reports the period Paytiko shows once the new cycle is paid (the recovery is the renewal)', () => {
    const paid = membership().invoices.map((invoice, index) =>
      index === 0
        ? { ...invoice, status: 'Paid', transactions: [{ ...invoice.transactions[0]!, transactionStatus: 'Success' }] }
        : invoice,
    );
    const state = toSubscriptionState(membership({ status: 'Active', invoices: paid }));
    expect([state.currentPeriodStart, state.currentPeriodEnd]).toEqual([
      new Date('2025-02-28T10:00:00Z'),
      new Date('2025-03-28T10:00:00Z'),
    ]);
    const unpaid = toSubscriptionState(membership({ status: 'Unpaid' }));
    expect(unpaid.currentPeriodEnd).toEqual(new Date('2025-02-28T10:00:00Z'));
  });

  it.each([
    ['Incomplete', 'INCOMPLETE'],
    ['Expired', 'INCOMPLETE_EXPIRED'],
    ['Active', 'ACTIVE'],
    ['PastDue', 'PAST_DUE'],
    ['Unpaid', 'UNPAID'],
    ['Canceled', 'CANCELED'],
    ['Completed', 'COMPLETED'],
  ])('maps status %s to %s', (status, ours) => {
    expect(toSubscriptionState(membership({ status })).status).toBe(ours);
  });

  it('dates a cancel by canceledAt, maps Proration invoices to UPGRADE, Pending to PROCESSING', () => {
    const state = toSubscriptionState(
      membership({
        status: 'Canceled',
        canceledAt: '2025-03-01T00:00:00Z',
        invoices: [
          {
            invoiceKey: 'inv_3',
            type: 'Proration',
            status: 'Open',
            amount: '3.21',
            currency: 'EUR',
            periodStart: null,
            periodEnd: null,
            cycle: 2,
            transactions: [
              { transactionId: 7, transactionType: 'PayIn', transactionStatus: 'Pending', amount: '3.21' },
            ],
          },
        ],
      }),
    );
    expect(state).toMatchObject({
      status: 'CANCELED',
      canceledAt: new Date('2025-03-01T00:00:00Z'),
      endedAt: new Date('2025-03-01T00:00:00Z'),
    });
    expect(state.invoices![0]).toMatchObject({ type: 'UPGRADE', status: 'OPEN', amount: EUR(321n) });
    expect(state.payments![0]).toMatchObject({ status: 'PROCESSING', kind: 'recurring', failure: undefined });
  });

  it('refuses unknown statuses and amounts with more digits than the currency has, naming the field', () => {
    expect(() => toSubscriptionState(membership({ status: 'Paused' }))).toThrow(/membership.status/);
    const bad = membership();
    bad.invoices[0]!.amount = '19.981';
    expect(() => toSubscriptionState(bad)).toThrow(/membership.invoices\[0\].amount/);
  });

  it('reads no plan from metadata that is not ours', () => {
    expect(toSubscriptionState(membership({ metadata: 'free text' })).planRef).toBeUndefined();
  });
});

describe('Paytiko checkout state', () => {
  it('is OPEN while Incomplete, EXPIRED when Expired or ended unpaid, COMPLETE once paid', () => {
    expect(toCheckoutState(membership({ status: 'Incomplete', startDate: null }))).toEqual({
      ref: 'mmbrshp_0123456789abcdef01234567',
      status: 'OPEN',
      orderId: 'sub_1',
    });
    expect(toCheckoutState(membership({ status: 'Expired', startDate: null })).status).toBe('EXPIRED');
    expect(toCheckoutState(membership({ status: 'Canceled', startDate: null })).status).toBe('EXPIRED');
    expect(toCheckoutState(membership({ status: 'Active' }))).toEqual({
      ref: 'mmbrshp_0123456789abcdef01234567',
      status: 'COMPLETE',
      orderId: 'sub_1',
      subscriptionRef: 'mmbrshp_0123456789abcdef01234567',
    });
  });
});

describe('Paytiko problem details', () => {
  it('maps a 400 to INVALID_ARGUMENT with violations named as our fields', () => {
    const error = problemToError(
      400,
      JSON.stringify({
        type: 'about:blank',
        title: 'One or more validation errors occurred.',
        status: 400,
        errors: {
          'pricingInfo.totalAmount': ['must equal pricePerUnit × quantity'],
          phone: ['bad phone'],
          'something.else': ['odd'],
        },
      }),
      'Paytiko createCheckout',
    );
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.violations).toEqual([
      { field: 'plan.price', rule: 'Paytiko pricingInfo.totalAmount: must equal pricePerUnit ? quantity' },
      { field: 'customer.phone', rule: 'Paytiko phone: bad phone' },
      { field: 'paytiko.something.else', rule: 'Paytiko something.else: odd' },
    ]);
  });

  it('maps 404 to NOT_FOUND, 409 to FAILED_PRECONDITION, and survives a body that is not JSON', () => {
    const notFound = problemToError(404, '{"title":"Membership not found","status":404}', 'x', "membership 'm'");
    expect(notFound).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("membership 'm'") });
    const state = problemToError(409, '{"title":"An update is already pending","status":409}', 'Paytiko changePlan');
    expect(state).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('already pending') });
    expect(problemToError(400, '<html>', 'x')).toMatchObject({
      code: 'INVALID_ARGUMENT',
      violations: [{ field: 'paytiko', rule: 'HTTP 400' }],
    });
  });
});
