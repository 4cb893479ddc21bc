import {
  type DeadLetter,
  DeadLetterKind,
  deadLetterKindToJSON,
  ListDeadLettersResponse,
  RetryDeadLetterResponse,
} from '../../gen/billing/v1/event';
import { UsageError } from '../args';
import type { CommandGroup } from '../command';
import { enumName, printFields, printJson, printTable, time } from '../output';
import { fetchPages, printNextPage, readPaging } from '../paging';

const KINDS: Record<string, DeadLetterKind> = {
  webhook: DeadLetterKind.DEAD_LETTER_KIND_WEBHOOK,
  event: DeadLetterKind.DEAD_LETTER_KIND_EVENT,
};

/** Webhooks that failed processing after their retries, and events Kafka refused for good. */
export const deadLetters: CommandGroup = {
  async list({ client, flags, out }) {
    const storefrontId = flags.optional('storefront');
    const provider = flags.optional('provider');
    const kinds = flags.list('kind').map(kindFlag);
    const paging = readPaging(flags);
    flags.done(2);
    const page = await fetchPages(paging, out, async (pageSize, pageToken) => {
      const r = await client.api.events.listDeadLetters({ storefrontId, provider, pageSize, pageToken });
      return { items: r.deadLetters, nextPageToken: r.nextPageToken };
    });
    // ListDeadLetters has no kind filter, so --kind filters each page here (a page may show fewer than --page-size).
    const shown = kinds.length === 0 ? page.items : page.items.filter((d) => kinds.includes(d.kind));
    if (out.json) {
      return printJson(out, ListDeadLettersResponse.toJSON({ deadLetters: shown, nextPageToken: page.nextPageToken }));
    }
    printTable(
      out,
      ['ID', 'KIND', 'STOREFRONT', 'PROVIDER', 'TYPE', 'ATTEMPTS', 'LAST ATTEMPT', 'ERROR'],
      shown.map((d) => [
        d.id,
        kindName(d),
        d.storefrontId,
        d.provider,
        d.eventType,
        String(d.attempts),
        time(d.lastAttemptAt) ?? '',
        d.error,
      ]),
    );
    printNextPage(out, page.nextPageToken);
  },

  /** Puts a webhook back in the inbox, or a parked event (and the events of its key waiting behind it) back to Kafka. */
  async retry({ client, flags, out }) {
    const deadLetterId = flags.operand(2, 'dead letter id');
    flags.done(3);
    const response = await client.api.events.retryDeadLetter({ deadLetterId });
    if (out.json) return printJson(out, RetryDeadLetterResponse.toJSON(response));
    const d = response.deadLetter!;
    printFields(out, {
      'dead letter': d.id,
      kind: kindName(d),
      type: d.eventType,
      'provider event': d.providerEventId,
      event: d.eventId,
      retried: 'queued again',
    });
  },
};

function kindName(d: DeadLetter): string {
  return enumName(deadLetterKindToJSON(d.kind), 'DEAD_LETTER_KIND_').toLowerCase();
}

function kindFlag(text: string): DeadLetterKind {
  const name = text.toLowerCase();
  if (!Object.hasOwn(KINDS, name))
    throw new UsageError(`--kind must be one of ${Object.keys(KINDS).join(', ')} (got '${text}')`);
  return KINDS[name]!;
}
