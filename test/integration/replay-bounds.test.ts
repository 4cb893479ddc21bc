import { systemContext } from '../../src/app/call-context';
import { EventUseCases, MAX_REPLAYED_EVENTS } from '../../src/app/use-cases/events';
import { systemClock } from '../../src/ports/clock.port';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { migratedDatabase } from '../support/test-database';

/**
 * ReplayEvents queues a range of the event log in one transaction. Unbounded, one call naming a busy storefront queued
 * its whole history at once: minutes of one transaction, and every consumer's new events behind it.
 */
describe('ReplayEvents replays at most MAX_REPLAYED_EVENTS events a call', () => {
  const migrated = migratedDatabase();

  it('refuses a filter matching more, queuing nothing, and replays the same range in parts', async () => {
    // One more event than a call replays, published (none pending), the last one a minute after the others.
    await migrated.database.knex.raw(
      `INSERT INTO outbox (event_id, type, stream, key, storefront_id, tenant_id, provider, aggregate_id, sequence,
         occurred_at, payload)
       SELECT 'evt_' || g, 'billing.customer.created', 'customers', 'cus_' || g, 'busy', 'tenant', 'subotiz',
         'cus_' || g, 1,
         CASE WHEN g > ? THEN timestamptz '2030-01-01 00:01:00Z' ELSE timestamptz '2030-01-01 00:00:00Z' END,
         '\\x00'::bytea
       FROM generate_series(1, ?) g`,
      [MAX_REPLAYED_EVENTS, MAX_REPLAYED_EVENTS + 1],
    );
    await migrated.database.knex('outbox_pending').delete();
    const events = new EventUseCases(new KnexUnitOfWork(migrated.database.knex, systemClock));
    const pending = async () => Number((await migrated.database.knex('outbox_pending').count('* as n'))[0]!.n);

    const refused = await events.replay({ storefrontId: 'busy' }, systemContext('replay-all')).catch((e) => e);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(refused.message).toContain(`matches more than ${MAX_REPLAYED_EVENTS} events`);
    expect(await pending()).toBe(0);

    const minute = new Date('2030-01-01T00:01:00Z');
    expect(await events.replay({ storefrontId: 'busy', until: minute }, systemContext('part-1'))).toBe(
      MAX_REPLAYED_EVENTS,
    );
    expect(await events.replay({ storefrontId: 'busy', since: minute }, systemContext('part-2'))).toBe(1);
    expect(await pending()).toBe(MAX_REPLAYED_EVENTS + 1);
  });
});
