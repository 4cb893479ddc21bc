import { tenantScopeOf } from '../tenant-scope';
import { invalidArgument } from '../../domain/errors';
import { isEventType } from '../../domain/event-catalogue';
import type { EventFilter, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import { pageOf, readPage } from './pagination';

/**
 * Events one ReplayEvents call queues at most. A replay is one transaction: millions of rows queued at once would
 * hold it (and the rows' locks) for minutes and put them all ahead of new events for every consumer; a larger
 * range is replayed in parts, which consumers see in the same order.
 */
export const MAX_REPLAYED_EVENTS = 100_000;

/** The event log: every event ever written, published or not. */
export class EventUseCases {
  constructor(private readonly uow: UnitOfWork) {}

  /** A tenant-scoped caller sees only its tenant's events, whatever the filter names. */
  async list(filter: EventFilter, pageSize: number, pageToken: string, ctx: Pick<CallContext, 'caller'> = {}) {
    validate(filter);
    const page = readPage(pageSize, pageToken, 'sequence');
    const scoped = { ...filter, tenantId: tenantScopeOf(ctx) };
    const events = await this.uow.reads.events.list(scoped, { size: page.size + 1, afterPosition: page.after });
    return pageOf(events, page, (e) => e.position);
  }

  /** Queues matching events to be published again with their original ids. */
  async replay(filter: EventFilter, ctx: CallContext): Promise<number> {
    validate(filter);
    if (!filter.storefrontId && !filter.aggregateId && !filter.types?.length && !filter.since && !filter.until) {
      throw invalidArgument([{ field: 'storefront_id', rule: 'at least one filter is required to replay' }]);
    }
    return this.uow.transaction(async (repos) => {
      const count = await repos.events.requeue({ ...filter, tenantId: tenantScopeOf(ctx) }, MAX_REPLAYED_EVENTS);
      if (count === undefined) {
        throw invalidArgument([
          {
            field: narrowest(filter),
            rule: `the filter matches more than ${MAX_REPLAYED_EVENTS} events; replay them in parts (narrow since/until)`,
          },
        ]);
      }
      await repos.audit.record({
        ...ctx,
        action: 'ReplayEvents',
        resourceType: 'event',
        resourceId: filter.aggregateId ?? '*',
        storefrontId: filter.storefrontId,
        details: { count, types: filter.types, since: filter.since, until: filter.until },
      });
      return count;
    }, ctx);
  }
}

/** The filter field a refusal names: the time range if one was sent (what narrows a replay), else what was sent. */
function narrowest(filter: EventFilter): string {
  if (filter.since) return 'since';
  if (filter.until) return 'until';
  if (filter.aggregateId) return 'aggregate_id';
  if (filter.types?.length) return 'types';
  return 'storefront_id';
}

function validate(filter: EventFilter): void {
  const bad = (filter.types ?? []).findIndex((t) => !isEventType(t));
  if (bad >= 0)
    throw invalidArgument([{ field: `types[${bad}]`, rule: `'${filter.types![bad]}' is not an event type` }]);
  if (filter.since && filter.until && filter.since > filter.until) {
    throw invalidArgument([{ field: 'until', rule: 'must not be before since' }]);
  }
}
