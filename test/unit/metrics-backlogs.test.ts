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
});
