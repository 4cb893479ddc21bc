import type { EventUseCases } from '../../app/events';
import type { EventFilter } from '../../ports/store.port';
import type { EventServiceService } from '../../gen/billing/v1/event';
import * as pb from '../../gen/billing/v1/event';
import { Handlers, mutation, query } from '../rpc-wrapper';

function filterOf(req: pb.ListEventsRequest | pb.ReplayEventsRequest): EventFilter {
  return {
    storefrontId: req.storefrontId || undefined,
    aggregateId: req.aggregateId || undefined,
    types: req.types,
    since: req.since,
    until: req.until,
  };
}

/** ListEvents serves the outbox's own bytes, so a listed event is exactly what Kafka carries (protobuf). */
export function eventHandlers(events: EventUseCases): Handlers<EventServiceService> {
  return {
    listEvents: query(async (req: pb.ListEventsRequest): Promise<pb.ListEventsResponse> => {
      const page = await events.list(filterOf(req), req.pageSize, req.pageToken);
      return { events: page.items.map((e) => pb.BillingEvent.decode(e.payload)), nextPageToken: page.nextPageToken };
    }),
    replayEvents: mutation(async (req: pb.ReplayEventsRequest, ctx): Promise<pb.ReplayEventsResponse> => ({
      replayedCount: BigInt(await events.replay(filterOf(req), ctx)),
    })),
  };
}
