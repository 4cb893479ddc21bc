import { failedPrecondition, notFound } from '../../domain/errors';
import type { Clock } from '../../ports/clock.port';
import type { DeadLetter, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import { pageOf, readPage } from './pagination';

/**
 * Webhooks that failed processing after their retries, and events Kafka refused for good: listed, and retried on
 * request (a webhook goes back in the inbox; a parked event, and with it the events of its key, back to the relay).
 */
export class DeadLetterUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    /** Called after a retry is queued, so the inbox worker (or the relay) picks it up now. */
    private readonly onRequeued: (kind: DeadLetter['kind']) => void = () => undefined,
  ) {}

  async list(filter: { storefrontId: string; provider: string }, pageSize: number, pageToken: string) {
    const page = readPage(pageSize, pageToken);
    const items = await this.uow.reads.inbox.listDeadLetters(
      { storefrontId: filter.storefrontId || undefined, provider: filter.provider || undefined },
      { size: page.size + 1, afterId: page.after },
    );
    return pageOf(items, page, (d) => d.id);
  }

  async retry(id: string, ctx: CallContext): Promise<DeadLetter> {
    const retried = await this.uow.transaction(async (repos) => {
      const letter = id ? await repos.inbox.getDeadLetter(id, { forUpdate: true }) : undefined;
      if (!letter) throw notFound('dead letter', id, 'dead_letter_id');
      if (letter.retriedAt) throw failedPrecondition(`dead letter '${id}' was already retried`);
      const now = this.clock.now();
      if (letter.kind === 'event') await repos.events.unpark(letter.eventId!);
      await repos.inbox.requeueDeadLetter(id, now);
      await repos.audit.record({
        ...ctx,
        action: 'RetryDeadLetter',
        resourceType: 'dead_letter',
        resourceId: id,
        storefrontId: letter.storefrontId,
        details: letter.kind === 'event' ? { event_id: letter.eventId } : { provider_event_id: letter.providerEventId },
      });
      return { ...letter, retriedAt: now };
    }, ctx);
    this.onRequeued(retried.kind);
    return retried;
  }
}
