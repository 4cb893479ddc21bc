import { createMetrics } from '../../src/telemetry/metrics';

describe('backlog gauges at scrape time', () => {
  it('concurrent scrapes share one read of each backlog; a later scrape reads again', async () => {
    let reads = 0;
    const slowCount = () =>
      new Promise<number>((resolve) => {
        reads += 1;
        setTimeout(() => resolve(7), 20);
      });
    const metrics = createMetrics({
      outbox: slowCount,
      webhookInbox: slowCount,
      deadLetters: slowCount,
      parkedEvents: slowCount,
    });
    const scrapes = await Promise.all(Array.from({ length: 50 }, () => metrics.registry.metrics()));
    expect(reads).toBe(4);
    expect(scrapes.every((text) => text.includes('billing_outbox_backlog 7'))).toBe(true);
    await metrics.registry.metrics();
    expect(reads).toBe(8);
  });

  it('a failed read fails the scrapes that shared it, and the next scrape reads afresh', async () => {
    let fail = true;
    const count = async () => {
      if (fail) throw new Error('database away');
      return 3;
    };
    const metrics = createMetrics({ outbox: count, webhookInbox: count, deadLetters: count, parkedEvents: count });
    await expect(metrics.registry.metrics()).rejects.toThrow('database away');
    fail = false;
    expect(await metrics.registry.metrics()).toContain('billing_outbox_backlog 3');
  });
});
