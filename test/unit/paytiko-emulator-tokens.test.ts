import { issueToken } from '../../adapters/paytiko/emulator/auth';
import type { EmulatorContext } from '../../adapters/paytiko/emulator/context';
import { EmulatorState } from '../../adapters/paytiko/emulator/state';

describe('Paytiko emulator tokens are kept only while they live', () => {
  const merchant = { userName: 'm', password: 'pw', processorKey: 'p', secretKey: 's', tokenTtlSeconds: 60 };
  const login = (ctx: EmulatorContext) => issueToken(ctx, { userName: 'm', password: 'pw' }).token;

  it('prunes expired tokens at the next auth, and writes no expired token to the state file', () => {
    const state = new EmulatorState();
    state.addMerchant(merchant);
    const ctx = { state } as EmulatorContext;
    login(ctx);
    login(ctx);
    expect(state.tokens.size).toBe(2);

    state.clock.advance(61_000);
    // Expired, but not yet pruned: the snapshot leaves them out all the same.
    expect(state.snapshot().tokens).toEqual([]);
    const live = login(ctx);
    expect([...state.tokens.keys()]).toEqual([live]);
    expect(state.snapshot().tokens.map(([token]) => token)).toEqual([live]);
  });
});
