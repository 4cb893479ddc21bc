import { Histogram, Registry } from 'prom-client';
import { meterProviderCalls } from '../../src/telemetry/provider-call-metrics';

function histogram() {
  const registry = new Registry();
  const calls = new Histogram({
    name: 'calls_seconds',
    help: 'calls',
    labelNames: ['provider', 'operation', 'outcome'] as const,
    registers: [registry],
  });
  const count = async (labels: string) =>
    Number(
      (await registry.metrics())
        .split('\n')
        .find((line) => line.startsWith(`calls_seconds_count{${labels}}`))
        ?.split(' ')
        .at(-1) ?? 0,
    );
  return { calls, count };
}

describe('meterProviderCalls', () => {
  const request = { provider: 'acme', operation: 'createCheckout' };

  it('counts answers by provider, operation and outcome: 2xx ok, 4xx rejected', async () => {
    const { calls, count } = histogram();
    let status = 201;
    const send = meterProviderCalls(calls, async () => ({ status }));
    await expect(send(request)).resolves.toEqual({ status: 201 });
    status = 422;
    await expect(send(request)).resolves.toEqual({ status: 422 });
    expect(await count('provider="acme",operation="createCheckout",outcome="ok"')).toBe(1);
    expect(await count('provider="acme",operation="createCheckout",outcome="rejected"')).toBe(1);
  });

  it('counts a thrown call as failed and throws the same error', async () => {
    const { calls, count } = histogram();
    const error = new Error('unreachable');
    const send = meterProviderCalls(calls, async () => {
      throw error;
    });
    await expect(send(request)).rejects.toBe(error);
    expect(await count('provider="acme",operation="createCheckout",outcome="failed"')).toBe(1);
  });
});
