import { ApiFaults, withApiFault } from '../../adapters/kit/emulator/faults';

type Reply = { status: number; body: string };

// Runs one request through withApiFault; answers what was sent and whether the request was performed / discarded.
async function run(faults: ApiFaults, path = '/api/x') {
  const sent: Reply[] = [];
  let performed = 0;
  let discarded = 0;
  await withApiFault<Reply>({
    faults,
    pathAndQuery: path,
    signal: new AbortController().signal,
    discardBody: () => (discarded += 1),
    perform: () => {
      performed += 1;
      return Promise.resolve({ status: 200, body: 'ok' });
    },
    faultReply: (status) => ({ status, body: `fault ${status}` }),
    send: (reply) => sent.push(reply),
  });
  return { sent, performed, discarded };
}

describe('emulator kit API faults (withApiFault)', () => {
  it('without a fault performs the request and sends its answer', async () => {
    expect(await run(new ApiFaults())).toEqual({ sent: [{ status: 200, body: 'ok' }], performed: 1, discarded: 0 });
  });

  it('a fault before answers the rendered fault without performing, discarding the body', async () => {
    const faults = new ApiFaults();
    faults.arm({ remaining: 1, status: 503, delayMs: 0, after: false });
    expect(await run(faults)).toEqual({ sent: [{ status: 503, body: 'fault 503' }], performed: 0, discarded: 1 });
    expect(await run(faults)).toEqual({ sent: [{ status: 200, body: 'ok' }], performed: 1, discarded: 0 });
  });

  it('an `after` fault performs the request, then loses its answer', async () => {
    const faults = new ApiFaults();
    faults.arm({ remaining: 1, status: 500, delayMs: 0, after: true, path: '/api/x' });
    expect(await run(faults, '/api/other')).toEqual({
      sent: [{ status: 200, body: 'ok' }],
      performed: 1,
      discarded: 0,
    });
    expect(await run(faults)).toEqual({ sent: [{ status: 500, body: 'fault 500' }], performed: 1, discarded: 0 });
  });

  it('a 2xx fault is only a delay: the real answer is sent', async () => {
    const faults = new ApiFaults();
    faults.arm({ remaining: 1, status: 200, delayMs: 1, after: false });
    expect(await run(faults)).toEqual({ sent: [{ status: 200, body: 'ok' }], performed: 1, discarded: 0 });
  });
});
