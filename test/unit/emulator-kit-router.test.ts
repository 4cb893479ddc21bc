import { matchRoute, route } from '../../adapters/kit/emulator/router';
import { EmulatorClock } from '../../adapters/kit/emulator/clock';
import { WebhookFaults } from '../../adapters/kit/emulator/faults';
import { exponentialRetries, listedRetries } from '../../adapters/kit/emulator/retry-schedules';

describe('emulator kit router', () => {
  const routes = [
    route('GET', '/api/v1/subscription/{id}', 'get'),
    route('POST', '/api/v1/subscription/{id}/cancel', 'cancel'),
    route('GET', '/api/v1/trades', 'list'),
    route('POST', '/api/v1.0/x', 'dotted'),
  ];

  it('finds the handler for method and path with its params decoded', () => {
    expect(matchRoute(routes, 'POST', '/api/v1/subscription/a%20b/cancel')).toEqual({
      kind: 'found',
      handler: 'cancel',
      params: { id: 'a b' },
    });
  });

  it('answers 405 material (the allowed methods) for a known path and a wrong method, not-found otherwise', () => {
    expect(matchRoute(routes, 'DELETE', '/api/v1/subscription/1')).toEqual({
      kind: 'method-not-allowed',
      allowed: ['GET'],
    });
    expect(matchRoute(routes, 'GET', '/api/v1/subscription/1/extra')).toEqual({ kind: 'not-found' });
    // A template's dot is literal, not "any character".
    expect(matchRoute(routes, 'POST', '/api/v1x0/x').kind).toBe('not-found');
  });

  it('keeps a malformed escape as the raw segment instead of throwing', () => {
    expect(matchRoute(routes, 'GET', '/api/v1/subscription/%E0%A4%A')).toMatchObject({
      kind: 'found',
      params: { id: '%E0%A4%A' },
    });
  });
});

describe('emulator kit clock', () => {
  it('is wall time plus an offset, in whole seconds, and keeps running after an advance', () => {
    let wall = Date.UTC(2030, 0, 1, 0, 0, 0, 700);
    const clock = new EmulatorClock(0, () => wall);
    expect(clock.now()).toBe(Date.UTC(2030, 0, 1));
    clock.advance(86_400_000);
    expect(clock.now()).toBe(Date.UTC(2030, 0, 2));
    wall += 5_000;
    expect(clock.now()).toBe(Date.UTC(2030, 0, 2, 0, 0, 5));
    expect(clock.offset()).toBe(86_400_000);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    clock.reset();
    expect(clock.now()).toBe(Date.UTC(2030, 0, 1, 0, 0, 5));
  });
});

describe('emulator kit webhook faults and retry schedules', () => {
  it('drops, duplicates, and holds a batch to release it newest first', () => {
    const faults = new WebhookFaults<string>();
    expect(faults.decide('a')).toEqual({ action: 'deliver', times: 1 });
    faults.arm('drop', 1);
    faults.arm('duplicate', 1);
    faults.arm('reorder', 3);
    expect(faults.decide('b')).toEqual({ action: 'drop' });
    expect(faults.decide('c')).toEqual({ action: 'deliver', times: 2 });
    expect(faults.decide('d')).toEqual({ action: 'hold' });
    expect(faults.decide('e')).toEqual({ action: 'hold' });
    expect(faults.decide('f')).toEqual({ action: 'release', events: ['f', 'e', 'd'] });
    expect(faults.decide('g')).toEqual({ action: 'deliver', times: 1 });
  });

  it('exponential: 1, 2, 4 … bases capped, then gives up; listed: the waits in order', () => {
    const schedule = exponentialRetries(60_000, 240, 16);
    expect([0, 1, 2, 7, 8, 15].map(schedule)).toEqual([60_000, 120_000, 240_000, 7_680_000, 14_400_000, 14_400_000]);
    expect(schedule(16)).toBeUndefined();
    const listed = listedRetries([0, 300_000]);
    expect([0, 1, 2].map(listed)).toEqual([0, 300_000, undefined]);
  });
});
