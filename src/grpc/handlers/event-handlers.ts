import type { DeadLetterUseCases } from '../../app/use-cases/dead-letters';
import type { EventUseCases } from '../../app/use-cases/events';
import type { DeadLetter } from '../../ports/store.port';
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
export function eventHandlers(events: EventUseCases, deadLetters: DeadLetterUseCases): Handlers<EventServiceService> {
  return {
    listEvents: query(async (req: pb.ListEventsRequest, ctx): Promise<pb.ListEventsResponse> => {
      const page = await events.list(filterOf(req), req.pageSize, req.pageToken, ctx);
      return { events: page.items.map((e) => pb.BillingEvent.decode(e.payload)), nextPageToken: page.nextPageToken };
    }),
    replayEvents: mutation(
      (req: pb.ReplayEventsRequest, ctx) => events.replay(filterOf(req), ctx),
      (count): pb.ReplayEventsResponse => ({ replayedCount: BigInt(count) }),
    ),
    listDeadLetters: query(async (req: pb.ListDeadLettersRequest): Promise<pb.ListDeadLettersResponse> => {
      const page = await deadLetters.list(
        { storefrontId: req.storefrontId, provider: req.provider },
        req.pageSize,
        req.pageToken,
      );
      return { deadLetters: page.items.map(toDeadLetterMessage), nextPageToken: page.nextPageToken };
    }),
    retryDeadLetter: mutation(
      (req: pb.RetryDeadLetterRequest, ctx) => deadLetters.retry(req.deadLetterId, ctx),
      (letter): pb.RetryDeadLetterResponse => ({ deadLetter: toDeadLetterMessage(letter) }),
    ),
  };
}

function toDeadLetterMessage(d: DeadLetter): pb.DeadLetter {
  return {
    id: d.id,
    provider: d.provider,
    storefrontId: d.storefrontId,
    providerEventId: d.providerEventId,
    eventType: d.eventType,
    error: d.error,
    attempts: d.attempts,
    receivedAt: d.receivedAt,
    lastAttemptAt: d.lastAttemptAt,
    kind: d.kind === 'event' ? pb.DeadLetterKind.DEAD_LETTER_KIND_EVENT : pb.DeadLetterKind.DEAD_LETTER_KIND_WEBHOOK,
    eventId: d.eventId ?? '',
    eventKey: d.eventKey ?? '',
  };
}
