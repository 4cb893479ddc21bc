import { derivedFrom } from '../../src/app/use-cases/checkout-sessions';
import type { Payment, PaymentStatus } from '../../src/domain/payment';
import type { Subscription, SubscriptionStatus } from '../../src/domain/subscription';

const subscription = (status: SubscriptionStatus) => ({ subscription: { status } as Subscription });
const payment = (status: PaymentStatus, failure?: Payment['failure']) => ({
  payment: { status, failure } as Payment,
});

/** What a checkout session's own subscription or payment says of it (GetCheckoutSession trusts this first). */
describe('a checkout session derived from what it sells', () => {
  it.each([
    ['INCOMPLETE', undefined],
    ['INCOMPLETE_EXPIRED', 'EXPIRED'],
    ['TRIALING', 'COMPLETE'],
    ['ACTIVE', 'COMPLETE'],
    ['PAST_DUE', 'COMPLETE'],
    ['CANCELED', 'COMPLETE'],
  ] as const)('subscription %s → %s', (status, expected) => {
    expect(derivedFrom(subscription(status))?.status).toBe(expected);
  });

  it.each([
    ['REQUIRES_PAYMENT_METHOD', undefined],
    ['PROCESSING', undefined],
    ['SUCCEEDED', 'COMPLETE'],
    ['CLOSED', 'EXPIRED'],
    ['FAILED', 'FAILED'],
  ] as const)('payment %s → %s', (status, expected) => {
    expect(derivedFrom(payment(status))?.status).toBe(expected);
  });

  it("keeps a failed payment's reason", () => {
    const failure = { code: 'card_declined', message: 'Insufficient funds' };
    expect(derivedFrom(payment('FAILED', failure))).toEqual({ status: 'FAILED', failure });
  });

  it('says nothing when it sells nothing we know of', () => {
    expect(derivedFrom({})).toBeUndefined();
  });
});
