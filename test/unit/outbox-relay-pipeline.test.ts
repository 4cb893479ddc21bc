import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { OutboxRelay } from '../../src/outbox/outbox-relay';
import { EventPublisher, MessagesRefusedError, OutgoingMessage } from '../../src/ports/event-publisher.port';
import type { StoredEvent } from '../../src/ports/store.port';
import type { OutboxRelayStore } from '../../src/store/outbox-relay-store';

type Row = StoredEvent & { id: string; published: boolean; parked: boolean };

/**
 * The relay's view of an outbox, in memory: the store's nextBatch semantics (oldest unpublished first, keys with a
 * parked event held back, in-flight ids left out) and marks that commit a few ticks later, so they overlap sends.
 */
class MemoryOutbox {
  rows: Row[] = [];
  log: string[] = [];
  failMarks = 0;

  add(keys: string[]): void {
    for (const key of keys) {
      const id = String(this.rows.length + 1);
      const sequence = BigInt(this.rows.filter((r) => r.key === key).length + 1);
      this.rows.push({
        id,
        eventId: `evt_${id}`,
        type: 'billing.customer.created',
        stream: 'customers',
        key,
        storefrontId: 'sf',
        tenantId: 't',
        provider: 'subotiz',
        aggregateId: key,
        sequence,
        occurredAt: new Date(0),
        payload: Buffer.from([1, 2, 3]),
        published: false,
        parked: false,
      });
    }
  }

  store(): OutboxRelayStore {
    const store = {
      lead: async () => true,
      stepDown: async () => undefined,
      nextBatch: async (limit: number, excludeIds: string[] = []) => {
        await tick();
        const parkedKeys = new Set(this.rows.filter((r) => r.parked && !r.published).map((r) => r.key));
        const batch = this.rows
          .filter((r) => !r.published && !parkedKeys.has(r.key) && !excludeIds.includes(r.id))
          .slice(0, limit);
        this.log.push(`read ${batch.map((r) => r.id).join(',')}`);
        return batch.map((r) => ({ ...r }));
      },
      markPublished: async (ids: string[]) => {
        this.log.push(`mark ${ids[0]}..${ids.at(-1)}`);
        await tick(3);
        if (this.failMarks > 0) {
          this.failMarks -= 1;
          throw new Error('database away');
        }
        for (const r of this.rows) if (ids.includes(r.id)) r.published = true;
        this.log.push(`marked ${ids[0]}..${ids.at(-1)}`);
      },
      park: async (event: { id: string }) => {
        this.rows.find((r) => r.id === event.id)!.parked = true;
        this.log.push(`park ${event.id}`);
      },
    };
    return store as unknown as OutboxRelayStore;
  }
}

/** A broker: records what it acknowledged, in order; `refuse` and `failNext` script its answers. */
class Broker implements EventPublisher {
  acked: OutgoingMessage[] = [];
  failNext = 0;
  refuse = new Set<string>();

  constructor(private readonly log: string[]) {}

  async ensureTopics(): Promise<void> {}
  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  async publish(messages: OutgoingMessage[]): Promise<void> {
    const ids = messages.map((m) => m.headers.ce_id!.slice(4));
    this.log.push(`send ${ids[0]}..${ids.at(-1)}`);
    await tick(2);
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('broker away');
    }
    if (messages.some((m) => this.refuse.has(m.headers.ce_id!))) throw new MessagesRefusedError('MESSAGE_TOO_LARGE');
    this.acked.push(...messages);
    this.log.push(`ack ${ids[0]}..${ids.at(-1)}`);
  }
}

function tick(n = 1): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < n; i++) p = p.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  return p;
}

function relayOver(outbox: MemoryOutbox, broker: Broker, batchSize = 3): OutboxRelay {
  const registry = new Registry();
  const counter = (name: string) => new Counter({ name, help: name, registers: [registry] });
  return new OutboxRelay(
    outbox.store(),
    broker,
    { topicPrefix: 't', encoding: 'protobuf', batchSize, pollIntervalMs: 5, standbyRetryMs: 5, maxBackoffMs: 5 },
    pino({ level: 'silent' }),
    { published: counter('published'), failures: counter('failures'), parked: counter('parked') },
  );
}

async function drained(outbox: MemoryOutbox, relay: OutboxRelay): Promise<void> {
  relay.start();
  for (let i = 0; i < 2000 && outbox.rows.some((r) => !r.published && !r.parked); i++) await tick();
  await relay.stop();
}

/** Each key's sequences as the broker received them, repeats dropped (what a consumer deduping on ce_id sees). */
function perKey(acked: OutgoingMessage[]): Map<string, string[]> {
  const seen = new Set<string>();
  const keys = new Map<string, string[]>();
  for (const m of acked) {
    if (seen.has(m.headers.ce_id!)) continue;
    seen.add(m.headers.ce_id!);
    keys.set(m.key, [...(keys.get(m.key) ?? []), String(Number(m.headers.ce_sequence))]);
  }
  return keys;
}

describe('OutboxRelay pipeline (next batch read during a send, marks in the background)', () => {
  it('publishes every event once and in order, reading the next batch while the current one is sent', async () => {
    const outbox = new MemoryOutbox();
    outbox.add(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    const broker = new Broker(outbox.log);
    await drained(outbox, relayOver(outbox, broker));

    expect(broker.acked.map((m) => m.headers.ce_id)).toEqual(outbox.rows.map((r) => r.eventId));
    expect(outbox.rows.every((r) => r.published)).toBe(true);
    // Batch 4..6 was read before batch 1..3 was acknowledged, and sent before 1..3's mark committed (no shared key).
    expect(outbox.log.indexOf('read 4,5,6')).toBeLessThan(outbox.log.indexOf('ack 1..3'));
    expect(outbox.log.indexOf('send 4..6')).toBeLessThan(outbox.log.indexOf('marked 1..3'));
    // Marks commit in outbox order, one at a time.
    const marks = outbox.log.filter((l) => l.startsWith('mark'));
    expect(marks).toEqual(['mark 1..3', 'marked 1..3', 'mark 4..6', 'marked 4..6', 'mark 7..7', 'marked 7..7']);
  });

  it("waits for the previous batch's mark before sending a batch that shares a key with it", async () => {
    const outbox = new MemoryOutbox();
    outbox.add(['a', 'b', 'c', 'c', 'd', 'e']);
    const broker = new Broker(outbox.log);
    await drained(outbox, relayOver(outbox, broker));

    expect(outbox.log.indexOf('marked 1..3')).toBeLessThan(outbox.log.indexOf('send 4..6'));
    expect(perKey(broker.acked).get('c')).toEqual(['1', '2']);
  });

  it("parks a refused event and holds back its key's later events, also those already read ahead", async () => {
    const outbox = new MemoryOutbox();
    outbox.add(['a', 'p', 'b', 'c', 'p', 'd', 'e']);
    const broker = new Broker(outbox.log);
    broker.refuse.add('evt_2');
    await drained(outbox, relayOver(outbox, broker));

    const ids = broker.acked.map((m) => m.headers.ce_id);
    expect(ids).not.toContain('evt_2');
    expect(ids).not.toContain('evt_5');
    expect(outbox.rows.find((r) => r.id === '2')!.parked).toBe(true);
    expect(outbox.rows.find((r) => r.id === '5')!.published).toBe(false);
    expect([...new Set(ids)].sort()).toEqual(['evt_1', 'evt_3', 'evt_4', 'evt_6', 'evt_7']);
    // The refused batch is halved at once, not sent whole a second time (Kafka writes the partitions it accepts
    // from a refused request, so every repeat is one more copy for consumers to drop).
    const sends = outbox.log.filter((l) => l.startsWith('send'));
    expect(sends.slice(0, 4)).toEqual(['send 1..3', 'send 1..2', 'send 1..1', 'send 2..2']);
  });

  it('loses nothing and keeps each key in order when a send or a mark fails mid-pipeline', async () => {
    const outbox = new MemoryOutbox();
    const keys = Array.from({ length: 20 }, (_, i) => `k${i % 4}`);
    outbox.add(keys);
    const broker = new Broker(outbox.log);
    const relay = relayOver(outbox, broker);
    relay.start();
    await tick(12);
    broker.failNext = 1;
    outbox.failMarks = 1;
    for (let i = 0; i < 2000 && outbox.rows.some((r) => !r.published); i++) await tick();
    await relay.stop();

    expect([broker.failNext, outbox.failMarks]).toEqual([0, 0]);
    expect(outbox.rows.every((r) => r.published)).toBe(true);
    const expected = new Map(['k0', 'k1', 'k2', 'k3'].map((k) => [k, ['1', '2', '3', '4', '5']]));
    expect(perKey(broker.acked)).toEqual(expected);
    // Re-sends (at least once) only ever repeat a key's events from an earlier point on, never skip ahead.
    for (const key of expected.keys()) {
      const sent = broker.acked.filter((m) => m.key === key).map((m) => Number(m.headers.ce_sequence));
      for (let i = 1; i < sent.length; i++) expect(sent[i]! <= sent[i - 1]! + 1).toBe(true);
    }
  });
});
