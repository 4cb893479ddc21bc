import type { SubscriptionHandle } from '../../src/ports/provider-adapter.port';
import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefront, fakeStorefrontService } from '../support/fake-storefront';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { startTestService, TestService } from '../support/test-service';

/**
 * A webhook is processed in a transaction that holds a lane, a pooled connection and its row locks while it waits on
 * the provider. A provider that accepts a request and never answers used to hold them for as long as every timeout
 * and retry of every call the webhook needed; WEBHOOK_PROCESSING_TIMEOUT_MS bounds the attempt.
 */
describe('webhook processing has a deadline (WEBHOOK_PROCESSING_TIMEOUT_MS)', () => {
  // A notification provider: each webhook only says "fetch it", so processing always calls the provider.
  const fake = fakeProvider('fakeslow', { webhooks: 'notification' });
  const world = fakeStorefrontService(fake, 'fake-slow', {
    WEBHOOK_PROCESSING_TIMEOUT_MS: '1000',
    // Long enough to read the failed attempt before its retry clears it.
    WEBHOOK_RETRY_BASE_MS: '3000',
    WEBHOOK_POLL_INTERVAL_MS: '50',
  });

  const inboxRow = (eventId: string) =>
    withClient(world.db.url, async (c) => {
      const { rows } = await c.query(
        'select status, attempts, last_error from webhook_inbox where provider_event_id = $1',
        [eventId],
      );
      return rows[0] as { status: string; attempts: number; last_error: string | null } | undefined;
    });

  it('abandons the provider call that never answers, fails the attempt saying so, and applies the retry', async () => {
    const subscription = await world.store.activeSubscription();
    const hung = fake.holdNext('getSubscription', (h) => (h as SubscriptionHandle).id === subscription.id);
    await fake.send(world.store.storefrontId, {
      id: 'fevt_hung',
      type: 'subscription.changed',
      data: { ref: subscription.providerRef },
    });
    await hung.reached;

    // Not released: the attempt ends at its deadline, not when the provider answers (released after, so a failing
    // run does not leave the service waiting for it).
    const failed = await eventually(
      () => inboxRow('fevt_hung'),
      (row) => (row?.attempts ?? 0) >= 1,
      10_000,
    ).finally(() => hung.release());
    expect(failed!.last_error).toContain('processing passed its deadline (WEBHOOK_PROCESSING_TIMEOUT_MS=1000)');
    expect(failed!.last_error).toContain('abandoned');

    // The retry asks again, the provider answers, and the webhook is applied.
    await eventually(
      () => inboxRow('fevt_hung'),
      (row) => row?.status === 'PROCESSED',
    );
  });

  describe('when the service stops', () => {
    const stopping = fakeProvider('fakestop', { webhooks: 'notification' });
    let stopDb: TestDatabase;
    let stopped: TestService | undefined;
    let closing: Promise<void> | undefined;
    let hung: { reached: Promise<void>; release: () => void } | undefined;

    afterAll(async () => {
      // A run that failed may have left the call held and the service waiting for it.
      hung?.release();
      await closing;
      await stopped?.close();
      await stopDb?.drop();
    });

    it('ends an attempt waiting on its provider, uncounted, instead of waiting out the deadline', async () => {
      stopDb = await createTestDatabase();
      // A deadline longer than any test: only stopping can end the attempt.
      stopped = await startTestService(
        { DATABASE_URL: stopDb.url, WEBHOOK_PROCESSING_TIMEOUT_MS: '600000', WEBHOOK_POLL_INTERVAL_MS: '50' },
        { extraProviders: [stopping.module] },
      );
      const slow = await fakeStorefront(stopped, stopping, 'fake-stop');
      const subscription = await slow.activeSubscription();
      hung = stopping.holdNext('getSubscription', (h) => (h as SubscriptionHandle).id === subscription.id);
      await stopping.send(slow.storefrontId, {
        id: 'fevt_at_stop',
        type: 'subscription.changed',
        data: { ref: subscription.providerRef },
      });
      await hung.reached;
      slow.close();

      closing = stopped.close();
      stopped = undefined;
      await closing;

      const row = await withClient(stopDb.url, async (c) => {
        const { rows } = await c.query('select status, attempts from webhook_inbox where provider_event_id = $1', [
          'fevt_at_stop',
        ]);
        return rows[0];
      });
      expect(row).toEqual({ status: 'PENDING', attempts: 0 });
    });
  });
});
