import { DomainError, invalidArgument } from '../../src/domain/errors';
import { admission } from '../../src/grpc/interceptors/admission';
import type { RpcCall, RpcResult } from '../../src/grpc/interceptors/interceptor';
import { isTransactionConflict } from '../../src/store/database';

const call = {} as RpcCall;
const databaseDown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function interceptor(maxInFlight: number, reachable = () => true) {
  return admission({
    maxInFlight,
    isDatabaseUnavailable: (error) => error === databaseDown,
    isTransactionConflict,
    databaseReachable: reachable,
  });
}

describe('admission', () => {
  it('refuses calls beyond the limit at once, and admits again once calls finish (also failed ones)', async () => {
    const admit = interceptor(2);
    const release: Array<() => void> = [];
    const hold = () => new Promise<RpcResult>((resolve) => release.push(() => resolve({ response: 'ok' })));
    const first = admit(call, hold);
    const second = admit(call, () => hold().then(() => Promise.reject(invalidArgument([{ field: 'x', rule: 'y' }]))));
    await expect(admit(call, async () => ({ response: 'third' }))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'overloaded, retry',
    });
    for (const r of release) r();
    await expect(first).resolves.toEqual({ response: 'ok' });
    await expect(second).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(admit(call, async () => ({ response: 'again' }))).resolves.toEqual({ response: 'again' });
  });

  it('turns a database outage into UNAVAILABLE with its cause, and leaves other errors alone', async () => {
    const admit = interceptor(10);
    const refused = await admit(call, () => Promise.reject(databaseDown)).catch((e: DomainError) => e);
    expect(refused).toMatchObject({ code: 'UNAVAILABLE', message: 'database unavailable, retry', cause: databaseDown });
    const bug = new TypeError('a bug');
    await expect(admit(call, () => Promise.reject(bug))).rejects.toBe(bug);
  });

  it('refuses before running anything while the database monitor finds the database unreachable', async () => {
    let ran = false;
    const admit = interceptor(10, () => false);
    await expect(
      admit(call, async () => {
        ran = true;
        return { response: 'x' };
      }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'database unavailable, retry' });
    expect(ran).toBe(false);
  });

  it('turns a deadlock or serialization failure (also wrapped) into ABORTED, so callers retry', async () => {
    const admit = interceptor(10);
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const wrapped = new Error('insert failed', {
      cause: Object.assign(new Error('could not serialize'), { code: '40001' }),
    });
    for (const error of [deadlock, wrapped]) {
      const refused = await admit(call, () => Promise.reject(error)).catch((e: DomainError) => e);
      expect(refused).toMatchObject({ code: 'ABORTED', cause: error });
    }
    const uniqueViolation = Object.assign(new Error('duplicate key'), { code: '23505' });
    await expect(admit(call, () => Promise.reject(uniqueViolation))).rejects.toBe(uniqueViolation);
  });
});
