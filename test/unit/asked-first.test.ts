import type { Subscription } from '../../src/domain/subscription';
import { AskedFirst, StateInDoubt } from '../../src/app/inbound/subscription-answers';

const subscription = (version: number) => ({ id: 'sub_1', version }) as Subscription;

describe('AskedFirst: what the provider said before the lock', () => {
  it('knows whether it was asked while the subscription was as it is now', async () => {
    const asked = new AskedFirst();
    asked.record('sub_1', { ref: 'ref_1', status: 'PAUSED' }, 3);
    expect(asked.askedOfThisVersion(subscription(3))).toBe(true);
    // A change of ours committed between the question and the lock: the answer may be older than the row.
    expect(asked.askedOfThisVersion(subscription(4))).toBe(false);
    expect((await asked.stateOf(subscription(4)))?.status).toBe('PAUSED');
  });

  it('a sweep’s fetch, recorded without a version, is never taken as asked of the row', () => {
    expect(AskedFirst.of('sub_1', { ref: 'ref_1', status: 'ACTIVE' }).askedOfThisVersion(subscription(1))).toBe(false);
  });

  it('a subscription no one asked about is in doubt', async () => {
    await expect(new AskedFirst().stateOf(subscription(1))).rejects.toBeInstanceOf(StateInDoubt);
  });
});
