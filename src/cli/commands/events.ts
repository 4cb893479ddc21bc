import { ListEventsResponse } from '../../gen/billing/v1/event';
import { type Flags, UsageError } from '../args';
import type { CommandGroup } from '../command';
import { eventJson, eventLine } from '../event-line';
import { tailEvents, type TailOptions } from '../event-tail';
import { printJson, printTable, time } from '../output';
import { fetchPages, printNextPage, readPaging } from '../paging';

/** Without --page-size a history shows this many events: one aggregate's whole life, usually. */
const DEFAULT_EVENTS_PAGE = 500;

export const events: CommandGroup = {
  async list({ client, flags, out }) {
    const aggregateId = flags.optional('aggregate');
    const storefrontId = flags.optional('storefront');
    const type = flags.optional('type');
    const paging = readPaging(flags);
    flags.done(2);
    const page = await fetchPages(paging, out, async (pageSize, pageToken) => {
      const r = await client.api.events.listEvents({
        storefrontId,
        aggregateId,
        types: type ? [type] : [],
        pageSize: pageSize || DEFAULT_EVENTS_PAGE,
        pageToken,
      });
      return { items: r.events, nextPageToken: r.nextPageToken };
    });
    if (out.json)
      return printJson(out, ListEventsResponse.toJSON({ events: page.items, nextPageToken: page.nextPageToken }));
    printTable(
      out,
      ['TIME', 'SEQ', 'TYPE', 'AGGREGATE', 'ACTOR', 'ID'],
      page.items.map((e) => [time(e.occurredAt) ?? '', e.sequence.toString(), e.type, e.aggregateId, e.actor, e.id]),
    );
    printNextPage(out, page.nextPageToken);
  },
  /** The events on Kafka as they arrive; needs no API key, only the brokers. */
  async tail({ flags, out }) {
    const options = tailOptions(flags, process.env);
    flags.done(2);
    await tailEvents(options, (event) => out.line(out.json ? eventJson(event) : eventLine(event)));
  },
};

function tailOptions(flags: Flags, env: NodeJS.ProcessEnv): TailOptions {
  const brokerList = flags.optional('brokers') || env.BILLING_KAFKA_BROKERS || env.KAFKA_BROKERS || '127.0.0.1:9092';
  const brokers = brokerList
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new UsageError(`--brokers takes host:port[,host:port] (got '${brokerList}')`);
  return {
    brokers,
    topicPrefix: flags.optional('topic-prefix') || env.BILLING_TOPIC_PREFIX || env.KAFKA_TOPIC_PREFIX || 'billing',
    fromBeginning: flags.switch('from-beginning'),
    storefrontId: flags.optional('storefront'),
    aggregateId: flags.optional('aggregate'),
    types: flags.list('type'),
    count: flags.integer('count', 1),
    idleSeconds: flags.integer('idle-seconds', 1),
  };
}
