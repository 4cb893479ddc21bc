import { followReplacements, toCheckoutState } from '../../adapters/azotte/mapping';
import { int } from '../../adapters/kit/json';
import { nextCheckoutPoll } from '../../src/app/engine/checkout-polling';
import { DomainError } from '../../src/domain/errors';

/** What a misbehaving provider answers must end in a refusal or a sane value, never a crash, a stall or a bad date. */
describe('hostile provider answers', () => {
  it('a value nested too deeply to quote is still refused as INVALID_ARGUMENT naming the field', () => {
    let nested: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) nested = [nested];
    let refusal: unknown;
    try {
      int({ amount: nested }, 'amount', 'payment');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DomainError);
    expect((refusal as Error).message).toContain('payment.amount');
  });

  it('a poll hint of 2^53 seconds becomes a poll within the hour, and an invalid date the default 10 s', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const checkout = { trackingNumber: 'trk_1', followUpInstructions: { retryAfterSeconds: 9007199254740991 } };
    const state = toCheckoutState(checkout, 'CHECK_OUT_PROCESSING', now);
    expect(state.checkAt!.getTime() - now.getTime()).toBe(3_600_000);
    expect(nextCheckoutPoll({ checkAt: new Date(NaN) }, now).getTime() - now.getTime()).toBe(10_000);
  });

  it('follows a list of 60,000 replacements chained in reverse to its newest (a search of the list per link took 6 s)', () => {
    const list = Array.from({ length: 60_000 }, (_, i) => ({
      orderIdentifier: `o${i}`,
      replacedByOrderIdentifier: i > 0 ? `o${i - 1}` : undefined,
    }));
    const { newest, previous } = followReplacements(list, list[59_999]!);
    expect(newest.orderIdentifier).toBe('o0');
    expect(previous!.orderIdentifier).toBe('o1');
  });
});
